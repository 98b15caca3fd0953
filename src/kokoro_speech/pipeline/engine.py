"""The engine the transports speak through (api/, cli.py): one request's text → pieces → audio.

Each job has a module of its own; the engine holds what they share and runs them in order:

    loading.py    the model file, warm sessions, voices, lexicon, G2P, scheduler    Engine.load
    readiness.py  the voice named, ready when its language's G2P is installed      Engine.resolve_voice
    cast.py       who speaks each span: tags, SSML voices, aliases → voices         Engine.cast
    reading.py    text → script → cast → words → sentences → phonemes → pieces    Engine.pieces, phonemize
    work.py       the frames a request will make (learned per language), admission  Engine.open
    synthesis.py  pieces → audio through the scheduler, as an AudioStream           Engine.open → Synthesis
"""

from __future__ import annotations

import asyncio
import itertools
import math
from functools import partial
from typing import Hashable, Iterator, Mapping

from kokoro_speech.config import Settings
from kokoro_speech.errors import NothingToSay, TimestampsUnavailable
from kokoro_speech.model.voices import Voice, VoiceRegistry
from kokoro_speech.pipeline import loading
from kokoro_speech.pipeline.cast import Cast
from kokoro_speech.pipeline.readiness import describe_voices, ready_voice
from kokoro_speech.pipeline.reading import (
    DEFAULT_READING, Reading, TextReading, pieces, read_script, report, spoken_words, until_speech,
)
from kokoro_speech.pipeline.scheduler import ModelSession, Scheduler, TimedSession
from kokoro_speech.pipeline.synthesis import Synthesis, SynthesisStats
from kokoro_speech.pipeline.timestamps import Spans, Timeline
from kokoro_speech.pipeline.work import WorkEstimate, uniform_speech
from kokoro_speech.text.lexicon import Lexicon
from kokoro_speech.text.phonemize import Phonemizers
from kokoro_speech.text.ssml import Pause, Segment, Speech, Voicing, is_ssml, script, tagged, visible
from kokoro_speech.text.split import Piece

_DEFAULTS = Settings.model_fields  # an engine built by hand has the server's default limits


class Engine:
    """Engine is the server's one speaker, with 3 responsibilities:

    1. Hold what every request shares, loaded and warm (`Engine.load`): the model session(s) behind the
       scheduler, the voices, the G2P of each language, the server's lexicon, and the limits.
    2. Open a request (`open(text, voice, speed) -> Synthesis`): everything a client can get wrong (voice, its
       language's G2P, server load, nothing to say) is refused with an ApiError before the first byte; the
       request is admitted by the work it brings and its first piece is read; the `Synthesis` then yields
       float32 audio at 24 kHz piece by piece, reading the next piece while the model speaks this one.
    3. Say how it would read (`phonemize`, `pieces`, `words`) and which voices it can speak now
       (`describe_voices`), without synthesizing.

    Unlike the model session, which is language-blind (phoneme tokens + style → audio), the engine is
    language-aware: each voice reads its own language unless a request names another.
    """

    def __init__(self, model: ModelSession, voices: VoiceRegistry, phonemizers: Phonemizers,
                 scheduler: Scheduler, lexicon: Lexicon | None = None, *,
                 max_seconds: float = _DEFAULTS["max_synthesis_seconds"].default,
                 max_piece_frames: int = _DEFAULTS["max_piece_frames"].default,
                 max_pause_seconds: float = _DEFAULTS["max_pause_seconds"].default,
                 allow_voice_tags: bool = _DEFAULTS["allow_voice_tags"].default,
                 reading: TextReading = DEFAULT_READING) -> None:
        self.model = model
        self.voices = voices
        self.phonemizers = phonemizers
        self.scheduler = scheduler
        self.lexicon = lexicon or Lexicon()  # the server's custom pronunciations (--lexicon)
        self.max_seconds = max_seconds  # the longest one request may synthesize
        self.max_piece_frames = max_piece_frames  # bounds the model's memory per call
        self.max_pause_seconds = max_pause_seconds  # the longest one [pause:…] or <break> may be
        self.allow_voice_tags = allow_voice_tags  # a request that does not say reads [voice:…] tags (or not)
        self.reading = reading  # code blocks, tables and emoji: read or skipped (--code-blocks, ...)
        self.work = WorkEstimate()  # frames per character, by language and speed, learned as requests finish

    @classmethod
    def load(cls, settings: Settings, *, voices: VoiceRegistry | None = None) -> Engine:
        """The engine the settings describe, loaded and warm (pipeline/loading.py)."""
        parts = loading.load(settings, voices=voices)
        return cls(parts.model, parts.voices, parts.phonemizers, parts.scheduler, parts.lexicon,
                   max_seconds=settings.max_synthesis_seconds, max_piece_frames=settings.max_piece_frames,
                   max_pause_seconds=settings.max_pause_seconds, allow_voice_tags=settings.allow_voice_tags,
                   reading=TextReading(settings.code_blocks, settings.markdown_tables, settings.emoji))

    def warm_up(self) -> None:
        """The first runs of a session and of spaCy are the slowest: pay for them before any request."""
        self.phonemizers.warm_up(loading.WARM_UP_TEXT)
        for session in self.scheduler.sessions:
            loading.warm(session)

    def close(self) -> None:
        self.scheduler.close()

    @property
    def has_timestamps(self) -> bool:
        """Whether the model outputs durations (model/durations.py), without which there are no word times."""
        return isinstance(self.model, TimedSession) and self.model.durations_output is not None

    def resolve_voice(self, spec: str, language: str | None = None, *, caller: str | None = None) -> Voice:
        """The voice `spec` names for `caller` (a key id), reading `language` (default: the voice's); 400 when it
        cannot be read."""
        return ready_voice(self.voices, self.phonemizers, spec, language, caller=caller)

    def describe_voices(self, caller: str | None = None) -> list[dict]:
        """The voice list `caller` (a key id) may use, each saying whether this server can speak it now."""
        return describe_voices(self.voices, self.phonemizers, caller)

    def _lexicons(self, lexicon: Lexicon | None) -> list[Lexicon]:
        return [lexicon, self.lexicon] if lexicon else [self.lexicon]  # the request's wins

    def words(self, text: str, voice: Voice, lexicon: Lexicon | None = None) -> str:
        """What the G2P reads: normalized text with custom pronunciations (the request's first) marked."""
        return spoken_words(text, voice.language, self._lexicons(lexicon), self.reading)

    def cast(self, voice: str | Voice, *, aliases: Mapping[str, object] | None = None, language: str | None = None,
             caller: str | None = None) -> Cast:
        """The request's cast: `voice` (an alias of `aliases` too) and every voice its tags and SSML name, for
        `caller` (a key id), reading `language` (a letter; default: each speaker's own)."""
        return Cast(self.voices, self.phonemizers, voice, aliases=aliases, language=language, caller=caller)

    def _script(self, text: str, cast: Cast, lexicon: Lexicon | None, input_is_phonemes: bool,
                voice_tags: bool = False, voicing: Voicing | None = None,
                reading: TextReading | None = None) -> list[Segment]:
        return read_script(text, cast, self._lexicons(lexicon), max_pause=self.max_pause_seconds,
                           input_is_phonemes=input_is_phonemes, voice_tags=voice_tags, voicing=voicing,
                           reading=reading or self.reading)

    def pieces(self, text: str, voice: Voice | Cast, stats: SynthesisStats | None = None, *,
               lexicon: Lexicon | None = None, input_is_phonemes: bool = False, speed: float = 1.0,
               segments: list[Segment] | None = None, timeline: Timeline | None = None,
               voice_tags: bool = False, quick_start: bool = True) -> Iterator[Piece | Pause]:
        """The pieces the model will speak and the pauses between them, in order (pipeline/reading.py);
        `stats.characters_done` follows the progress; `timeline` (word timestamps) gets each sentence's tokens."""
        cast = voice if isinstance(voice, Cast) else self.cast(voice)
        if segments is None:
            segments = self._script(text, cast, lexicon, input_is_phonemes, voice_tags)
        yield from pieces(segments, self.phonemizers, cast.default.voice.language, speed=speed,
                          max_piece_frames=self.max_piece_frames, input_is_phonemes=input_is_phonemes,
                          on_sentence=None if stats is None else stats.sentence_read, timeline=timeline,
                          quick_start=quick_start)

    def phonemize(self, text: str, voice_spec: str, lexicon: Lexicon | None = None,
                  language: str | None = None, caller: str | None = None, *,
                  aliases: Mapping[str, object] | None = None, voice_tags: bool | None = None) -> Reading:
        """How the server reads `text` (for /phonemize): normalized text, phonemes, token count, segments."""
        if voice_tags is None:
            voice_tags = self.allow_voice_tags
        cast = self.cast(voice_spec, aliases=aliases, language=language, caller=caller)
        return report(self._script(text, cast, lexicon, False, voice_tags), self.phonemizers,
                      cast.default.voice.language)

    def ssml_as_tags(self, text: str, voice: str | None) -> str:
        """An SSML document as plain text with inline tags (Kokoro-FastAPI's /dev/ssml): words, `[pause:…]`, and
        with a `voice`, `[voice:…]` and `[rate:…]` where they change; other text as it is."""
        if not is_ssml(text):
            return text
        segments = script(text, max_pause=self.max_pause_seconds)
        if voice is None:  # Kokoro-FastAPI's: without a voice, no speaker or pace tags
            segments = [Speech(s.text) if isinstance(s, Speech) else s for s in segments]
        return tagged(segments, voice)

    async def open(self, text: str, voice_spec: str, speed: float, *, lexicon: Lexicon | None = None,
                   input_is_phonemes: bool = False, language: str | None = None, timestamps: bool = False,
                   timestamps_param: str = "timestamps", caller: str | None = None,
                   aliases: Mapping[str, object] | None = None, voice_tags: bool | None = None,
                   voicing: Voicing | None = None, reading: TextReading | None = None,
                   background: bool = False, client: Hashable = None) -> Synthesis:
        """Validate the request, admit it by the work it brings, and read its first piece; raises an ApiError
        before any audio.

        `language` (a letter of LANGUAGES) reads the text in another language than the voice's own; `caller` is
        the key id asking (another key's saved voice is not its to use), for every voice the text names too.
        `voice_tags` reads `[voice:NAME]` and `[rate:1.2]` tags (None: as the server's --allow-voice-tags says);
        `aliases` are the request's names for voices
        (usable in `voice_spec`, tags and SSML); `voicing` who speaks before the first tag (text continuing an
        earlier request's, as the WebSocket's sentences do); `reading` this request's normalization (default: the
        server's). `background` (book jobs): its model
        calls wait for every interactive one and it is never refused nor counted by admission. `client` (a key,
        an address; default: `caller`) is whose turn its model calls take: one client's requests are served in
        order, and clients take turns (pipeline/scheduler.py).
        `timestamps` makes `Synthesis.take_words` give word times; without durations from the model that is a
        400 naming `timestamps_param`, the request parameter that asked for them."""
        if timestamps and not self.has_timestamps:
            raise TimestampsUnavailable(param=timestamps_param)
        if voice_tags is None:
            voice_tags = self.allow_voice_tags
        cast = self.cast(voice_spec, aliases=aliases, language=language, caller=caller)
        voice = cast.default.voice
        # admitted or refused on the raw text's length first, so that a refusal takes no time at all
        frames, first_frames = self.work.frames(text, voice.language, speed, phonemes=input_is_phonemes,
                                                max_piece_frames=self.max_piece_frames)
        if background:
            ticket = self.scheduler.admission.background(frames, first_frames, self.max_piece_frames)
        else:
            ticket = self.scheduler.admission.admit(frames, first_frames, self.max_piece_frames,
                                                    client=caller if client is None else client)
        stats = SynthesisStats(input_characters=len(text))
        try:
            # reading SSML and normalizing 4 kB take milliseconds: off the event loop
            segments = await asyncio.to_thread(self._script, text, cast, lexicon, input_is_phonemes, voice_tags,
                                               voicing, reading)
            ticket.revise(self.work.script(segments, voice.language, speed, phonemes=input_is_phonemes,
                                           max_piece_frames=self.max_piece_frames)[0])
            uniform = None if input_is_phonemes else uniform_speech(segments, voice.language, speed)
            timeline = None
            if timestamps:
                spoken = " ".join(s.text for s in segments if isinstance(s, Speech))
                timeline = Timeline(await asyncio.to_thread(Spans, visible(text, voice_tags=voice_tags), spoken))
            items = self.pieces(text, cast, stats, input_is_phonemes=input_is_phonemes, speed=speed,
                                segments=segments, timeline=timeline, quick_start=not background)
            head = await asyncio.to_thread(until_speech, items)
            if head is None:
                raise NothingToSay()
        except BaseException:
            ticket.release()
            raise
        return Synthesis(head[0], itertools.chain(head[1:], items), voice=voice, voices=cast.voices,
                         speakers_named=cast.many, scheduler=self.scheduler,
                         ticket=ticket, stats=stats, timeline=timeline, background=background,
                         max_seconds=math.inf if background else self.max_seconds,
                         on_finished=None if uniform is None else partial(self.work.observe, *uniform))

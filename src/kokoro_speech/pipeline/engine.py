"""The engine the transports speak through (api/, cli.py): one request's text → pieces → audio.

Each job has a module of its own; the engine holds what they share and runs them in order:

    loading.py    the model file, warm sessions, voices, lexicon, G2P, scheduler    Engine.load
    readiness.py  the voice named, ready when its language's G2P is installed      Engine.resolve_voice
    reading.py    text → script → words → sentences → phonemes → pieces           Engine.pieces, phonemize
    work.py       the frames a request will make, for admission                    Engine.open
    synthesis.py  pieces → audio through the scheduler, as an AudioStream           Engine.open → Synthesis
"""

from __future__ import annotations

import asyncio
import itertools
import math
from typing import Iterator

from kokoro_speech.config import Settings
from kokoro_speech.errors import NothingToSay, TimestampsUnavailable
from kokoro_speech.model.voices import Voice, VoiceRegistry
from kokoro_speech.pipeline import loading
from kokoro_speech.pipeline.readiness import describe_voices, ready_voice
from kokoro_speech.pipeline.reading import Reading, pieces, read_script, report, spoken_words, until_speech
from kokoro_speech.pipeline.scheduler import ModelSession, Scheduler, TimedSession
from kokoro_speech.pipeline.synthesis import Synthesis, SynthesisStats
from kokoro_speech.pipeline.timestamps import Spans, Timeline
from kokoro_speech.pipeline.work import estimate_frames, estimate_script
from kokoro_speech.text.lexicon import Lexicon
from kokoro_speech.text.phonemize import Phonemizers
from kokoro_speech.text.ssml import Pause, Segment, Speech, visible
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
                 max_pause_seconds: float = _DEFAULTS["max_pause_seconds"].default) -> None:
        self.model = model
        self.voices = voices
        self.phonemizers = phonemizers
        self.scheduler = scheduler
        self.lexicon = lexicon or Lexicon()  # the server's custom pronunciations (--lexicon)
        self.max_seconds = max_seconds  # the longest one request may synthesize
        self.max_piece_frames = max_piece_frames  # bounds the model's memory per call
        self.max_pause_seconds = max_pause_seconds  # the longest one [pause:…] or <break> may be

    @classmethod
    def load(cls, settings: Settings, *, voices: VoiceRegistry | None = None) -> Engine:
        """The engine the settings describe, loaded and warm (pipeline/loading.py)."""
        parts = loading.load(settings, voices=voices)
        return cls(parts.model, parts.voices, parts.phonemizers, parts.scheduler, parts.lexicon,
                   max_seconds=settings.max_synthesis_seconds, max_piece_frames=settings.max_piece_frames,
                   max_pause_seconds=settings.max_pause_seconds)

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
        return spoken_words(text, voice.language, self._lexicons(lexicon))

    def _script(self, text: str, voice: Voice, lexicon: Lexicon | None, input_is_phonemes: bool) -> list[Segment]:
        return read_script(text, voice.language, self._lexicons(lexicon), max_pause=self.max_pause_seconds,
                           input_is_phonemes=input_is_phonemes)

    def pieces(self, text: str, voice: Voice, stats: SynthesisStats | None = None, *,
               lexicon: Lexicon | None = None, input_is_phonemes: bool = False, speed: float = 1.0,
               segments: list[Segment] | None = None, timeline: Timeline | None = None,
               quick_start: bool = True) -> Iterator[Piece | Pause]:
        """The pieces the model will speak and the pauses between them, in order (pipeline/reading.py);
        `stats.characters_done` follows the progress; `timeline` (word timestamps) gets each sentence's tokens."""
        if segments is None:
            segments = self._script(text, voice, lexicon, input_is_phonemes)
        yield from pieces(segments, self.phonemizers, voice.language, speed=speed,
                          max_piece_frames=self.max_piece_frames, input_is_phonemes=input_is_phonemes,
                          on_sentence=None if stats is None else stats.sentence_read, timeline=timeline,
                          quick_start=quick_start)

    def phonemize(self, text: str, voice_spec: str, lexicon: Lexicon | None = None,
                  language: str | None = None, caller: str | None = None) -> Reading:
        """How the server reads `text` (for /phonemize): normalized text, phonemes, token count, segments."""
        voice = self.resolve_voice(voice_spec, language, caller=caller)
        return report(self._script(text, voice, lexicon, False), self.phonemizers, voice.language)

    async def open(self, text: str, voice_spec: str, speed: float, *, lexicon: Lexicon | None = None,
                   input_is_phonemes: bool = False, language: str | None = None, timestamps: bool = False,
                   timestamps_param: str = "timestamps", caller: str | None = None,
                   background: bool = False) -> Synthesis:
        """Validate the request, admit it by the work it brings, and read its first piece; raises an ApiError
        before any audio.

        `language` (a letter of LANGUAGES) reads the text in another language than the voice's own; `caller` is
        the key id asking (another key's saved voice is not its to use). `background` (book jobs): its model
        calls wait for every interactive one and it is never refused nor counted by admission.
        `timestamps` makes `Synthesis.take_words` give word times; without durations from the model that is a
        400 naming `timestamps_param`, the request parameter that asked for them."""
        if timestamps and not self.has_timestamps:
            raise TimestampsUnavailable(param=timestamps_param)
        voice = self.resolve_voice(voice_spec, language, caller=caller)
        # admitted or refused on the raw text's length first, so that a refusal takes no time at all
        frames, first_frames = estimate_frames(text, voice.language, speed, phonemes=input_is_phonemes,
                                               max_piece_frames=self.max_piece_frames)
        admit = self.scheduler.admission.background if background else self.scheduler.admission.admit
        ticket = admit(frames, first_frames, self.max_piece_frames)
        stats = SynthesisStats(input_characters=len(text))
        try:
            # reading SSML and normalizing 4 kB take milliseconds: off the event loop
            segments = await asyncio.to_thread(self._script, text, voice, lexicon, input_is_phonemes)
            ticket.revise(estimate_script(segments, voice.language, speed, phonemes=input_is_phonemes,
                                          max_piece_frames=self.max_piece_frames)[0])
            timeline = None
            if timestamps:
                spoken = " ".join(s.text for s in segments if isinstance(s, Speech))
                timeline = Timeline(await asyncio.to_thread(Spans, visible(text), spoken))
            items = self.pieces(text, voice, stats, input_is_phonemes=input_is_phonemes, speed=speed,
                                segments=segments, timeline=timeline, quick_start=not background)
            head = await asyncio.to_thread(until_speech, items)
            if head is None:
                raise NothingToSay()
        except BaseException:
            ticket.release()
            raise
        return Synthesis(head[0], itertools.chain(head[1:], items), voice=voice, scheduler=self.scheduler,
                         ticket=ticket, stats=stats, timeline=timeline, background=background,
                         max_seconds=math.inf if background else self.max_seconds)

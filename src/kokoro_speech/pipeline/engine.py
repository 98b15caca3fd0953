"""Text → pieces → audio, as an async iterator the API streams from.

`Engine.open` checks everything a client can get wrong (voice, language, server load, nothing to say)
before the first byte is sent; the stream then phonemizes the next piece while the current one is
synthesized and yields each piece's audio the moment it exists.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import AsyncIterator, Callable, Iterator

import numpy as np

from kokoro_speech.audio.stitch import pause, silence, trim, trim_bounds
from kokoro_speech.config import Settings
from kokoro_speech.errors import InvalidParameter, NothingToSay, TimestampsUnavailable, UnsupportedLanguage
from kokoro_speech.kokoro import (
    ENGLISH, FRAMES_PER_TOKEN, LANGUAGES, SAMPLE_RATE, SAMPLES_PER_FRAME, STYLE_SIZE, to_token_ids,
)
from kokoro_speech.model.session import KokoroModel, usable_cores
from kokoro_speech.model.durations import with_durations
from kokoro_speech.model.voices import Voice, VoiceRegistry, load_voices
from kokoro_speech.model.weights import fast_model, resolve_model
from kokoro_speech.pipeline.admission import Admission, Ticket
from kokoro_speech.pipeline.scheduler import Scheduler, Session
from kokoro_speech.pipeline.timestamps import Spans, Timeline, WordTime
from kokoro_speech.text.lexicon import Lexicon
from kokoro_speech.text.normalize import Reading, normalize_for
from kokoro_speech.text.phonemize import Phonemizers
from kokoro_speech.text.ssml import MAX_RATE, MIN_RATE, Pause, Segment, Speech, script, visible
from kokoro_speech.text.split import (
    MAX_PIECE_FRAMES, Piece, budgets, plan_pieces, split_phoneme_sentences, split_sentences,
)

log = logging.getLogger(__name__)

WARM_UP_TEXT = "Kokoro is warming up."
MAX_SPOKEN_CHARACTERS = 4 * 4096  # normalized text; ordinary prose grows by a few percent at most


@dataclass
class SynthesisStats:
    """What a finished (or aborted) synthesis produced, for usage reports, metrics and logs."""

    input_characters: int
    characters_done: int = 0  # of the sentences phonemized so far
    phoneme_tokens: int = 0
    pieces: int = 0
    audio_samples: int = 0
    started: float = field(default_factory=time.perf_counter)
    first_audio: float | None = None

    @property
    def audio_seconds(self) -> float:
        return self.audio_samples / SAMPLE_RATE


WARM_UP_PHONEMES = "həlˈO wˈɜɹld."  # "hello world.": the model runs without waiting for the G2P


def _warm(session: KokoroModel) -> None:
    session(to_token_ids(WARM_UP_PHONEMES), np.zeros(STYLE_SIZE, np.float32), 1.0)


def _warm_sessions(model_path: Path, settings: Settings) -> tuple[KokoroModel, KokoroModel | None, int]:
    """The wide session (every core) and, with --share-cores, a narrow single-threaded one; each run once."""
    cores = settings.threads or usable_cores()
    model = KokoroModel(model_path, device=settings.device, threads=cores)
    _warm(model)
    narrow = None
    if settings.share_cores and settings.device == "cpu" and cores > 1:  # see scheduler.py
        narrow = KokoroModel(model_path, device=settings.device, threads=1)
        _warm(narrow)
    return model, narrow, cores


def _speak(session: Session, *, tokens: list[int], style: np.ndarray, speed: float) -> np.ndarray:
    return session(tokens, style, speed)


def _until_speech(pieces: Iterator[Piece | Pause]) -> list[Piece | Pause] | None:
    """The leading pauses and the first piece to speak; None when nothing at all is spoken."""
    head: list[Piece | Pause] = []
    for item in pieces:
        head.append(item)
        if isinstance(item, Piece):
            return head
    return None


def _span_speed(speed: float, rate: float) -> float:
    """The request's speed times an SSML span's rate, within the model's usable range."""
    return min(MAX_RATE, max(MIN_RATE, speed * rate))


def _speak_timed(session: Session, *, tokens: list[int], style: np.ndarray, speed: float,
                 durations: list[np.ndarray]) -> np.ndarray:
    """The audio, as the scheduler expects; the durations for word timestamps go into `durations`."""
    audio, frames = session.timed(tokens, style, speed)  # type: ignore[attr-defined]
    durations.append(frames)
    return audio


def _read_phonemes(timeline: Timeline, sentence: str) -> str:
    """Phoneme input: each of its words is a word of its own."""
    return timeline.read(sentence, sentence, None)


class SynthesisTimeout(Exception):
    """A request ran past --max-synthesis-seconds; its stream is cut off (the client sees an error)."""


class Synthesis:
    """One request's audio: iterate it for float32 chunks at 24 kHz; `stats` fills in as it goes.

    It holds its admission ticket until it ends, is closed, or is dropped unstarted (a client gone before
    the first byte), so no path leaks one.
    """

    def __init__(self, chunks: AsyncIterator[np.ndarray], stats: SynthesisStats, ticket: Ticket,
                 words: list[WordTime] | None = None) -> None:
        self._chunks = chunks
        self._ticket = ticket
        self.stats = stats
        self._words = words  # with timestamps: filled with each piece's items before its audio is yielded

    def take_words(self) -> list[WordTime]:
        """The word timestamps made since the last call (all of them no later than their audio's chunk);
        empty unless the synthesis was opened with `timestamps`."""
        if not self._words:
            return []
        taken, self._words[:] = list(self._words), []
        return taken

    def __aiter__(self) -> AsyncIterator[np.ndarray]:
        return self._chunks

    async def aclose(self) -> None:
        try:
            await self._chunks.aclose()  # type: ignore[attr-defined]
        finally:
            self._ticket.release()

    def __del__(self) -> None:
        self._ticket.release()


class Engine:
    def __init__(self, model: KokoroModel, voices: VoiceRegistry, phonemizers: Phonemizers,
                 scheduler: Scheduler, lexicon: Lexicon | None = None, *, max_seconds: float = 600.0,
                 max_piece_frames: int = MAX_PIECE_FRAMES, max_pause_seconds: float = 10.0,
                 reading: Reading | None = None) -> None:
        self.model = model
        self.voices = voices
        self.phonemizers = phonemizers
        self.scheduler = scheduler
        self.lexicon = lexicon or Lexicon()  # the server's custom pronunciations (--lexicon)
        self.max_seconds = max_seconds  # the longest one request may synthesize
        self.max_piece_frames = max_piece_frames  # bounds the model's memory per call
        self.max_pause_seconds = max_pause_seconds  # the longest one [pause:…] or <break> may be
        self.reading = reading or Reading()  # code blocks, tables and emoji: read or skipped (--code-blocks, ...)

    @classmethod
    def load(cls, settings: Settings, *, voices: VoiceRegistry | None = None) -> Engine:
        """Find and verify the weights, start the model session(s) and warm everything up.

        The sessions are built and run once on a thread (ONNX Runtime releases the GIL) while this thread
        loads the voices (unless given) and the G2P (Python): the two halves of a cold start overlap.
        """
        model_path = resolve_model(settings.model, settings.cache_dir, offline=settings.offline)
        if settings.fast_model and settings.device == "cpu":
            model_path = fast_model(model_path, settings.cache_dir)
        # the copy that also outputs each phoneme's duration, for word timestamps (audio bit-identical)
        model_path = with_durations(model_path, settings.cache_dir)
        started = time.perf_counter()
        with ThreadPoolExecutor(1, thread_name_prefix="engine-load") as pool:
            sessions = pool.submit(_warm_sessions, model_path, settings)
            if voices is None:
                voices = load_voices(settings)
            lexicon = Lexicon.load(settings.lexicon) if settings.lexicon is not None else None
            phonemizers = Phonemizers()
            phonemizers.warm_up(WARM_UP_TEXT)
            model, narrow, cores = sessions.result()
        admission = Admission(max_requests=settings.max_queued_requests,
                              first_audio_seconds=settings.max_first_audio_seconds,
                              finish_seconds=settings.max_request_seconds)
        scheduler = Scheduler(model, admission=admission, narrow=narrow, cores=cores)
        log.info("engine loaded and warm in %.2f s", time.perf_counter() - started)
        return cls(model, voices, phonemizers, scheduler, lexicon, max_seconds=settings.max_synthesis_seconds,
                   max_piece_frames=settings.max_piece_frames, max_pause_seconds=settings.max_pause_seconds,
                   reading=Reading(settings.code_blocks, settings.markdown_tables, settings.emoji))

    def warm_up(self) -> None:
        """The first runs of a session and of spaCy are the slowest: pay for them before any request."""
        self.phonemizers.warm_up(WARM_UP_TEXT)
        for session in self.scheduler.sessions:
            _warm(session)

    def close(self) -> None:
        self.scheduler.close()

    def resolve_voice(self, spec: str, language: str | None = None) -> Voice:
        """The voice `spec` names, reading `language` (default: the voice's); 400 when it cannot be read."""
        voice = self.voices.resolve(spec, language)
        missing = self.phonemizers.missing(voice.language)
        if missing:
            name = LANGUAGES[voice.language].name
            raise UnsupportedLanguage(
                f"voice '{spec}' reads {name}, whose G2P packages this server lacks: run `{missing}` (or install "
                "kokoro-speech[cjk]) and restart the server; GET /v1/audio/voices says which voices are ready",
                param="voice" if language is None else "lang_code")
        return voice

    def describe_voices(self) -> list[dict]:
        """The voice list, each saying whether this server can speak it now (and if not, what to install)."""
        described = self.voices.describe()
        for voice in described:
            missing = self.phonemizers.missing(voice["language_letter"])
            voice["ready"] = missing is None
            if missing:
                voice["requires"] = missing
        return described

    def _g2p(self, voice: Voice) -> Callable[[str], str]:
        return partial(self.phonemizers.phonemize, language=voice.language)

    def _read(self, sentence: str, *, timeline: Timeline, language: str) -> str:
        return timeline.read(sentence, *self.phonemizers.read(sentence, language))

    @property
    def has_timestamps(self) -> bool:
        """Whether the model outputs durations (model/durations.py), without which there are no word times."""
        return getattr(self.model, "durations_output", None) is not None

    def words(self, text: str, voice: Voice, lexicon: Lexicon | None = None) -> str:
        """What the G2P reads: normalized text with custom pronunciations (the request's first) marked."""
        british = voice.language == "b" if voice.language in ENGLISH else None  # None: not English
        words = normalize_for(text, voice.language, self.reading)
        if lexicon:
            words = lexicon.apply(words, british)
        return self.lexicon.apply(words, british)

    def script(self, text: str, voice: Voice, lexicon: Lexicon | None = None, *,
               input_is_phonemes: bool = False) -> list[Segment]:
        """The request's spoken spans and exact pauses, in order: SSML read (input starting with <speak>),
        `[pause:1.5s]` markers cut out, each span's text normalized (phonemes are kept as they are)."""
        segments = script(text, max_pause=self.max_pause_seconds, ssml=False if input_is_phonemes else None)
        if input_is_phonemes:
            return segments
        read = [s if isinstance(s, Pause) else Speech(self.words(s.text, voice, lexicon), s.rate) for s in segments]
        spoken = sum(len(s.text) for s in read if isinstance(s, Speech))
        if spoken > MAX_SPOKEN_CHARACTERS:  # e.g. 4,096 digits read one by one: minutes of audio
            raise InvalidParameter(
                f"input reads aloud as {spoken} characters of words; the limit is {MAX_SPOKEN_CHARACTERS}",
                param="input", code="input_too_long")
        return read

    def pieces(self, text: str, voice: Voice, stats: SynthesisStats | None = None, *,
               lexicon: Lexicon | None = None, input_is_phonemes: bool = False, speed: float = 1.0,
               segments: list[Segment] | None = None, timeline: Timeline | None = None) -> Iterator[Piece | Pause]:
        """The pieces the model will speak and the pauses between them, in order, each piece within the frame
        budget at its speed; `stats.characters_done` follows the progress; `timeline` (word timestamps) gets
        each sentence's tokens.

        With `input_is_phonemes`, `text` is already Kokoro phonemes: only cut into pieces, never read.
        """
        if segments is None:
            segments = self.script(text, voice, lexicon, input_is_phonemes=input_is_phonemes)
        phonemize: Callable[[str], str]
        first = True
        for segment in segments:
            if isinstance(segment, Pause):
                yield segment
                continue
            if input_is_phonemes:
                sentences_of, phonemize = split_phoneme_sentences(segment.text), str
                if timeline is not None:
                    phonemize = partial(_read_phonemes, timeline)
            else:
                sentences_of, phonemize = split_sentences(segment.text), self._g2p(voice)
                if timeline is not None:
                    phonemize = partial(self._read, timeline=timeline, language=voice.language)

            def sentences(sentences_of: list[str] = sentences_of) -> Iterator[str]:
                for sentence in sentences_of:
                    yield sentence
                    if stats is not None:
                        stats.characters_done += len(sentence) + 1

            span_speed = _span_speed(speed, segment.rate)
            first_budget, max_budget = budgets(span_speed, self.max_piece_frames)
            # only the request's first piece is short (for a quick start); a later span's need not be
            yield from plan_pieces(sentences(), phonemize, first_budget=first_budget if first else max_budget,
                                   max_budget=max_budget, speed=span_speed)
            first = False

    def estimate_frames(self, words: str, language: str, speed: float, *, phonemes: bool) -> tuple[float, float]:
        """The audio frames a request will make in all and in its first piece, before any of it is read."""
        tokens = len(words) * (1.0 if phonemes else LANGUAGES[language].tokens_per_character)
        first_budget, _ = budgets(speed, self.max_piece_frames)
        per_token = FRAMES_PER_TOKEN / speed
        return tokens * per_token, min(tokens, first_budget * 3 / 2) * per_token

    def _estimate(self, segments: list[Segment], language: str, speed: float, phonemes: bool) -> tuple[float, float]:
        frames, first_frames = 0.0, None
        for segment in segments:
            if isinstance(segment, Speech):
                total, first = self.estimate_frames(segment.text, language, _span_speed(speed, segment.rate),
                                                    phonemes=phonemes)
                frames += total
                first_frames = first if first_frames is None else first_frames
        return frames, first_frames or 0.0

    def phonemize(self, text: str, voice_spec: str, lexicon: Lexicon | None = None,
                  language: str | None = None) -> tuple[str, str, int, list[dict]]:
        """How the server reads `text` (for /phonemize): the normalized text and the phonemes the model would
        get (pauses written as `[pause:…]` markers, which input_is_phonemes accepts), their token count, and
        the spans and pauses one by one (SSML's rates included)."""
        voice = self.resolve_voice(voice_spec, language)
        normalized, phonemes, tokens, segments = [], [], 0, []
        for segment in self.script(text, voice, lexicon):
            if isinstance(segment, Pause):
                marker = f"[pause:{segment.seconds:g}s]"
                normalized.append(marker)
                phonemes.append(marker)
                segments.append({"type": "pause", "seconds": segment.seconds})
                continue
            pieces = list(plan_pieces(split_sentences(segment.text), self._g2p(voice)))
            read = " ".join(p.phonemes for p in pieces)
            tokens += sum(p.token_count for p in pieces)
            normalized.append(segment.text)
            phonemes.append(read)
            segments.append({"type": "speech", "text": segment.text, "phonemes": read, "rate": segment.rate})
        if not tokens:
            raise NothingToSay()
        return " ".join(normalized), " ".join(p for p in phonemes if p), tokens, segments

    async def open(self, text: str, voice_spec: str, speed: float, *, lexicon: Lexicon | None = None,
                   input_is_phonemes: bool = False, language: str | None = None,
                   timestamps: str | None = None) -> Synthesis:
        """Validate the request, admit it by the work it brings, and prepare its first piece; raises an
        ApiError before any audio.

        `language` (a letter of LANGUAGES) reads the text in another language than the voice's own.
        `timestamps` (the request parameter that asked for them) makes `Synthesis.take_words` give word times."""
        if timestamps is not None and not self.has_timestamps:
            raise TimestampsUnavailable(param=timestamps)
        voice = self.resolve_voice(voice_spec, language)
        # admitted or refused on the raw text's length first, so that a refusal takes no time at all
        frames, first_frames = self.estimate_frames(text, voice.language, speed, phonemes=input_is_phonemes)
        ticket = self.scheduler.admission.admit(frames, first_frames, self.max_piece_frames)
        stats = SynthesisStats(input_characters=len(text))
        try:
            # reading SSML and normalizing 4 kB take milliseconds: off the event loop
            segments = await asyncio.to_thread(self.script, text, voice, lexicon, input_is_phonemes=input_is_phonemes)
            ticket.revise(self._estimate(segments, voice.language, speed, input_is_phonemes)[0])
            timeline = None
            if timestamps is not None:
                spoken = " ".join(s.text for s in segments if isinstance(s, Speech))
                timeline = Timeline(await asyncio.to_thread(Spans, visible(text), spoken))
            pieces = self.pieces(text, voice, stats, input_is_phonemes=input_is_phonemes, speed=speed,
                                 segments=segments, timeline=timeline)
            head = await asyncio.to_thread(_until_speech, pieces)
            if head is None:
                raise NothingToSay()
        except BaseException:
            ticket.release()
            raise
        rest = itertools.chain(head[1:], pieces)
        found: list[WordTime] | None = [] if timeline is not None else None
        return Synthesis(self._stream(head[0], rest, voice, ticket, stats, timeline, found), stats, ticket, found)

    async def _stream(self, piece: Piece | Pause | None, pieces: Iterator[Piece | Pause], voice: Voice,
                      ticket: Ticket, stats: SynthesisStats, timeline: Timeline | None = None,
                      found: list[WordTime] | None = None) -> AsyncIterator[np.ndarray]:
        try:
            while piece is not None:
                if time.perf_counter() - stats.started > self.max_seconds:
                    raise SynthesisTimeout(f"synthesis passed its limit of {self.max_seconds:g} s; stopped")
                if isinstance(piece, Pause):  # exact silence, never synthesized
                    for zeros in silence(piece.seconds):
                        stats.audio_samples += zeros.size
                        yield zeros
                    piece = await asyncio.to_thread(next, pieces, None)
                    continue
                # phonemize the next piece on a thread while the model speaks this one
                upcoming = asyncio.ensure_future(asyncio.to_thread(next, pieces, None))
                tokens = to_token_ids(piece.phonemes)
                style = voice.style_for(len(tokens))
                durations: list[np.ndarray] = []
                call = partial(_speak, tokens=tokens, style=style, speed=piece.speed)
                if timeline is not None:
                    call = partial(_speak_timed, tokens=tokens, style=style, speed=piece.speed, durations=durations)
                try:
                    spoken = await self.scheduler.run(call, first=stats.pieces == 0)
                    ticket.progress(spoken.size / SAMPLES_PER_FRAME)
                    audio = trim(spoken)
                    if timeline is not None and found is not None:  # this piece's words, before its audio
                        found += timeline.piece(piece.phonemes, durations[0], trim_bounds(spoken),
                                                stats.audio_samples)
                except BaseException:
                    upcoming.add_done_callback(lambda f: f.cancelled() or f.exception())
                    raise
                stats.pieces += 1
                stats.phoneme_tokens += len(tokens)
                stats.audio_samples += audio.size
                if stats.first_audio is None:
                    stats.first_audio = time.perf_counter()
                yield audio
                following = await upcoming
                if isinstance(following, Piece):  # before an explicit pause, that pause alone
                    gap = pause(piece.boundary, piece.speed)
                    stats.audio_samples += gap.size
                    yield gap
                piece = following
            if timeline is not None and found is not None:
                found += timeline.finish()
        finally:
            ticket.release()

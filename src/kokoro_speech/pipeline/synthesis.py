"""One request's audio as it is made: pieces in, float32 chunks at 24 kHz out, each piece read while the one
before it is spoken.

`Synthesis` is the `AudioStream` every transport consumes: iterate it for audio, take the word times made so far,
close it. Its loop: an explicit pause is zeros; a piece goes to the model through the scheduler, is trimmed, timed
(with timestamps) and yielded; the pause its boundary calls for follows it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from functools import partial
from typing import AsyncIterator, Iterator, Protocol

import numpy as np

from kokoro_speech.audio.stitch import pause, silence, trim, trim_bounds
from kokoro_speech.kokoro import SAMPLE_RATE, SAMPLES_PER_FRAME, to_token_ids
from kokoro_speech.model.voices import Voice
from kokoro_speech.pipeline.admission import Ticket
from kokoro_speech.pipeline.scheduler import ModelSession, Scheduler, TimedSession
from kokoro_speech.pipeline.timestamps import Timeline, WordTime
from kokoro_speech.text.ssml import Pause
from kokoro_speech.text.split import Piece


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

    def sentence_read(self, sentence: str) -> None:
        self.characters_done += len(sentence) + 1


class AudioStream(Protocol):
    """What a transport streams (api/streaming.py): one `Synthesis`, or a turn's syntheses stitched together
    (pipeline/incremental.py)."""

    stats: SynthesisStats

    def __aiter__(self) -> AsyncIterator[np.ndarray]:
        """float32 chunks at 24 kHz, in order."""
        ...

    def take_words(self) -> list[WordTime]:
        """The word times made since the last call, none later than the chunk just yielded (empty without
        timestamps)."""
        ...

    async def aclose(self) -> None:
        """Stop early (the client left); the request's resources are released."""
        ...


class SynthesisTimeout(Exception):
    """A request ran past --max-synthesis-seconds; its stream is cut off (the client sees an error)."""


@dataclass(frozen=True)
class Spoken:
    """One piece as the model said it: its trimmed audio and the words it completes (with timestamps)."""

    audio: np.ndarray
    words: list[WordTime]


def _speak(session: ModelSession, *, tokens: list[int], style: np.ndarray, speed: float) -> np.ndarray:
    return session(tokens, style, speed)


def _speak_timed(session: TimedSession, *, tokens: list[int], style: np.ndarray, speed: float,
                 durations: list[np.ndarray]) -> np.ndarray:
    """The audio, as the scheduler expects; the durations for word timestamps go into `durations`."""
    audio, frames = session.timed(tokens, style, speed)
    durations.append(frames)
    return audio


class Synthesis:
    """One request's audio: iterate it for float32 chunks at 24 kHz; `stats` fills in as it goes.

    It holds its admission ticket until it ends, is closed, or is dropped unstarted (a client gone before
    the first byte), so no path leaks one.
    """

    def __init__(self, first: Piece | Pause, rest: Iterator[Piece | Pause], *, voice: Voice, scheduler: Scheduler,
                 ticket: Ticket, stats: SynthesisStats, timeline: Timeline | None, max_seconds: float,
                 voices: dict[str, Voice] | None = None, speakers_named: bool = False,
                 background: bool = False) -> None:
        self.stats = stats
        self._background = background  # a book job's: its model calls wait for people's
        self._voice = voice  # the request's; a piece naming a speaker of `voices` is said in that voice
        self._voices = voices or {}
        self._speakers_named = speakers_named  # more than one voice speaks: word times say whose they are
        self._scheduler = scheduler
        self._ticket = ticket
        self._timeline = timeline  # with timestamps: each piece's words go to _words before its audio is yielded
        self._words: list[WordTime] = []
        self._max_seconds = max_seconds
        self._chunks = self._audio(first, rest)

    def take_words(self) -> list[WordTime]:
        taken, self._words = self._words, []
        return taken

    def __aiter__(self) -> AsyncIterator[np.ndarray]:
        return self._chunks

    async def aclose(self) -> None:
        try:
            await self._chunks.aclose()
        finally:
            self._ticket.release()

    def __del__(self) -> None:
        self._ticket.release()

    async def _audio(self, item: Piece | Pause | None, rest: Iterator[Piece | Pause]) -> AsyncIterator[np.ndarray]:
        try:
            while item is not None:
                if time.perf_counter() - self.stats.started > self._max_seconds:
                    raise SynthesisTimeout(f"synthesis passed its limit of {self._max_seconds:g} s; stopped")
                if isinstance(item, Pause):  # exact silence, never synthesized
                    for zeros in silence(item.seconds):
                        yield self._counted(zeros)
                    item = await asyncio.to_thread(next, rest, None)
                    continue
                # read (phonemize) the next piece on a thread while the model speaks this one
                upcoming = asyncio.ensure_future(asyncio.to_thread(next, rest, None))
                try:
                    spoken = await self._speak(item)
                except BaseException:
                    upcoming.add_done_callback(lambda f: f.cancelled() or f.exception())
                    raise
                self._words += spoken.words  # this piece's words, before its audio
                if self.stats.first_audio is None:
                    self.stats.first_audio = time.perf_counter()
                yield self._counted(spoken.audio)
                following = await upcoming
                if isinstance(following, Piece):  # before an explicit pause, that pause alone
                    yield self._counted(pause(item.boundary, item.speed))
                item = following
            if self._timeline is not None:
                self._words += self._timeline.finish()
        finally:
            self._ticket.release()

    async def _speak(self, piece: Piece) -> Spoken:
        """Phonemes → audio: one model call through the scheduler (a request's first piece ahead of others')."""
        tokens = to_token_ids(piece.phonemes)
        style = self._voices.get(piece.voice, self._voice).style_for(len(tokens))
        durations: list[np.ndarray] = []
        call = partial(_speak, tokens=tokens, style=style, speed=piece.speed)
        if self._timeline is not None:
            call = partial(_speak_timed, tokens=tokens, style=style, speed=piece.speed, durations=durations)
        samples = await self._scheduler.run(call, first=self.stats.pieces == 0, background=self._background)
        self._ticket.progress(samples.size / SAMPLES_PER_FRAME)
        audio = trim(samples)
        words = [] if self._timeline is None else self._timeline.piece(
            piece.phonemes, durations[0], trim_bounds(samples), self.stats.audio_samples,
            voice=piece.voice if self._speakers_named else None)
        self.stats.pieces += 1
        self.stats.phoneme_tokens += len(tokens)
        return Spoken(audio, words)

    def _counted(self, audio: np.ndarray) -> np.ndarray:
        self.stats.audio_samples += audio.size
        return audio

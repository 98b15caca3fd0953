"""One request's audio as it is made: pieces in, float32 chunks at 24 kHz out, each piece read while the one
before it is spoken.

`Synthesis` is the `AudioStream` every transport consumes: iterate it for audio, take the word times made so far,
close it. Its loop: an explicit pause is zeros; a piece goes to the model through the scheduler, is trimmed, timed
(with timestamps) and yielded; the pause its boundary calls for follows it. The next piece's model call is queued
as soon as that piece is read, while this one runs: the scheduler then runs it next unless another client's turn
comes first (one request, or one client's requests, never leave the model idle between their own pieces).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from functools import partial
from typing import AsyncIterator, Callable, Iterator, Protocol

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


def _abandon(task: asyncio.Future) -> None:
    """Drop a read or model call left behind when the request ended early (a read ahead may have queued its
    piece's model call: that one too); their outcomes no longer matter."""
    def dropped(done: asyncio.Future) -> None:
        if not done.cancelled() and done.exception() is None and isinstance(done.result(), tuple):
            ahead = done.result()[1]  # a read ahead's (item, call)
            if isinstance(ahead, asyncio.Future):
                _abandon(ahead)

    task.add_done_callback(dropped)
    task.cancel()


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
                 background: bool = False, on_finished: Callable[[float], None] | None = None) -> None:
        self.stats = stats
        self._on_finished = on_finished  # told the frames the model made, once the whole request was spoken
        self._calls = 0  # model calls queued so far
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
        call: asyncio.Task | None = None  # the model call of `item`, when queued ahead
        upcoming: asyncio.Future | None = None
        try:
            while item is not None:
                if time.perf_counter() - self.stats.started > self._max_seconds:
                    raise SynthesisTimeout(f"synthesis passed its limit of {self._max_seconds:g} s; stopped")
                if isinstance(item, Pause):  # exact silence, never synthesized
                    for zeros in silence(item.seconds):
                        yield self._counted(zeros)
                    item = await asyncio.to_thread(next, rest, None)
                    continue
                call = call or self._queue(item)
                # read (phonemize) the next piece on a thread while the model speaks this one, and queue its call
                upcoming = asyncio.ensure_future(self._read_ahead(rest))
                spoken = self._spoken(item, *await call)
                self._words += spoken.words  # this piece's words, before its audio
                if self.stats.first_audio is None:
                    self.stats.first_audio = time.perf_counter()
                yield self._counted(spoken.audio)
                following, call = await upcoming
                upcoming = None
                if isinstance(following, Piece):  # before an explicit pause, that pause alone
                    yield self._counted(pause(item.boundary, item.speed))
                item = following
            if self._timeline is not None:
                self._words += self._timeline.finish()
            if self._on_finished is not None:
                self._on_finished(self._ticket.frames_done)
        finally:
            self._ticket.release()
            for pending in (upcoming, call):
                if pending is not None:
                    _abandon(pending)

    async def _read_ahead(self, rest: Iterator[Piece | Pause]) -> tuple[Piece | Pause | None, asyncio.Task | None]:
        """The next item, and for a piece its model call, queued at once (behind this request's running one)."""
        following = await asyncio.to_thread(next, rest, None)
        return following, self._queue(following) if isinstance(following, Piece) else None

    def _queue(self, piece: Piece) -> asyncio.Task:
        """Phonemes → audio: one model call through the scheduler (a leading request's first piece ahead of
        others'), as a task that gives the samples and, with timestamps, each token's frames."""
        tokens = to_token_ids(piece.phonemes)
        style = self._voices.get(piece.voice, self._voice).style_for(len(tokens))
        durations: list[np.ndarray] = []
        call = partial(_speak, tokens=tokens, style=style, speed=piece.speed)
        if self._timeline is not None:
            call = partial(_speak_timed, tokens=tokens, style=style, speed=piece.speed, durations=durations)
        first, self._calls = self._calls == 0, self._calls + 1

        async def run() -> tuple[np.ndarray, list[np.ndarray]]:
            return await self._scheduler.run(call, first=first, background=self._background,
                                             ticket=self._ticket), durations

        return asyncio.ensure_future(run())

    def _spoken(self, piece: Piece, samples: np.ndarray, durations: list[np.ndarray]) -> Spoken:
        """A piece's samples trimmed, and timed from the audio before it (so in order)."""
        self._ticket.progress(samples.size / SAMPLES_PER_FRAME)
        audio = trim(samples)
        words = [] if self._timeline is None else self._timeline.piece(
            piece.phonemes, durations[0], trim_bounds(samples), self.stats.audio_samples,
            voice=piece.voice if self._speakers_named else None)
        self.stats.pieces += 1
        self.stats.phoneme_tokens += len(to_token_ids(piece.phonemes))
        return Spoken(audio, words)

    def _counted(self, audio: np.ndarray) -> np.ndarray:
        self.stats.audio_samples += audio.size
        return audio

"""Speech from text that arrives while it is spoken (Wyoming's streaming synthesis, the WebSocket route).

Text goes into a `TextBuffer`; each unit it completes is spoken by `Engine.open` like any request (admitted on
its own, so admission, the scheduler's turns and the metrics see it), in order, while more text comes in.
Units that completed while the one before was spoken are joined up to a sentence end: fewer, longer model
calls read more naturally, and the first unit still starts at once.
"""

from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass, replace
from typing import AsyncIterator, Awaitable, Callable, Mapping

import numpy as np

from kokoro_speech.audio.stitch import pause
from kokoro_speech.errors import ApiError, InvalidParameter, NothingToSay, TimestampsUnavailable
from kokoro_speech.kokoro import MAX_INPUT_CHARACTERS, SAMPLE_RATE
from kokoro_speech.pipeline.engine import Engine
from kokoro_speech.pipeline.synthesis import Synthesis, SynthesisStats
from kokoro_speech.pipeline.timestamps import WordTime
from kokoro_speech.text.incremental import TextBuffer, Unit
from kokoro_speech.text.ssml import Voicing, voicing_after


MAX_CHARACTERS = MAX_INPUT_CHARACTERS  # one message's text, and text buffered with no end


@dataclass
class Utterance:
    unit: Unit
    synthesis: Synthesis
    lead: np.ndarray  # the pause before it: after a sentence or a clause (empty for the first)
    starts_sentence: bool


class IncrementalSpeech:
    def __init__(self, engine: Engine, voice: str, speed: float = 1.0, language: str | None = None, *,
                 timestamps: bool = False, timestamps_param: str = "timestamps", caller: str | None = None,
                 voice_tags: bool | None = None, aliases: Mapping[str, object] | None = None) -> None:
        # a bad voice, alias or language is refused before any text
        engine.cast(voice, aliases=aliases, language=language, caller=caller)
        if timestamps and not engine.has_timestamps:
            raise TimestampsUnavailable(param=timestamps_param)
        self.engine = engine
        self.voice, self.speed, self.language, self.timestamps = voice, speed, language, timestamps
        self.timestamps_param, self.caller = timestamps_param, caller
        self.voice_tags = engine.allow_voice_tags if voice_tags is None else voice_tags
        self.aliases = aliases
        self._voicing = Voicing()  # who speaks at the end of the text spoken so far (with voice tags)
        self.stats = SynthesisStats(input_characters=0)  # all utterances together, as they finish
        self._buffer = TextBuffer()
        self._units: collections.deque[Unit] = collections.deque()
        self._arrived = asyncio.Event()
        self._ended = False

    def append(self, text: str) -> None:
        if len(text) > MAX_CHARACTERS:
            raise InvalidParameter(f"text is {len(text)} characters long; send at most {MAX_CHARACTERS} at a time",
                                   param="text", code="input_too_long")
        self.stats.input_characters += len(text)
        self._units.extend(self._buffer.append(text))
        if self._buffer.pending > MAX_CHARACTERS:  # no sentence or clause end in sight: speak it as it is
            self.flush()
        self._arrived.set()

    def flush(self) -> None:
        """Speak what is buffered now, even mid-sentence."""
        unit = self._buffer.flush()
        if unit is not None:
            self._units.append(unit)
        self._arrived.set()

    def end(self) -> None:
        self.flush()
        self._ended = True

    async def _next(self) -> Unit | None:
        while not self._units:
            if self._ended:
                return None
            self._arrived.clear()
            await self._arrived.wait()
        unit = self._units.popleft()
        text = unit.text
        while not unit.ends_sentence and self._units:
            following = self._units.popleft()
            # spaces for the whitespace between: the joined text keeps the input's character positions
            text += " " * (following.start - unit.start - len(unit.text)) + following.text
            unit = Unit(text, following.ends_sentence, unit.start)
        return unit

    async def utterances(self, on_error: Callable[[ApiError], Awaitable[None]]) -> AsyncIterator[Utterance]:
        """Each unit's synthesis, in order, until `end()`; a unit refused (429, say) goes to `on_error` and the
        rest are still spoken. Iterate each synthesis (or close it) before asking for the next."""
        previous: Unit | None = None
        while (unit := await self._next()) is not None:
            try:
                voicing = self._voicing
                if self.voice_tags:  # a tag holds until the next one, whichever sentence it is in
                    self._voicing = voicing_after(unit.text, voicing)
                synthesis = await self.engine.open(unit.text, self.voice, self.speed, language=self.language,
                                                   timestamps=self.timestamps,
                                                   timestamps_param=self.timestamps_param, caller=self.caller,
                                                   voice_tags=self.voice_tags, aliases=self.aliases,
                                                   voicing=voicing)
            except NothingToSay:  # punctuation alone, say
                continue
            except ApiError as exc:
                await on_error(exc)
                continue
            boundary = None if previous is None else "sentence" if previous.ends_sentence else "clause"
            lead = np.zeros(0, np.float32) if boundary is None else pause(boundary, self.speed)
            yield Utterance(unit, synthesis, lead, previous is None or previous.ends_sentence)
            self._count(synthesis.stats, lead.size)
            previous = unit

    def _count(self, done: SynthesisStats, lead_samples: int) -> None:
        self.stats.phoneme_tokens += done.phoneme_tokens
        self.stats.pieces += done.pieces
        self.stats.audio_samples += done.audio_samples + lead_samples
        if self.stats.first_audio is None:
            self.stats.first_audio = done.first_audio

    def synthesis(self, on_error: Callable[[ApiError], Awaitable[None]]) -> StitchedSynthesis:
        """All of it as one synthesis, pauses included, for the encoders that stream a Synthesis."""
        return StitchedSynthesis(self, on_error)


class StitchedSynthesis:
    """The utterances as one `AudioStream`: float32 chunks at 24 kHz, and word times on the whole turn's clock,
    indexed into all the text appended."""

    def __init__(self, speech: IncrementalSpeech, on_error: Callable[[ApiError], Awaitable[None]]) -> None:
        self.stats = speech.stats
        self._words: list[WordTime] = []
        self._chunks = self._stitch(speech, on_error)

    def __aiter__(self) -> AsyncIterator[np.ndarray]:
        return self._chunks

    def take_words(self) -> list[WordTime]:
        taken, self._words = self._words, []
        return taken

    async def aclose(self) -> None:
        await self._chunks.aclose()

    async def _stitch(self, speech: IncrementalSpeech, on_error) -> AsyncIterator[np.ndarray]:
        samples = 0  # of the turn so far
        async for utterance in speech.utterances(on_error):
            synthesis = utterance.synthesis
            try:
                if utterance.lead.size:
                    samples += utterance.lead.size
                    yield utterance.lead
                seconds, start = samples / SAMPLE_RATE, utterance.unit.start
                async for chunk in synthesis:
                    self._words += [replace(w, start_time=w.start_time + seconds, end_time=w.end_time + seconds,
                                            start_index=w.start_index + start, end_index=w.end_index + start)
                                    for w in synthesis.take_words()]
                    samples += chunk.size
                    yield chunk
            finally:
                await synthesis.aclose()

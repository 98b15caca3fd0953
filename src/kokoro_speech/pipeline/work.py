"""The work a request brings, in audio frames, estimated from its text before any of it is read: what admission
(pipeline/admission.py) weighs to admit or refuse it at once, first on the raw input, then on its script.

How many frames a character becomes depends much on the language (a Mandarin character is a syllable, an
English letter a fraction of one; Hindi's script reads longer than its length suggests) and on the speed (slow
speech stretches the pauses and the pads around each piece more than the words: at 0.25 a character makes
~5x its frames at 1, not 4x). So `WorkEstimate` starts from priors measured on this model per language, and
learns from every request spoken to its end what a character of that language at that speed really made.
"""

from __future__ import annotations

import math
import threading

from kokoro_speech.kokoro import FRAMES_PER_TOKEN, LANGUAGES
from kokoro_speech.pipeline.reading import span_speed
from kokoro_speech.text.ssml import Segment, Speech
from kokoro_speech.text.split import budgets

# Below speed 1 frames grow faster than 1/speed (measured: ×4.4-5.8 at 0.25 depending on the language)
SLOW_STRETCH = 0.2  # frames ∝ speed^-(1 + this) below speed 1
_LEARNING = 0.3  # weight of each finished request in the running estimates (exponential moving averages)
_BUCKETS_PER_OCTAVE = 2  # speeds learned apart: 0.25, 0.35, 0.5, 0.71, 1, 1.41, 2 ...


def prior_frames_per_character(language: str, speed: float) -> float:
    """The measured prior: frames one character of `language` makes at `speed`."""
    stretch = speed ** -SLOW_STRETCH if speed < 1 else 1.0
    return LANGUAGES[language].frames_per_character * stretch / speed


class WorkEstimate:
    """Frames per character by language and speed: the priors, corrected by what finished requests made
    (thread-safe). A speed band never seen yet takes its language's correction learned at other speeds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._learned: dict[tuple[str, int], float] = {}  # (language, speed band) → frames×speed per character
        self._bias: dict[str, float] = {}  # language → what was made ÷ the prior, at any speed

    @staticmethod
    def _band(speed: float) -> int:
        return round(math.log2(speed) * _BUCKETS_PER_OCTAVE)

    def per_character(self, language: str, speed: float) -> float:
        with self._lock:
            learned = self._learned.get((language, self._band(speed)))
            if learned is not None:
                return learned / speed
            return prior_frames_per_character(language, speed) * self._bias.get(language, 1.0)

    def observe(self, language: str, speed: float, characters: int, frames: float) -> None:
        """A request of `characters` characters of `language` at `speed` made `frames` frames in all."""
        if characters < 20 or frames <= 0 or language not in LANGUAGES:  # a word or two says little
            return
        made = frames / characters
        with self._lock:
            key = (language, self._band(speed))
            before = self._learned.get(key)
            self._learned[key] = made * speed if before is None else before + _LEARNING * (made * speed - before)
            ratio, bias = made / prior_frames_per_character(language, speed), self._bias.get(language)
            self._bias[language] = ratio if bias is None else bias + _LEARNING * (ratio - bias)

    def frames(self, words: str, language: str, speed: float, *, phonemes: bool,
               max_piece_frames: int) -> tuple[float, float]:
        """The audio frames `words` will make in all and in its first piece."""
        first_budget, _ = budgets(speed, max_piece_frames)
        per_token = FRAMES_PER_TOKEN / speed * (speed ** -SLOW_STRETCH if speed < 1 else 1.0)
        total = len(words) * (per_token if phonemes else self.per_character(language, speed))
        return total, min(total, first_budget * 3 / 2 * per_token)

    def script(self, segments: list[Segment], language: str, speed: float, *, phonemes: bool,
               max_piece_frames: int) -> tuple[float, float]:
        """The same for a script, each span at its own rate (pauses cost no model time)."""
        frames, first_frames = 0.0, None
        for segment in segments:
            if isinstance(segment, Speech):
                total, first = self.frames(segment.text, segment.language or language,
                                           span_speed(speed, segment.rate), phonemes=phonemes,
                                           max_piece_frames=max_piece_frames)
                frames += total
                first_frames = first if first_frames is None else first_frames
        return frames, first_frames or 0.0


def uniform_speech(segments: list[Segment], language: str, speed: float) -> tuple[str, float, int] | None:
    """(language, speed, characters) of a script read in one language at one speed, what `WorkEstimate.observe`
    can learn from; None for a script that mixes them."""
    spans = {(s.language or language, span_speed(speed, s.rate)) for s in segments if isinstance(s, Speech)}
    if len(spans) != 1:
        return None
    (here, at), = spans
    return here, at, sum(len(s.text) for s in segments if isinstance(s, Speech))

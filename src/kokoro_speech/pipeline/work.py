"""The work a request brings, in audio frames, estimated from its text before any of it is read: what admission
(pipeline/admission.py) weighs to admit or refuse it at once, first on the raw input, then on its script."""

from __future__ import annotations

from kokoro_speech.kokoro import FRAMES_PER_TOKEN, LANGUAGES
from kokoro_speech.pipeline.reading import span_speed
from kokoro_speech.text.ssml import Segment, Speech
from kokoro_speech.text.split import budgets


def estimate_frames(words: str, language: str, speed: float, *, phonemes: bool,
                    max_piece_frames: int) -> tuple[float, float]:
    """The audio frames `words` will make in all and in its first piece."""
    tokens = len(words) * (1.0 if phonemes else LANGUAGES[language].tokens_per_character)
    first_budget, _ = budgets(speed, max_piece_frames)
    per_token = FRAMES_PER_TOKEN / speed
    return tokens * per_token, min(tokens, first_budget * 3 / 2) * per_token


def estimate_script(segments: list[Segment], language: str, speed: float, *, phonemes: bool,
                    max_piece_frames: int) -> tuple[float, float]:
    """The same for a script, each span at its own rate (pauses cost no model time)."""
    frames, first_frames = 0.0, None
    for segment in segments:
        if isinstance(segment, Speech):
            total, first = estimate_frames(segment.text, segment.language or language, span_speed(speed, segment.rate),
                                           phonemes=phonemes, max_piece_frames=max_piece_frames)
            frames += total
            first_frames = first if first_frames is None else first_frames
    return frames, first_frames or 0.0

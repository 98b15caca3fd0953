"""Joining pieces of audio so the seams cannot be heard.

Each piece's own leading and trailing silence is trimmed (keeping a little padding, with a short fade),
then a pause sized by the boundary is inserted: a reader's breath after a sentence, less after a clause,
almost none inside one.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from kokoro_speech.kokoro import SAMPLE_RATE

PAUSE_SECONDS = {"sentence": 0.30, "clause": 0.12, "word": 0.02}
_THRESHOLD_DB = -42.0  # relative to the piece's peak: well under quiet consonants such as /f/ and /θ/
_PAD_SECONDS = 0.04
_FADE_SECONDS = 0.005
_FRAME = 240  # 10 ms


def trim(audio: np.ndarray) -> np.ndarray:
    """The audio without its leading and trailing silence, padded and faded at both ends."""
    if audio.size < _FRAME:
        return audio
    start, end = trim_bounds(audio)
    out = audio[start:end].copy()
    fade = min(int(_FADE_SECONDS * SAMPLE_RATE), out.size // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        out[:fade] *= ramp
        out[-fade:] *= ramp[::-1]
    return out


def trim_bounds(audio: np.ndarray) -> tuple[int, int]:
    """Where `trim` cuts `audio`: the samples [start, end) it keeps (word timestamps shift by `start`)."""
    if audio.size < _FRAME:
        return 0, audio.size
    frames = audio[: audio.size // _FRAME * _FRAME].reshape(-1, _FRAME)
    level = np.sqrt(np.mean(frames**2, axis=1) + 1e-12)
    peak = float(np.max(np.abs(audio))) or 1.0
    loud = np.nonzero(20 * np.log10(level / peak) > _THRESHOLD_DB)[0]
    if loud.size == 0:
        return 0, 0
    pad = int(_PAD_SECONDS * SAMPLE_RATE)
    return max(0, loud[0] * _FRAME - pad), min(audio.size, (loud[-1] + 1) * _FRAME + pad)


def pause(boundary: str, speed: float) -> np.ndarray:
    """Silence for the pause after a piece that ends at `boundary`."""
    return np.zeros(int(PAUSE_SECONDS[boundary] / speed * SAMPLE_RATE), dtype=np.float32)


def silence(seconds: float) -> Iterator[np.ndarray]:
    """An explicit pause (`[pause:2s]`, `<break>`): exactly `seconds` of zeros, a second at a time, so that a
    long pause never sits in memory whole."""
    remaining = round(seconds * SAMPLE_RATE)
    while remaining > 0:
        chunk = min(remaining, SAMPLE_RATE)
        remaining -= chunk
        yield np.zeros(chunk, dtype=np.float32)

"""Output gain (`volume_multiplier`) with a soft limiter, so loud settings saturate smoothly instead of clipping.

Stateless per sample, so streamed chunks need no look-ahead: below the knee the gain is exact (RMS scales by the
multiplier), above it peaks bend towards full scale and never pass it.
"""

from __future__ import annotations

import numpy as np

MIN_VOLUME, MAX_VOLUME = 0.1, 4.0
KNEE = 0.9  # the level up to which the gain is linear; the last 10% of full scale absorbs the peaks


def apply_volume(samples: np.ndarray, volume: float) -> np.ndarray:
    """`samples` times `volume`, peaks above the knee compressed with tanh so that |out| < 1. At volume 1 the
    samples pass exactly unless one would clip (the model's rare peak over full scale is bent, not cut)."""
    if volume == 1.0 and float(np.abs(samples).max(initial=0.0)) < 1.0:
        return samples
    out = samples * np.float32(volume)
    over = np.abs(out) > KNEE
    if over.any():
        excess = np.abs(out[over]) - KNEE
        out[over] = np.sign(out[over]) * (KNEE + (1 - KNEE) * np.tanh(excess / (1 - KNEE)))
    return out

"""Changing the sample rate of a stream of float32 chunks, with FFmpeg's resampler (libswresample, via PyAV).

The resampler keeps its filter state between chunks, so a stream resampled piece by piece has no seams;
`flush` returns the samples its filter still holds at the end.
"""

from __future__ import annotations

import av
import numpy as np

from kokoro_speech.kokoro import SAMPLE_RATE

SAMPLE_RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000)


class Resampler:
    """Float32 mono at `rate_in` → float32 mono at `rate_out`."""

    def __init__(self, rate_out: int, rate_in: int = SAMPLE_RATE) -> None:
        self.rate_in, self.rate_out = rate_in, rate_out
        self._swr = av.AudioResampler(format="flt", layout="mono", rate=rate_out)
        self._pts = 0

    @staticmethod
    def _joined(frames: list[av.AudioFrame]) -> np.ndarray:
        parts = [f.to_ndarray().reshape(-1) for f in frames]
        return np.concatenate(parts).astype(np.float32, copy=False) if parts else np.zeros(0, np.float32)

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        if samples.size == 0:
            return samples
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples, np.float32).reshape(1, -1), format="flt",
                                           layout="mono")
        frame.sample_rate = self.rate_in
        frame.pts = self._pts
        self._pts += samples.size
        return self._joined(self._swr.resample(frame))

    def flush(self) -> np.ndarray:
        return self._joined(self._swr.resample(None))

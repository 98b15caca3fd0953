"""Piece boundaries on the real model: no clicks, no doubled or missing silence, even loudness."""

from __future__ import annotations

import asyncio

import numpy as np

from kokoro_speech.audio.stitch import PAUSE_SECONDS
from kokoro_speech.kokoro import SAMPLE_RATE

TEXT = ("The first words come quickly. Then the sentences grow longer, so that each one is ready before the "
        "last has finished playing. A listener should hear one steady voice, with a natural pause after each "
        "sentence and no clicks at the seams. That is the whole point of this test, and nothing more.")


def chunks_of(engine, text: str) -> list[np.ndarray]:
    async def collect() -> list[np.ndarray]:
        synthesis = await engine.open(text, "af_heart", 1.0)
        return [chunk async for chunk in synthesis]

    return asyncio.run(collect())


def silence_runs(audio: np.ndarray, threshold: float = 1e-3) -> list[float]:
    """Lengths in seconds of stretches of near-silence (10 ms frames)."""
    frames = np.abs(audio[: audio.size // 240 * 240]).reshape(-1, 240).max(axis=1) < threshold
    runs, length = [], 0
    for quiet in frames:
        if quiet:
            length += 1
        elif length:
            runs.append(length * 0.01)
            length = 0
    return runs


def test_joins_are_clean_and_pauses_are_a_readers(engine):
    chunks = chunks_of(engine, TEXT)
    speech = [c for c in chunks if np.any(c)]
    gaps = [c for c in chunks if c.size and not np.any(c)]
    assert len(speech) >= 3 and len(gaps) == len(speech) - 1, "audio and pauses alternate"
    for piece in speech:
        # edges are faded to silence: no step at a seam
        assert abs(piece[0]) < 1e-3 and abs(piece[-1]) < 1e-3
        # the piece's own silence was trimmed: none longer than a short breath at either end
        edge = int(0.15 * SAMPLE_RATE)
        assert np.abs(piece[:edge]).max() > 1e-3 and np.abs(piece[-edge:]).max() > 1e-3
    for gap in gaps:
        assert gap.size / SAMPLE_RATE <= max(PAUSE_SECONDS.values()) + 1e-6
    whole = np.concatenate(chunks)
    assert max(silence_runs(whole)) < 0.8, "no doubled silence anywhere"
    seams = np.cumsum([c.size for c in chunks])[:-1]
    assert np.abs(whole[seams] - whole[seams - 1]).max() < 1e-2, "no step (click) at any seam"
    loudness = [20 * np.log10(np.sqrt(np.mean(p**2))) for p in speech]
    assert max(loudness) - min(loudness) < 6.0, loudness

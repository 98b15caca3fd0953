"""Calibrates the faster int8 graph (src/kokoro_speech/model/fast.py): runs the original model on many voices,
speeds and texts and records each rewritten convolution's per-channel output range, into
src/kokoro_speech/data/fast-int8-ranges.npz (also the DynamicQuantizeLinear inputs' ranges, for the static
variant that bench/fast_model.py tries).

The calibration texts (the pronunciation round trip's 34 sentences and a few more) are not the ones
bench/fast_model.py judges quality on (bench/texts.py). Run: .venv/bin/python bench/calibrate_fast.py
"""

from __future__ import annotations

import random
import time

import numpy as np

from harness import floor_engine, model_file, tricky_sentences
from kokoro_speech.kokoro import to_token_ids
from kokoro_speech.model.fast import bundled_ranges, calibrate, save_ranges

EXTRA = ["Wow! Really?", "No.", "Yes, absolutely, I'd love to come along on Saturday!",
         "Hmm... let me think about that for a second.", "THIS IS AN EMERGENCY. Please evacuate the building now.",
         "One, two, three, four, five, six, seven, eight, nine, ten.", "Whispering softly, she said goodnight."]
SPEEDS = (0.7, 0.85, 1.0, 1.0, 1.15, 1.3, 1.6)


def calibration_feeds(engine) -> list[dict]:
    """One feed per piece: every English voice in turn, a speed drawn from SPEEDS (fixed seed)."""
    rng = random.Random(17)
    english = [v for v in engine.voices.ids() if v[:2] in ("af", "am", "bf", "bm")]
    feeds = []
    for i, text in enumerate(tricky_sentences() + EXTRA):
        voice = engine.resolve_voice(english[i % len(english)])
        speed = rng.choice(SPEEDS)
        for piece in engine.pieces(text, voice):
            if not hasattr(piece, "phonemes"):
                continue
            tokens = to_token_ids(piece.phonemes)
            feeds.append({"tokens": np.array([[0, *tokens, 0]], np.int64),
                          "style": voice.style_for(len(tokens)).reshape(1, -1).astype(np.float32),
                          "speed": np.array([speed], np.float32)})
    return feeds


def main() -> None:
    engine = floor_engine()
    feeds = calibration_feeds(engine)
    engine.close()
    started = time.perf_counter()
    ranges = calibrate(model_file(), feeds)
    save_ranges(bundled_ranges(), ranges)
    print(f"{len(feeds)} pieces, {len(ranges)} tensors, {time.perf_counter() - started:.0f} s -> {bundled_ranges()}")


if __name__ == "__main__":
    main()

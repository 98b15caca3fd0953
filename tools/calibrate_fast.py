"""A build step: calibrates the faster int8 graph (src/kokoro_speech/model/fast.py). Runs the original model on
many voices, speeds and texts and records each rewritten convolution's per-channel output range, into
src/kokoro_speech/data/fast-int8-ranges.npz (also the DynamicQuantizeLinear inputs' ranges, which the static
variants measured and rejected in docs/engine.md used).

The calibration texts (the pronunciation round trip's sentences and a few more) are not the ones
bench/fast_model.py judges quality on (bench/texts.py). Run: .venv/bin/python tools/calibrate_fast.py
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import numpy as np

from kokoro_speech.config import Settings
from kokoro_speech.kokoro import to_token_ids
from kokoro_speech.model.fast import bundled_ranges, calibrate, save_ranges
from kokoro_speech.model.voices import VoiceRegistry
from kokoro_speech.model.weights import embedded_voices_dir, resolve_model
from kokoro_speech.pipeline.engine import Engine

SENTENCES = Path(__file__).resolve().parents[1] / "tests" / "tricky_sentences.json"

EXTRA = ["Wow! Really?", "No.", "Yes, absolutely, I'd love to come along on Saturday!",
         "Hmm... let me think about that for a second.", "THIS IS AN EMERGENCY. Please evacuate the building now.",
         "One, two, three, four, five, six, seven, eight, nine, ten.", "Whispering softly, she said goodnight."]
SPEEDS = (0.7, 0.85, 1.0, 1.0, 1.15, 1.3, 1.6)


def calibration_feeds(engine) -> list[dict]:
    """One feed per piece: every English voice in turn, a speed drawn from SPEEDS (fixed seed)."""
    rng = random.Random(17)
    english = [v for v in engine.voices.ids() if v[:2] in ("af", "am", "bf", "bm")]
    feeds = []
    for i, text in enumerate(json.loads(SENTENCES.read_text(encoding="utf-8")) + EXTRA):
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
    settings = Settings(offline=True, _env_file=None, fast_model=False)  # only its text front end and voices
    engine = Engine.load(settings, voices=VoiceRegistry.from_dir(embedded_voices_dir()))  # no saved voices
    feeds = calibration_feeds(engine)
    engine.close()
    started = time.perf_counter()
    ranges = calibrate(resolve_model(None, settings.cache_dir, offline=True), feeds)
    save_ranges(bundled_ranges(), ranges)
    print(f"{len(feeds)} pieces, {len(ranges)} tensors, {time.perf_counter() - started:.0f} s -> {bundled_ranges()}")


if __name__ == "__main__":
    main()

"""The faster graph's weight forms on this CPU (model/fast.py): the decoder's int8 weights as they are ("s8") or
within ±64 per channel ("s7", for CPUs without VNNI) against the original graph, on the pieces of 8 benchmark
texts: bare model speed (best of 3 rounds), log-spectral distance to the original, Whisper's WER. Fills
docs/engine.md's weight-forms region. Run: .venv/bin/python bench/weight_forms.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx

from kokoro_speech.kokoro import SAMPLE_RATE, to_token_ids
from kokoro_speech.model import fast
from kokoro_speech.model.session import KokoroModel

from harness import REPO, floor_engine, load_whisper, machine, model_file, word_error_rate
from pages import fill, table
from texts import TEXTS


def main() -> None:
    engine, texts, folder = floor_engine(), TEXTS[4:20:2], tempfile.mkdtemp()
    voice = engine.resolve_voice("af_heart")
    pieces = [[to_token_ids(p.phonemes) for p in engine.pieces(text, voice)] for text in texts]
    engine.close()
    audio, speed, hear, rows = {}, {}, load_whisper(), []
    for form in ("original", "s8", "s7"):
        path = model_file() if form == "original" else Path(folder) / f"{form}.onnx"
        if form != "original":
            onnx.save(fast.rewritten(model_file(), weights_as=form), str(path))
        model, runs = KokoroModel(path), []
        for _ in range(3):
            started = time.perf_counter()
            audio[form] = [np.concatenate([model(t, voice.style_for(len(t)), 1.0) for t in text]) for text in pieces]
            runs.append(time.perf_counter() - started)
        speed[form] = sum(a.size for a in audio[form]) / SAMPLE_RATE / min(runs)
        lsd = [fast.log_spectral_distance(a, b) for a, b in zip(audio["original"], audio[form], strict=True)]
        wer = statistics.mean(word_error_rate(t, hear(a)) for t, a in zip(texts, audio[form], strict=True))
        rows.append([form, f"{speed[form]:.2f}", f"**{speed[form] / speed['original']:.2f}×**",
                     f"{statistics.mean(lsd):.2f} (max {max(lsd):.2f})", f"{wer:.1%}"])
        print(rows[-1], flush=True)
    fill(REPO / "docs" / "engine.md", only=True, forms_machine=machine(),
         forms=table(["graph", "× real time", "vs. original", "LSD to original, dB", "WER"], rows))


if __name__ == "__main__":
    main()

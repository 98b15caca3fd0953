"""Time to first audio: our server vs. the bare model (floor) vs. kokoro-onnx's create_stream (peer).

For each of the 20 texts in texts.py, in one run on one machine:
  floor  the bare ONNX Runtime session synthesizing exactly the first piece our server speaks first
  pcm    our server: POST /v1/audio/speech, response_format pcm, time to the first audio byte
  mp3    the same with mp3
  peer   kokoro-onnx 0.6.1 `create_stream` on the same model file, voice and text: time to its first chunk
plus the real-time margin (audio seconds produced per wall second after the first byte) for a 4,000-character
text. Writes docs/ttfa.md. Run: .venv/bin/python bench/ttfa.py  (needs `pip install -e ".[bench]"`)
"""

from __future__ import annotations

import os
import platform
import statistics
import time

from kokoro_speech.kokoro import SAMPLE_RATE, to_token_ids

from harness import REPO, Peer, Server, cpu_model, floor_engine, model_file, percentile
from texts import LONG_TEXT, TEXTS

VOICE = "af_heart"
PORT = 8891
REPEATS = 3
PEER_REPEATS = 1  # the peer's first chunk is a whole batch of up to 510 tokens: slow, and steady


def main() -> None:
    # The floor: the same first piece our server speaks first, on a bare session.
    engine = floor_engine()
    model, voice = engine.model, engine.resolve_voice(VOICE)
    floors, first_tokens = [], []
    for text in TEXTS:
        piece = next(engine.pieces(text, voice))
        tokens = to_token_ids(piece.phonemes)
        first_tokens.append(len(tokens))
        runs = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            model(tokens, voice.style_for(len(tokens)), 1.0)
            runs.append(time.perf_counter() - started)
        floors.append(statistics.median(runs))
    engine.close()
    del engine, model

    # The peer: kokoro-onnx's streaming API on the same file and voice.
    with Peer(model_file(), VOICE, voice.styles) as peer:
        peer.first_chunk("Warm up the session.")
        peers = [statistics.median(peer.first_chunk(t) for _ in range(PEER_REPEATS)) for t in TEXTS]

    # Ours, over HTTP, in a separate server process.
    server = Server(PORT)
    try:
        server.stream("Warm up.")
        pcm = [statistics.median(server.stream(t, "pcm")[0] for _ in range(REPEATS)) for t in TEXTS]
        mp3 = [statistics.median(server.stream(t, "mp3")[0] for _ in range(REPEATS)) for t in TEXTS]
        long_first, long_total, long_bytes = server.stream(LONG_TEXT, "pcm")
    finally:
        server.stop()
    audio_seconds = long_bytes / 2 / SAMPLE_RATE
    margin = audio_seconds / (long_total - long_first)

    write_report(floors, first_tokens, pcm, mp3, peers, long_first, long_total, audio_seconds, margin)


def write_report(floors, first_tokens, pcm, mp3, peers, long_first, long_total, audio_seconds, margin) -> None:
    ratio_floor = [p / f for p, f in zip(pcm, floors, strict=True)]
    ratio_peer = [p / q for p, q in zip(pcm, peers, strict=True)]

    def summary_row(name: str, q: float) -> str:
        cells = (pcm, mp3, floors, peers, ratio_floor, ratio_peer)
        return f"| {name} | " + " | ".join(f"{percentile(c, q):.2f}" for c in cells) + " |"
    rows = "\n".join(
        f"| {i + 1} | {len(t)} | {n} | {f:.2f} | {p:.2f} | {m:.2f} | {q:.2f} | {p / f:.2f} | {p / q:.2f} |"
        for i, (t, n, f, p, m, q) in enumerate(zip(TEXTS, first_tokens, floors, pcm, mp3, peers, strict=True)))
    import onnxruntime

    report = f"""# Time to first audio

Measured by `bench/ttfa.py` on {platform.machine()} ({cpu_model()}, {os.cpu_count()} cores), Python
{platform.python_version()}, ONNX Runtime {onnxruntime.__version__}, voice `{VOICE}`, the int8 Kokoro-82M v1.0
model, {REPEATS} runs per text (median; the peer {PEER_REPEATS}), all in one run. Seconds.

- **floor**: the bare ONNX Runtime session synthesizing exactly the first piece our server speaks first
  (`tokens` = its length in phoneme tokens).
- **pcm / mp3**: our server over HTTP on loopback, time from sending the request to the first audio byte.
- **peer**: `kokoro-onnx` 0.6.1 `create_stream` on the same model file, voice and text, time to its first chunk.

| summary | pcm | mp3 | floor | peer | pcm / floor | pcm / peer |
|---|---|---|---|---|---|---|
{summary_row("p50", 50)}
{summary_row("p95", 95)}

Targets: p50 pcm / floor ≤ 1.25, p50 pcm / peer < 0.5.

Real-time margin on the {len(LONG_TEXT)}-character text (`tests/long_text.txt`), pcm: first byte after
{long_first:.2f} s, {audio_seconds:.0f} s of audio in {long_total:.1f} s, i.e. **{margin:.2f} s of audio per wall
second after the first byte** (above 1.0: a client playing in real time never runs dry).

| # | chars | tokens | floor | pcm | mp3 | peer | pcm / floor | pcm / peer |
|---|---|---|---|---|---|---|---|---|
{rows}
"""
    out = REPO / "docs" / "ttfa.md"
    out.write_text(report)
    print(report)


if __name__ == "__main__":
    main()

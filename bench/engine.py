"""The engine benchmark: real-time factor, time to first audio, concurrency, peak memory and cold start,
each side by side with the bare-model floor and the kokoro-onnx peer, in one run on one machine.

  floor  ONNX Runtime called directly on the very token ids our server synthesizes (no text, HTTP or codec)
  ours   kokoro-speech over HTTP on loopback (a separate server process), pcm
  peer   kokoro-onnx 0.6.1 on the same model file, voice and text (`create`, and `create_stream` for TTFA)

Writes docs/benchmarks.md and docs/img/*.png. Run: .venv/bin/python bench/engine.py  (pip install -e ".[bench]")
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

from kokoro_speech.engine.model import SAMPLE_RATE, KokoroModel
from kokoro_speech.engine.scheduler import Scheduler
from kokoro_speech.engine.synthesize import Engine
from kokoro_speech.engine.voices import VoiceRegistry
from kokoro_speech.engine.weights import resolve_model
from kokoro_speech.config import Settings
from kokoro_speech.text.phonemize import Phonemizers, to_token_ids

sys.path.insert(0, str(Path(__file__).parent))
from texts import TEXTS  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
VOICES = Path(os.environ.get("KOKORO_VOICES_DIR") or REPO.parent / "shared" / "kokoro-voices" / "v1_0")
VOICE = "af_heart"
PORT = 8892
SERVER_LOG = Path(tempfile.gettempdir()) / "kokoro-bench-engine-server.log"
LENGTHS = {"short": TEXTS[3], "medium": TEXTS[12] + " " + TEXTS[13], "long": " ".join(TEXTS[14:19])}
CLIENTS = (1, 2, 4, 8)
REQUESTS_PER_CLIENT = 2
CONCURRENCY_TEXT = TEXTS[12]


# ---------------------------------------------------------------- the server under test
def start_server(extra: list[str] | None = None) -> tuple[subprocess.Popen, float]:
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "kokoro_speech", "serve", "--port", str(PORT), "--voices-dir", str(VOICES),
         "--log-level", "warning", *(extra or [])], stdout=subprocess.DEVNULL, stderr=SERVER_LOG.open("w"))
    while time.perf_counter() - started < 120:
        try:
            if httpx.get(f"http://127.0.0.1:{PORT}/health", timeout=1).status_code == 200:
                return server, time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    server.kill()
    raise RuntimeError(f"server did not become healthy; see {SERVER_LOG}")


def stop(server: subprocess.Popen) -> int:
    """Peak resident memory (kB) of the server, then stop it."""
    status = Path(f"/proc/{server.pid}/status").read_text()
    peak = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
    server.terminate()
    server.wait(timeout=60)
    return peak


def speak(text: str) -> tuple[float, float, float]:
    """(time to first byte, total time, audio seconds) of one pcm request."""
    started = time.perf_counter()
    first, size = None, 0
    body = {"input": text, "voice": VOICE, "response_format": "pcm"}
    with httpx.stream("POST", f"http://127.0.0.1:{PORT}/v1/audio/speech", json=body, timeout=900) as response:
        response.raise_for_status()
        for chunk in response.iter_raw():
            if first is None and chunk:
                first = time.perf_counter() - started
            size += len(chunk)
    return first, time.perf_counter() - started, size / 2 / SAMPLE_RATE


# ---------------------------------------------------------------- concurrency harness
def concurrent(n: int, one_request) -> tuple[float, float]:
    """(requests per minute, audio seconds per wall second) for n clients each making REQUESTS_PER_CLIENT."""
    audio: list[float] = []
    lock = threading.Lock()

    def client() -> None:
        for _ in range(REQUESTS_PER_CLIENT):
            seconds = one_request()
            with lock:
                audio.append(seconds)

    threads = [threading.Thread(target=client) for _ in range(n)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return len(audio) / wall * 60, sum(audio) / wall


def main() -> None:
    settings = Settings(voices_dir=VOICES, offline=True, _env_file=None)
    model_path = resolve_model(None, settings.cache_dir, offline=True)
    registry = VoiceRegistry.from_dir(VOICES)
    voice = registry.resolve(VOICE)
    results: dict = {"rtf": {}, "ttfa": {}, "concurrency": {}, "machine": machine()}

    # the floor: our pieces' token ids straight into ONNX Runtime
    model = KokoroModel(model_path)
    engine = Engine(model, registry, Phonemizers(), Scheduler(model, max_requests=1))
    engine.warm_up()
    piece_tokens = {name: [to_token_ids(p.phonemes) for p in engine.pieces(text, voice)]
                    for name, text in LENGTHS.items()}
    concurrency_tokens = [to_token_ids(p.phonemes) for p in engine.pieces(CONCURRENCY_TEXT, voice)]
    engine.close()

    def floor_run(pieces: list[list[int]]) -> tuple[float, float]:
        started = time.perf_counter()
        samples = sum(model(t, voice.style_for(len(t)), 1.0).size for t in pieces)
        return time.perf_counter() - started, samples / SAMPLE_RATE

    for name, pieces in piece_tokens.items():
        runs = [floor_run(pieces) for _ in range(2)]
        seconds, audio = min(runs)
        results["rtf"].setdefault(name, {})["floor"] = audio / seconds
    first = piece_tokens["medium"][0]
    results["ttfa"]["floor"] = min(floor_run([first])[0] for _ in range(3))
    for n in CLIENTS:
        results["concurrency"].setdefault(n, {})["floor"] = concurrent(n, lambda: floor_run(concurrency_tokens)[1])

    # the peer
    from kokoro_onnx import Kokoro

    with tempfile.TemporaryDirectory() as tmp:
        npz = Path(tmp) / "voices.npz"
        styles = voice.styles.reshape(510, 1, 256)
        np.savez(npz, **{VOICE: styles})
        peer = Kokoro(str(model_path), str(npz))
        peer.create("Warm up the peer.", styles)

        def peer_run(text: str) -> tuple[float, float]:
            started = time.perf_counter()
            samples, rate = peer.create(text, styles, speed=1.0, lang="en-us")
            return time.perf_counter() - started, samples.size / rate

        for name, text in LENGTHS.items():
            seconds, audio = min(peer_run(text) for _ in range(2))
            results["rtf"][name]["peer"] = audio / seconds

        async def peer_first_chunk(text: str) -> float:
            started = time.perf_counter()
            stream = peer.create_stream(text, styles, speed=1.0, lang="en-us")
            async for _ in stream:
                elapsed = time.perf_counter() - started
                await stream.aclose()
                return elapsed
            raise RuntimeError("no audio")

        results["ttfa"]["peer"] = min(asyncio.run(peer_first_chunk(LENGTHS["medium"])) for _ in range(2))
        for n in CLIENTS:
            results["concurrency"][n]["peer"] = concurrent(n, lambda: peer_run(CONCURRENCY_TEXT)[1])

    # ours, over HTTP
    server, _ = start_server()
    speak("Warm up.")
    for name, text in LENGTHS.items():
        runs = [speak(text) for _ in range(2)]
        _, seconds, audio = min(runs, key=lambda r: r[1])
        results["rtf"][name]["ours"] = audio / seconds
    results["ttfa"]["ours"] = min(speak(LENGTHS["medium"])[0] for _ in range(3))
    for n in CLIENTS:
        results["concurrency"][n]["ours"] = concurrent(n, lambda: speak(CONCURRENCY_TEXT)[2])
    results["peak_rss_mb"] = stop(server) / 1024

    # the same server with the per-core pool (a second, single-threaded session): is it worth its memory?
    server, _ = start_server(["--share-cores"])
    speak("Warm up.")
    for n in CLIENTS:
        results["concurrency"][n]["one_session"] = concurrent(n, lambda: speak(CONCURRENCY_TEXT)[2])
    results["ttfa"]["one_session"] = min(speak(LENGTHS["medium"])[0] for _ in range(3))
    results["peak_rss_one_session_mb"] = stop(server) / 1024

    # cold start: process start to the first /health 200, caches warm (after the first run)
    colds = []
    for _ in range(3):
        server, seconds = start_server()
        colds.append(seconds)
        stop(server)
    results["cold_start"] = statistics.median(colds)

    write_report(results)


def machine() -> str:
    import onnxruntime

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return (f"{cpu}, {os.cpu_count()} cores, {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} "
            f"GiB, {platform.system()} {platform.release()}, Python {platform.python_version()}, "
            f"ONNX Runtime {onnxruntime.__version__}")


def write_report(r: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    img = REPO / "docs" / "img"
    img.mkdir(parents=True, exist_ok=True)
    names = list(LENGTHS)
    systems = ("floor", "ours", "peer")
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for i, system in enumerate(systems):
        ax.bar(np.arange(len(names)) + (i - 1) * 0.27, [r["rtf"][n][system] for n in names], 0.27, label=system)
    ax.set_xticks(range(len(names)), [f"{n}\n({len(LENGTHS[n])} chars)" for n in names])
    ax.set_ylabel("× real time (higher is faster)")
    ax.set_title("Real-time factor, one client")
    ax.legend()
    fig.tight_layout()
    fig.savefig(img / "rtf.png", dpi=110)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for system in (*systems, "one_session"):
        label = "ours, --no-share-cores" if system == "one_session" else system
        ax.plot(CLIENTS, [r["concurrency"][n][system][1] for n in CLIENTS], marker="o", label=label)
    ax.set_xscale("log", base=2)
    ax.set_xticks(CLIENTS, [str(n) for n in CLIENTS])
    ax.set_xlabel("concurrent clients")
    ax.set_ylabel("audio seconds per wall second")
    ax.set_title("Aggregate throughput under concurrency")
    ax.legend()
    fig.tight_layout()
    fig.savefig(img / "concurrency.png", dpi=110)

    rtf_rows = "\n".join(
        f"| {n} ({len(LENGTHS[n])} chars) | {r['rtf'][n]['floor']:.2f} | {r['rtf'][n]['ours']:.2f} | "
        f"{r['rtf'][n]['peer']:.2f} | {r['rtf'][n]['ours'] / r['rtf'][n]['floor']:.2f} | "
        f"{r['rtf'][n]['ours'] / r['rtf'][n]['peer']:.2f} |" for n in names)
    conc_rows = "\n".join(
        f"| {n} | {r['concurrency'][n]['ours'][0]:.1f} | {r['concurrency'][n]['ours'][1]:.2f} | "
        f"{r['concurrency'][n]['one_session'][1]:.2f} | "
        f"{r['concurrency'][n]['floor'][1]:.2f} | {r['concurrency'][n]['peer'][1]:.2f} | "
        f"{r['concurrency'][n]['ours'][1] / r['concurrency'][1]['ours'][1]:.2f} | "
        f"{r['concurrency'][n]['ours'][1] / r['concurrency'][n]['floor'][1]:.2f} |" for n in CLIENTS)
    t = r["ttfa"]
    report = f"""# Benchmarks

Measured by `bench/engine.py` (time to first audio over 20 texts: `bench/ttfa.py`, [ttfa.md](ttfa.md)) on
{r['machine']}; voice `{VOICE}`, the int8 Kokoro-82M v1.0 model. Every figure below comes from one run in which
all three systems were measured one after another on the same machine:

- **floor**: ONNX Runtime called directly on the exact token ids our server synthesizes (no text processing,
  HTTP or encoding) — what the hardware gives;
- **ours**: kokoro-speech over HTTP on loopback, pcm, in its own process with default settings;
- **peer**: `kokoro-onnx` 0.6.1 (`create`; `create_stream` for time to first audio) on the same model file.

## Real-time factor (audio seconds per wall second, one client)

| text | floor | ours | peer | ours / floor | ours / peer |
|---|---|---|---|---|---|
{rtf_rows}

![real-time factor](img/rtf.png)

## Time to first audio (the medium text)

ours {t['ours']:.2f} s · floor (its first piece alone) {t['floor']:.2f} s · peer {t['peer']:.2f} s —
ours / floor **{t['ours'] / t['floor']:.2f}**, ours / peer **{t['ours'] / t['peer']:.2f}**.

## Concurrency ({REQUESTS_PER_CLIENT} requests per client, {len(CONCURRENCY_TEXT)}-character text)

| clients | ours: req/min | ours: audio s/s | ours, one session | floor | peer | ours vs. 1 client | ours / floor |
|---|---|---|---|---|---|---|---|
{conc_rows}

Audio seconds per wall second, aggregated over all clients. "ours, one session" is the same server with
`--no-share-cores` (every call on one session using both cores, one at a time). Floor and peer here are
threads sharing one two-threaded session in-process, the way a server that wraps them would.

![throughput under concurrency](img/concurrency.png)

## Memory and start-up

- Peak resident memory of the server over the whole run: **{r['peak_rss_mb']:.0f} MB**
  ({r['peak_rss_one_session_mb']:.0f} MB with `--no-share-cores`).
- Time to first audio with `--no-share-cores`: {t['one_session']:.2f} s (default: {t['ours']:.2f} s).
- Cold start (process start to the first `/health` 200, model cache warm): **{r['cold_start']:.2f} s** (median of 3).
"""
    (REPO / "docs" / "benchmarks.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()

"""The engine benchmark: real-time factor, time to first audio, concurrency, peak memory and cold start of the
server over HTTP (ours) beside the bare model on the token ids it synthesizes (floor) and kokoro-onnx 0.6.1 on the
same file (peer), in one run. Fills docs/benchmarks.md, docs/img/*.png, docs/bench/benchmarks.json.
Run: .venv/bin/python bench/engine.py [--report: the page again from the saved results] (QUICK=1: a smoke run)
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from kokoro_speech.kokoro import SAMPLE_RATE, to_token_ids

from harness import QUICK, REPO, Peer, Server, floor_engine, in_threads, machine, median_of, model_file
from pages import fill, table
from texts import TEXTS

VOICE = "af_heart"
PORT = 8892
LENGTHS = {"short": TEXTS[3], "medium": TEXTS[12] + " " + TEXTS[13], "long": " ".join(TEXTS[14:16 if QUICK else 19])}
CLIENTS = (1, 4) if QUICK else (1, 2, 4, 8)  # the page reads 1 and 4
REQUESTS_PER_CLIENT = 2
CONCURRENCY_TEXT = TEXTS[12]
RESULTS = REPO / "docs" / "bench" / "benchmarks.json"


def tries(n: int) -> range:  # n runs of a measurement (the best is kept), one in a QUICK run
    return range(1 if QUICK else n)


def concurrent(n: int, one_request) -> tuple[float, float]:
    """(requests per minute, audio seconds per wall second) for n clients each making REQUESTS_PER_CLIENT."""
    audio: list[float] = []  # appended to from threads: each append holds the GIL
    wall = in_threads(lambda: audio.extend(one_request() for _ in range(REQUESTS_PER_CLIENT)), n)
    return len(audio) / wall * 60, sum(audio) / wall


def main() -> None:
    results: dict = {"rtf": {name: {} for name in LENGTHS}, "seconds": {name: {} for name in LENGTHS}, "ttfa": {},
                     "concurrency": {n: {} for n in CLIENTS}, "refused": {n: {} for n in CLIENTS}, "machine": machine()}

    def record(system: str, name: str, seconds: float, audio: float) -> None:
        results["rtf"][name][system] = audio / seconds
        results["seconds"][name][system] = seconds

    # the floor: our pieces' token ids straight into ONNX Runtime
    engine = floor_engine()
    model, voice = engine.model, engine.resolve_voice(VOICE)
    piece_tokens = {name: [to_token_ids(p.phonemes) for p in engine.pieces(text, voice)]
                    for name, text in LENGTHS.items()}
    concurrency_tokens = [to_token_ids(p.phonemes) for p in engine.pieces(CONCURRENCY_TEXT, voice)]
    engine.close()

    def floor_run(pieces: list[list[int]]) -> tuple[float, float]:
        started = time.perf_counter()
        samples = sum(model(t, voice.style_for(len(t)), 1.0).size for t in pieces)
        return time.perf_counter() - started, samples / SAMPLE_RATE

    for name, pieces in piece_tokens.items():
        record("floor", name, *min(floor_run(pieces) for _ in tries(2)))
    results["ttfa"]["floor"] = min(floor_run([piece_tokens["medium"][0]])[0] for _ in tries(3))
    for n in CLIENTS:
        results["concurrency"][n]["floor"] = concurrent(n, lambda: floor_run(concurrency_tokens)[1])

    with Peer(model_file(), VOICE, voice.styles) as peer:
        peer.create("Warm up the peer.")
        for name, text in LENGTHS.items():
            record("peer", name, *min(peer.create(text) for _ in tries(2)))
        results["ttfa"]["peer"] = min(peer.first_chunk(LENGTHS["medium"]) for _ in tries(2))
        for n in CLIENTS:
            results["concurrency"][n]["peer"] = concurrent(n, lambda: peer.create(CONCURRENCY_TEXT)[1])

    server = Server(PORT)

    def speak(text: str) -> tuple[float, float, float]:
        first, total, size = server.stream(text)
        return first, total, size / 2 / SAMPLE_RATE

    speak("Warm up.")
    for name, text in LENGTHS.items():
        record("ours", name, *min((speak(text) for _ in tries(2)), key=lambda run: run[1])[1:])
    results["ttfa"]["ours"] = min(speak(LENGTHS["medium"])[0] for _ in tries(3))
    for n in CLIENTS:
        before = server.refused
        results["concurrency"][n]["ours"] = concurrent(n, lambda: speak(CONCURRENCY_TEXT)[2])
        results["refused"][n]["ours"] = server.refused - before
    server.stop()
    results["peak_rss_mb"] = server.peak_rss_mb

    # the same server with the per-core pool (a second, single-threaded session): is it worth its memory?
    server = Server(PORT, "--share-cores")
    speak("Warm up.")
    for n in CLIENTS:
        before = server.refused
        results["concurrency"][n]["share_cores"] = concurrent(n, lambda: speak(CONCURRENCY_TEXT)[2])
        results["refused"][n]["share_cores"] = server.refused - before
    results["ttfa"]["share_cores"] = min(speak(LENGTHS["medium"])[0] for _ in tries(3))
    server.stop()
    results["peak_rss_share_cores_mb"] = server.peak_rss_mb

    # cold start: process start to the first /health 200, caches warm (after the first run)
    def cold_start() -> float:
        with Server(PORT) as fresh:
            return fresh.cold_start

    results["cold_start"] = median_of(len(tries(3)), cold_start)

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1))
    write_report(results)


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
    ax.set(ylabel="× real time (higher is faster)", title="Real-time factor, one client")
    ax.legend()
    fig.tight_layout()
    fig.savefig(img / "rtf.png", dpi=110)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for system in (*systems, "share_cores"):
        label = "ours, --share-cores" if system == "share_cores" else system
        ax.plot(CLIENTS, [r["concurrency"][n][system][1] for n in CLIENTS], marker="o", label=label)
    ax.set_xscale("log", base=2)
    ax.set_xticks(CLIENTS, [str(n) for n in CLIENTS])
    ax.set(xlabel="concurrent clients", ylabel="audio seconds per wall second",
           title="Aggregate throughput under concurrency")
    ax.legend()
    fig.tight_layout()
    fig.savefig(img / "concurrency.png", dpi=110)

    rtf = table(["text", "floor", "ours", "peer", "ours / peer", "wall time, floor / ours",
                 "throughput, ours vs. floor"],
                [[f"{n} ({len(LENGTHS[n])} chars)", *(f"{r['rtf'][n][s]:.2f}" for s in systems),
                  f"{r['rtf'][n]['ours'] / r['rtf'][n]['peer']:.2f}",
                  f"{r['seconds'][n]['floor']:.2f} / {r['seconds'][n]['ours']:.2f} s",
                  f"**{r['seconds'][n]['floor'] / r['seconds'][n]['ours']:.2f}**"] for n in names])
    c = r["concurrency"]
    concurrency = table(
        ["clients", "ours: req/min", "ours: audio s/s", "ours, --share-cores", "floor", "peer", "ours vs. 1 client",
         "ours / floor", "429s retried (ours / share)"],
        [[n, f"{c[n]['ours'][0]:.1f}", *(f"{c[n][s][1]:.2f}" for s in ("ours", "share_cores", "floor", "peer")),
          f"{c[n]['ours'][1] / c[1]['ours'][1]:.2f}", f"{c[n]['ours'][1] / c[n]['floor'][1]:.2f}",
          f"{r['refused'][n]['ours']} / {r['refused'][n]['share_cores']}"] for n in CLIENTS])
    t = r["ttfa"]
    fill(REPO / "docs" / "benchmarks.md", machine=r["machine"], rtf=rtf, concurrency=concurrency,
         ttfa=f"""ours {t['ours']:.2f} s · floor (its first piece alone) {t['floor']:.2f} s · peer {t['peer']:.2f} s —
ours / floor **{t['ours'] / t['floor']:.2f}**, ours / peer **{t['ours'] / t['peer']:.2f}**.""",
         memory=f"""- Peak resident memory of the server over the whole run: **{r['peak_rss_mb']:.0f} MB**
  ({r['peak_rss_share_cores_mb']:.0f} MB with `--share-cores`).
- Time to first audio with `--share-cores`: {t['share_cores']:.2f} s (default: {t['ours']:.2f} s).
- Cold start (process start to the first `/health` 200, model cache warm): **{r['cold_start']:.2f} s** """
         """(median of 3).""",
         share_cores=f"""{c[4]['share_cores'][1] / c[1]['ours'][1]:.2f}× the default's one-client
  throughput, against {c[4]['ours'][1] / c[1]['ours'][1]:.2f}× by default,
  for a peak of {r['peak_rss_share_cores_mb']:.0f} MB against {r['peak_rss_mb']:.0f} MB""",
         cold_start=f"{r['cold_start']:.1f} s")


if __name__ == "__main__":
    if "--report" in sys.argv:  # rewrite docs/benchmarks.md and its plots from the saved results
        saved = json.loads(RESULTS.read_text())
        for key in ("concurrency", "refused"):
            saved[key] = {int(n): v for n, v in saved[key].items()}
        write_report(saved)
    else:
        main()

"""The faster int8 graph (issue 17): speed and quality of the shipped rewrite of the model (`fast`,
src/kokoro_speech/model/fast.py, ranges from tools/calibrate_fast.py) against the bare ONNX Runtime session on
the original int8 graph (the floor), in one run on one machine. Fills docs/engine.md's tables and figures.

Quality, on the 20 texts of bench/texts.py x 4 voices (none of them calibration texts): Whisper tiny.en word
error rate, log-spectral distance (LSD) to the original's audio, and the reference for LSD: the original against
itself with the harmonic source's phases randomised (the model's own natural variation); peaks (clipping) and
the level of the quietest frames (hiss on silence). Speed: one client's throughput over 8 texts' pieces, the first
piece of the medium text (time to first audio), 4 concurrent clients on one session, peak memory of a process
running the longest piece. The rejected variants, the ways of running concurrent clients and the profile were
measured by earlier versions of this script: docs/engine.md names the commits.
Run: .venv/bin/python bench/fast_model.py   (QUICK=1: fewer texts, a smoke test whose figures are not for
committing; --report: rewrite docs/engine.md from the saved results)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from harness import REPO, floor_engine, in_threads, load_whisper, machine, model_file, word_error_rate
from kokoro_speech.kokoro import SAMPLE_RATE, to_token_ids
from kokoro_speech.model.fast import bundled_ranges, load_ranges, log_spectral_distance, rewrite, with_phase_input
from pages import checks, fill, table
from texts import TEXTS

QUICK = bool(os.environ.get("QUICK"))
VOICES = ("af_heart", "am_michael", "bf_emma", "bm_george")
QUALITY_TEXTS = TEXTS[:4] if QUICK else TEXTS
SPEED_TEXTS = TEXTS[4:20:2][: 2 if QUICK else 8]
MEDIUM = TEXTS[12] + " " + TEXTS[13]
PARAGRAPH = " ".join(TEXTS[14:16])  # the profile's text (23 s of audio)
CONCURRENCY_TEXT = TEXTS[12]
ROUNDS = 2 if QUICK else 3
RESULTS = REPO / "docs" / "bench" / "engine.json"


def quiet_level(x: np.ndarray) -> float:
    """dBFS of the quietest tenth of 25 ms frames: hiss on silence raises it."""
    frames = x[: x.size // 600 * 600].reshape(-1, 600)
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    return float(20 * np.log10(np.percentile(rms, 10) + 1e-9))


class Model:
    def __init__(self, path: Path, threads: int = 2) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.run_options = ort.RunOptions()
        self.run_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")  # as the server

    def __call__(self, tokens: list[int], style: np.ndarray, speed: float = 1.0, **extra) -> np.ndarray:
        feed = {"tokens": np.array([[0, *tokens, 0]], np.int64), "style": style.reshape(1, -1).astype(np.float32),
                "speed": np.array([speed], np.float32), **extra}
        return self.session.run(["audio"], feed, self.run_options)[0].reshape(-1)


def speak(model, pieces, voice, **extra) -> np.ndarray:
    return np.concatenate([model(t, voice.style_for(len(t)), **extra) for t in pieces])


def peak_memory(path: Path, tokens: list[int], style: np.ndarray) -> float:
    """Peak resident memory (MB) of a fresh process that loads `path` in a two-thread session and runs the piece."""
    code = ("import os, sys, json, numpy as np; sys.path.insert(0, %r); from fast_model import Model; "
            "from harness import proc_status; m = Model(__import__('pathlib').Path(%r)); a = json.loads(sys.argv[1]); "
            "m(a['t'], np.array(a['s'], np.float32)); print(proc_status(os.getpid())['peak_rss_mb'])") % (
        str(Path(__file__).parent), str(path))
    out = subprocess.run([sys.executable, "-c", code, json.dumps({"t": tokens, "s": style.tolist()})],
                         capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    return float(out.stdout.strip().splitlines()[-1])


def concurrent(m: Model, clients: int, pieces: list[list[int]], style, passes: int = 2) -> float:
    """Audio seconds per wall second of `clients` threads at once on `m`, each reading the pieces `passes` times."""
    audio: list[float] = []

    def client() -> None:
        for _ in range(passes):
            audio.append(sum(m(t, style(len(t))).size for t in pieces) / SAMPLE_RATE)

    wall = in_threads(client, clients)  # first: the clients fill `audio`
    return sum(audio) / wall


CONV_WEIGHT = {"ConvInteger": 1, "Conv": 1, "FusedConv": 1, "ConvTranspose": 1, "QLinearConv": 3}


def op_profile(path: Path, pieces: list[list[int]], style) -> dict:
    """ONNX Runtime's profile of one pass over `pieces` (after a warm-up pass), two threads as the server: per
    operator kind its time, multiply-accumulates (convolutions, from the node's output and weight shapes) and
    bytes moved (inputs and output), and the largest convolutions."""
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = 2, 1
    options.enable_profiling, options.profile_file_prefix = True, str(Path(tempfile.mkdtemp()) / "profile")
    options.optimized_model_filepath = str(Path(options.profile_file_prefix).with_name("optimized.onnx"))
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    graph = onnx.load(options.optimized_model_filepath).graph  # the nodes as profiled, for the weights' shapes
    shapes = {i.name: list(i.dims) for i in graph.initializer}
    weight = {n.name: shapes.get(n.input[CONV_WEIGHT[n.op_type]]) for n in graph.node if n.op_type in CONV_WEIGHT}
    feeds = [{"tokens": np.array([[0, *t, 0]], np.int64), "style": style(len(t)).reshape(1, -1).astype(np.float32),
              "speed": np.array([1.0], np.float32)} for t in pieces]
    audio = sum(session.run(["audio"], f)[0].size for f in feeds + feeds) / 2 / SAMPLE_RATE
    events = json.loads(Path(session.end_profiling()).read_text())
    calls: dict[str, list] = {}
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            calls.setdefault(e["name"].removesuffix("_kernel_time"), []).append(e)
    kinds: dict[str, dict] = {}
    convs = []
    for name, es in calls.items():
        es = es[len(es) // 2:]  # the second pass
        op = es[0]["args"]["op_name"]
        seconds = sum(e["dur"] for e in es) / 1e6
        moved = sum(int(e["args"].get("activation_size", 0)) + int(e["args"].get("output_size", 0)) for e in es)
        macs = 0
        if weight.get(name):
            for e in es:
                x, y = (list(d.values())[0] for d in (e["args"]["input_type_shape"][0],
                                                      e["args"]["output_type_shape"][0]))
                macs += int(np.prod(x if op == "ConvTranspose" else y)) * int(np.prod(weight[name][1:]))
            convs.append({"node": name, "op": op, "seconds": seconds, "gmac": macs / 1e9,
                          "shape": f"{x} × {weight[name]}"})
        k = kinds.setdefault(op, {"nodes": 0, "seconds": 0.0, "gmac": 0.0, "gb": 0.0})
        k["nodes"] += 1
        k["seconds"] += seconds
        k["gmac"] += macs / 1e9
        k["gb"] += moved / 1e9
    return {"audio_seconds": audio, "kinds": kinds, "convs": sorted(convs, key=lambda c: -c["seconds"])[:6]}


def main() -> None:
    engine = floor_engine()
    voices = {name: engine.resolve_voice(name) for name in VOICES}

    def tokens(text: str, voice) -> list[list[int]]:
        return [to_token_ids(p.phonemes) for p in engine.pieces(text, voice) if hasattr(p, "phonemes")]

    quality_pieces = {v: [tokens(t, voices[v]) for t in QUALITY_TEXTS] for v in VOICES}
    speed_pieces = [p for t in SPEED_TEXTS for p in tokens(t, voices["af_heart"])]
    first_piece = tokens(MEDIUM, voices["af_heart"])[0]
    concurrency_pieces = tokens(CONCURRENCY_TEXT, voices["af_heart"])
    longest = max((p for ps in quality_pieces.values() for t in ps for p in t), key=len)
    engine.close()

    original_path = model_file()
    original = onnx.load(str(original_path))
    tmp = Path(tempfile.mkdtemp(prefix="kokoro-fast-"))
    paths = {"original": original_path, "fast": tmp / "fast.onnx"}
    onnx.save(rewrite(original, load_ranges(bundled_ranges())), str(paths["fast"]))
    onnx.save(with_phase_input(original), str(tmp / "phase.onnx"))
    del original

    results: dict = {"machine": machine(), "variants": {}, "quick": QUICK}
    models = {name: Model(path) for name, path in paths.items()}
    phase = Model(tmp / "phase.onnx")
    rng = np.random.default_rng(17)

    # ---- speed: one client, interleaved rounds, medians
    style = voices["af_heart"].style_for
    for m in models.values():
        m(first_piece, style(len(first_piece)))
    timings: dict[str, list[float]] = {name: [] for name in models}
    audio_seconds = 0.0
    for _ in range(ROUNDS):
        for name, m in models.items():
            started = time.perf_counter()
            audio_seconds = sum(m(t, style(len(t))).size for t in speed_pieces) / SAMPLE_RATE
            timings[name].append(time.perf_counter() - started)
    firsts: dict[str, list[float]] = {name: [] for name in ("original", "fast")}
    for _ in range(5):
        for name in firsts:
            started = time.perf_counter()
            models[name](first_piece, style(len(first_piece)))
            firsts[name].append(time.perf_counter() - started)

    conc = {name: {n: concurrent(models[name], n, concurrency_pieces, style) for n in (1, 4)}
            for name in ("original", "fast")}
    memory = {name: peak_memory(paths[name], longest, voices["af_heart"].style_for(len(longest)))
              for name in ("original", "fast")}
    results["speed"] = {"audio_seconds": audio_seconds, "timings": timings, "first": firsts, "concurrency": conc,
                        "peak_mb": memory, "first_piece_tokens": len(first_piece), "longest_tokens": len(longest)}

    # ---- quality
    transcribe = load_whisper()
    reference: dict[tuple[str, int], np.ndarray] = {}
    for v in VOICES:
        for i, pieces in enumerate(quality_pieces[v]):
            reference[v, i] = speak(models["original"], pieces, voices[v])
    heard = {key: transcribe(audio) for key, audio in reference.items()}
    texts = {(v, i): QUALITY_TEXTS[i] for v in VOICES for i in range(len(QUALITY_TEXTS))}

    def judge(outputs: dict) -> dict:
        return {"wer": statistics.mean(word_error_rate(texts[k], transcribe(a)) for k, a in outputs.items()),
                "lsd": statistics.mean(log_spectral_distance(reference[k], a) for k, a in outputs.items()),
                "lsd_max": max(log_spectral_distance(reference[k], a) for k, a in outputs.items()),
                "peak": max(float(np.abs(a).max()) for a in outputs.values()),
                "clipped": sum(int(np.sum(np.abs(a) >= 0.999)) for a in outputs.values()),
                "quiet_db": statistics.mean(quiet_level(a) for a in outputs.values()),
                "length_mismatch": sum(a.size != reference[k].size for k, a in outputs.items())}

    results["original"] = {"wer": statistics.mean(word_error_rate(texts[k], heard[k]) for k in reference),
                           "peak": max(float(np.abs(a).max()) for a in reference.values()),
                           "clipped": sum(int(np.sum(np.abs(a) >= 0.999)) for a in reference.values()),
                           "quiet_db": statistics.mean(quiet_level(a) for a in reference.values())}
    offsets = {k: rng.uniform(-np.pi, np.pi, (1, 1, 9)).astype(np.float32) for k in reference}
    results["phase"] = judge({(v, i): speak(phase, quality_pieces[v][i], voices[v], phase_offset=offsets[v, i])
                              for v, i in reference})
    results["variants"]["fast"] = {**judge({k: speak(models["fast"], quality_pieces[k[0]][k[1]], voices[k[0]])
                                            for k in reference}), "texts": len(reference)}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1, default=float))
    write_report(results)


def profile_main() -> None:
    """--profile: ONNX Runtime's per-operator profile of each graph on one paragraph, into the saved results."""
    engine = floor_engine()
    voice = engine.resolve_voice("af_heart")
    pieces = [to_token_ids(p.phonemes) for p in engine.pieces(PARAGRAPH, voice) if hasattr(p, "phonemes")]
    engine.close()
    original, tmp = model_file(), Path(tempfile.mkdtemp(prefix="kokoro-fast-"))
    paths = {"original": original, "fast, issue 17": tmp / "fast17.onnx", "fast": tmp / "fast.onnx"}
    for name, fewer in (("fast, issue 17", False), ("fast", True)):
        onnx.save(rewrite(onnx.load(str(original)), load_ranges(bundled_ranges()), fewer=fewer), str(paths[name]))
    saved = saved_results()
    saved["profile"] = {"machine": machine(), "chars": len(PARAGRAPH), "pieces": len(pieces),
                        **{name: op_profile(path, pieces, voice.style_for) for name, path in paths.items()}}
    RESULTS.write_text(json.dumps(saved, indent=1, default=float))
    write_report(saved)


def profile_tables(p: dict) -> str:
    """Per operator kind: share of the kernel time and the achieved rate, per graph; then the largest convolutions."""
    names = [n for n in p if isinstance(p[n], dict) and "kinds" in p[n]]
    total = {n: sum(k["seconds"] for k in p[n]["kinds"].values()) for n in names}
    ops = sorted({op for n in names for op in p[n]["kinds"]}, key=lambda op: -p[names[0]]["kinds"].get(
        op, {"seconds": 0})["seconds"])
    ops = [op for op in ops if any(p[n]["kinds"].get(op, {"seconds": 0})["seconds"] > 0.01 * total[n]
                                   for n in names)]

    def cell(n: str, op: str) -> str:
        k = p[n]["kinds"].get(op)
        if not k:
            return "–"
        rate = f"{k['gmac'] / k['seconds']:.0f} GMAC/s" if k["gmac"] else f"{k['gb'] / k['seconds']:.1f} GB/s"
        return f"{100 * k['seconds'] / total[n]:.1f}% · {k['seconds'] / p[n]['audio_seconds'] * 1e3:.0f} ms · {rate}"

    rest = {n: 100 - sum(100 * p[n]["kinds"].get(op, {"seconds": 0})["seconds"] / total[n] for op in ops)
            for n in names}
    kinds = table(["operator (nodes)", *(f"`{n}`: share · ms per s of audio · rate" for n in names)],
                  [[f"`{op}` ({' / '.join(str(p[n]['kinds'].get(op, {}).get('nodes', 0)) for n in names)})",
                    *(cell(n, op) for n in names)] for op in ops]
                  + [["the others", *(f"{rest[n]:.1f}%" for n in names)],
                     ["**all**", *(f"{total[n] / p[n]['audio_seconds'] * 1e3:.0f} ms per s of audio "
                                   f"({p[n]['audio_seconds'] / total[n]:.2f}× real time)" for n in names)]])
    convs = table(["graph", "node", "operator", "input × weight", "GMAC", "s", "GMAC/s"],
                  [[f"`{n}`", c["node"].rsplit("/", 3)[-3] + "/" + c["node"].rsplit("/", 3)[-2], c["op"],
                    c["shape"], f"{c['gmac']:.1f}", f"{c['seconds']:.3f}", f"{c['gmac'] / c['seconds']:.0f}"]
                   for n in names for c in p[n]["convs"][:4]])
    return kinds + "\n\n" + convs


def write_report(r: dict) -> None:
    s = r["speed"]
    med = {name: statistics.median(t) for name, t in s["timings"].items()}
    rows = []
    for name in ("original", "fast"):
        q = r["variants"].get(name) or {**r["original"], "lsd": 0.0, "lsd_max": 0.0,
                                        "texts": len(VOICES) * len(QUALITY_TEXTS)}
        rows.append([name, f"{s['audio_seconds'] / med[name]:.2f}", f"**{med['original'] / med[name]:.2f}×**",
                     f"{q['wer'] * 100:.1f}%", f"{q['lsd']:.2f} (max {q['lsd_max']:.2f})",
                     f"{q['peak']:.2f} / {q['clipped']}", f"{q['quiet_db']:.1f}", q["texts"]])
    p = r["phase"]
    first = {name: statistics.median(t) for name, t in s["first"].items()}
    c = s["concurrency"]
    fast = r["variants"]["fast"]
    targets = {
        "WER not worse than the original": fast["wer"] <= r["original"]["wer"] + 1e-9,
        "LSD to the original ≤ the phase-randomised original's": fast["lsd"] <= p["lsd"],
        "no clipping in the graph's raw output (no sample at ±0.999)": fast["clipped"] == 0,
        "no hiss on silence (quietest frames within 3 dB of the original's)":
            fast["quiet_db"] <= r["original"]["quiet_db"] + 3,
        "single-client throughput ≥ 1.3× the floor": med["original"] / med["fast"] >= 1.3,
        "time to first audio ≤ 0.8× the floor's first piece": first["fast"] / first["original"] <= 0.8,
        "4 concurrent clients ≥ 1.25× one client": c["fast"][4] / c["fast"][1] >= 1.25,
        "peak memory within 1,000 MB": s["peak_mb"]["fast"] <= 1000,
    }
    header = ["variant", "× real time", "vs. floor", "WER", "LSD to original, dB", "peak / clipped",
              "quietest frames, dBFS", "texts"]
    prof = r.get("profile", {})
    fill(REPO / "docs" / "engine.md", machine=r["machine"] + (" (QUICK smoke run)" if r["quick"] else ""),
         profile_machine=prof.get("machine", ""), profile=profile_tables(prof) if prof else "",
         variants=table(header, rows), checks=checks(targets), reference=f"""\
Natural variation (the LSD reference): the original against itself with the harmonic source's 9 phases
randomised is **{p['lsd']:.2f} dB** (max {p['lsd_max']:.2f}); its WER {p['wer'] * 100:.1f}%.
Throughput: {s['audio_seconds']:.1f} s of audio ({len(SPEED_TEXTS)} texts' pieces, `af_heart`) per round,
{len(s['timings']['original'])} rounds.
Quality: {len(VOICES)} voices ({', '.join(VOICES)}) × {len(QUALITY_TEXTS)} texts for `fast` and the reference.""",
         details=f"""\
- Clipping: {fast['clipped']} sample(s) of `fast` at or beyond ±0.999 over all {fast['texts']} texts (peak
  {fast['peak']:.3f}; the original's peak {r['original']['peak']:.3f}, {r['original']['clipped']} such samples). The
  server soft-limits a chunk holding such a sample (`audio/volume.py`) instead of clipping it.
- Throughput, one client: floor {med['original']:.2f} s, fast {med['fast']:.2f} s →
  **{med['original'] / med['fast']:.2f}×**.
- Time to first audio (the medium text's first piece, {s['first_piece_tokens']} tokens, model call alone):
  floor {first['original']:.3f} s, fast {first['fast']:.3f} s →
  **{first['fast'] / first['original']:.2f}×** the floor's.
- Concurrency (threads sharing one two-thread session in process; the server's default runs one call at a time
  instead): 4 clients get
  {c['fast'][4] / c['fast'][1]:.2f}× one client's audio per second with fast
  ({c['fast'][1]:.2f} → {c['fast'][4]:.2f} s/s),
  {c['original'][4] / c['original'][1]:.2f}× with the original ({c['original'][1]:.2f} → {c['original'][4]:.2f} s/s).
  On two cores one two-thread call already uses both cores; what 4 clients add over one is only the
  overlap of one call's serial parts with another's. What bounds it is measured below.
- Peak memory, a fresh process running the longest piece ({s['longest_tokens']} tokens): original
  {s['peak_mb']['original']:.0f} MB, fast {s['peak_mb']['fast']:.0f} MB.""")
    print(f"wrote {REPO / 'docs' / 'engine.md'}")


def saved_results() -> dict:
    saved = json.loads(RESULTS.read_text())
    speed = saved["speed"]
    speed["concurrency"] = {k: {int(n): v for n, v in c.items()} for k, c in speed["concurrency"].items()}
    return saved


if __name__ == "__main__":
    if "--profile" in sys.argv:
        profile_main()
    elif "--report" in sys.argv:  # rewrite docs/engine.md from the saved results
        write_report(saved_results())
    else:
        main()

"""Peak memory of one model call against the audio frames it produces, and what ONNX Runtime / glibc options do.

Issue 16: one request at speed 0.25 took the server from 562 MB to 1,865 MB. The model's activations grow
with the audio frames a call produces (≈ tokens ÷ speed), not with its tokens; this measures by how much, and
whether session / run / allocator options lower the peak or give the memory back afterwards.

Every configuration runs in a fresh subprocess (so VmHWM, the peak resident set, belongs to it alone) on the
int8 model, af_heart, and real English phoneme token ids (a prefix of tests/long_text.txt, phonemized once
here). The child creates the session, warms it with one 12-token call (as the server does), then reports
VmRSS/VmHWM after that ("load") and after every call, the call's frames (samples / 600,
i.e. 40 frames per second of audio) and its wall time.

Phases (default: all; results accumulate in docs/bench/memory-options.json, so phases can be run apart):
  grid     one call per process: tokens {50,100,200,400,510} × speed {0.25,0.5,1,2}, default options
  options  per option set: typical (200 @ 1.0), worst (200 @ 0.25), typical × 5 (retention; time = median)
  big      510 @ 0.25 alone, for the default and the candidate option sets
  timing   default and option-set sessions alternated in one process (typical call), ratio of times
  concur   two calls at once on one single-threaded session (the server's narrow session), at the cap

Writes docs/bench/memory-options.md. Run: PYTHONPATH=src .venv/bin/python bench/memory_options.py [phase ...]
Keep the machine otherwise quiet for the timings; memory figures do not depend on load.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "docs" / "bench" / "memory-options.json"
PAGE = REPO / "docs" / "bench" / "memory-options.md"
VOICE = "af_heart"
VOICES = REPO / "src" / "kokoro_speech" / "data" / "voices"  # the embedded packs
THREADS = 2
FRAME = 600  # samples per frame: 24 kHz / 40
TYPICAL = (200, 1.0)
WORST = (200, 0.25)
GRID_TOKENS = (50, 100, 200, 400, 510)
GRID_SPEEDS = (0.25, 0.5, 1.0, 2.0)

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc mallopt parameters (malloc.h)

# name → (description, session/run settings, extra environment)
OPTION_SETS: dict[str, tuple[str, dict, dict]] = {
    "default": ("ORT defaults (arena on, mem pattern on, kNextPowerOfTwo)", {}, {}),
    "no_arena": ("SessionOptions.enable_cpu_mem_arena = False", {"arena": False}, {}),
    "no_pattern": ("SessionOptions.enable_mem_pattern = False", {"pattern": False}, {}),
    "no_arena_no_pattern": ("both of the above", {"arena": False, "pattern": False}, {}),
    "same_as_requested": ("env arena allocator, arena_extend_strategy=1 (kSameAsRequested), "
                          "session.use_env_allocators=1", {"env_arena": {"arena_extend_strategy": 1}}, {}),
    "ep_arena_opt": ("providers=[('CPUExecutionProvider', {'arena_extend_strategy': 'kSameAsRequested'})]",
                     {"ep_options": {"arena_extend_strategy": "kSameAsRequested"}}, {}),
    "shrink": ("RunOptions memory.enable_memory_arena_shrinkage = cpu:0", {"shrink": True}, {}),
    "same_as_requested_shrink": ("env arena kSameAsRequested + shrinkage run option",
                                 {"env_arena": {"arena_extend_strategy": 1}, "shrink": True}, {}),
    "arena_max2": ("MALLOC_ARENA_MAX=2 (default ORT options)", {}, {"MALLOC_ARENA_MAX": "2"}),
    "no_arena_trim": ("no arena + malloc_trim(0) after each call", {"arena": False, "trim": True}, {}),
    "no_arena_trim_threshold": ("no arena + MALLOC_TRIM_THRESHOLD_=128 KiB, MALLOC_MMAP_THRESHOLD_=128 KiB",
                                {"arena": False},
                                {"MALLOC_TRIM_THRESHOLD_": "131072", "MALLOC_MMAP_THRESHOLD_": "131072"}),
    "no_arena_mallopt": ("no arena + mallopt(M_MMAP_THRESHOLD, 128 KiB), mallopt(M_TRIM_THRESHOLD, 128 KiB) "
                         "called in-process before the session is created",
                         {"arena": False, "mallopt": {M_MMAP_THRESHOLD: 131072, M_TRIM_THRESHOLD: 131072}}, {}),
    "shrink_no_pattern": ("shrinkage run option + SessionOptions.enable_mem_pattern = False",
                          {"shrink": True, "pattern": False}, {}),
    "shared_arena_shrink": ("one arena for every session of the process (env allocator, kNextPowerOfTwo, "
                            "session.use_env_allocators=1) + shrinkage run option",
                            {"env_arena": {"arena_extend_strategy": 0}, "shrink": True}, {}),
    "no_arena_arena_max2_trim": ("no arena + MALLOC_ARENA_MAX=2 + malloc_trim(0) after each call",
                                 {"arena": False, "trim": True}, {"MALLOC_ARENA_MAX": "2"}),
}
TIMING_SETS = ("no_arena_trim_threshold", "no_arena_mallopt", "same_as_requested_shrink", "shrink")
TIMING_REPEATS = 5
BIG_SETS = ("default", "no_arena", "same_as_requested_shrink", "no_arena_trim")
PAIR_SETS = ("shrink", "shared_arena_shrink")  # the server's two sessions with --share-cores


# ---------------------------------------------------------------- child: one configuration, one process
def _status() -> dict[str, float]:
    text = Path("/proc/self/status").read_text()
    return {key: int(re.search(rf"{key}:\s+(\d+)", text).group(1)) / 1024 for key in ("VmRSS", "VmHWM")}


_registered: list[bool] = []


def make_session(model: str, settings: dict, threads: int):
    """An InferenceSession and RunOptions for one option set (the server's settings otherwise)."""
    import ctypes

    import onnxruntime as ort

    for param, value in settings.get("mallopt", {}).items():  # the in-process equivalent of MALLOC_*_
        ctypes.CDLL("libc.so.6").mallopt(int(param), value)
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.enable_cpu_mem_arena = settings.get("arena", True)
    so.enable_mem_pattern = settings.get("pattern", True)
    providers: list = ["CPUExecutionProvider"]
    if "env_arena" in settings:
        if not _registered:  # one arena per process, which every session then uses
            info = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT)
            ort.create_and_register_allocator(info, ort.OrtArenaCfg(settings["env_arena"]))
            _registered.append(True)
        so.add_session_config_entry("session.use_env_allocators", "1")
    if "ep_options" in settings:
        providers = [("CPUExecutionProvider", settings["ep_options"])]
    session = ort.InferenceSession(model, so, providers=providers)
    run_options = ort.RunOptions()
    if settings.get("shrink"):
        run_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    return session, run_options


def timing_child(spec: dict) -> dict:
    """Seconds per call of the default session and of the option set's session, alternated in one process
    (so both see the same machine load); the option set's environment applies to the whole process."""
    import ctypes

    import numpy as np

    from kokoro_speech.model.packs import read_voice

    libc = ctypes.CDLL("libc.so.6")
    voice = read_voice(VOICES / f"{VOICE}.pt")
    ids: list[int] = spec["ids"]
    n, speed = spec["case"]
    feed = {"tokens": np.array([[0, *ids[:n], 0]], dtype=np.int64),
            "style": voice[n - 1].reshape(1, -1).astype(np.float32),
            "speed": np.array([speed], dtype=np.float32)}
    sides = {"default": make_session(spec["model"], {}, THREADS),
             "option": make_session(spec["model"], spec["settings"], THREADS)}
    times: dict[str, list[float]] = {"default": [], "option": []}
    for _ in range(spec["repeats"] + 1):  # the first round warms both sessions at this shape
        for side, (session, run_options) in sides.items():
            started = time.perf_counter()
            session.run(None, feed, run_options)
            times[side].append(time.perf_counter() - started)
            if side == "option" and spec["settings"].get("trim"):
                libc.malloc_trim(0)
    return {side: t[1:] for side, t in times.items()}


def child(spec: dict) -> dict:
    import ctypes
    import threading

    import numpy as np

    from kokoro_speech.model.packs import read_voice

    settings = spec["settings"]
    # with "pair", a second single-threaded session beside the first, as the server's --share-cores makes
    sessions = [make_session(spec["model"], settings, spec.get("threads", THREADS))]
    if spec.get("pair"):
        sessions.append(make_session(spec["model"], settings, 1))
    libc = ctypes.CDLL("libc.so.6")
    voice = read_voice(VOICES / f"{VOICE}.pt")
    ids: list[int] = spec["ids"]
    token_name = "tokens" if "tokens" in {i.name for i in sessions[0][0].get_inputs()} else "input_ids"
    out = sessions[0][0].get_outputs()[0].name

    def call(n: int, speed: float, which: int = 0) -> tuple[int, float]:
        session, run_options = sessions[which]
        feed = {token_name: np.array([[0, *ids[:n], 0]], dtype=np.int64),
                "style": voice[n - 1].reshape(1, -1).astype(np.float32),
                "speed": np.array([speed], dtype=np.float32)}
        started = time.perf_counter()
        (audio,) = session.run([out], feed, run_options)
        elapsed = time.perf_counter() - started
        frames = audio.size // FRAME
        del audio, feed
        if settings.get("trim"):
            libc.malloc_trim(0)
        return frames, elapsed

    loaded = _status()
    for which in range(len(sessions)):
        call(12, 1.0, which)  # the server warms each session with "hello world." before serving
    result = {"created": loaded, "load": _status(), "calls": []}
    for label, n, speed, *which in spec["calls"]:
        if spec.get("concurrent", 1) > 1:  # the same call from k threads at once on this one session
            done: list = []
            workers = [threading.Thread(target=lambda n=n, speed=speed, done=done: done.append(call(n, speed)))
                       for _ in range(spec["concurrent"])]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            frames, elapsed = done[0][0], max(d[1] for d in done)
        else:
            frames, elapsed = call(n, speed, *which)
        result["calls"].append({"label": label, "tokens": n, "speed": speed, "frames": frames,
                                "seconds": elapsed, **_status()})
    return result


# ---------------------------------------------------------------- parent
def run_child(spec: dict, env_extra: dict) -> dict:
    env = {**os.environ, **env_extra, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, __file__, "--child"], input=json.dumps(spec), env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"rc {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def token_ids() -> list[int]:
    from kokoro_speech.kokoro import to_token_ids
    from kokoro_speech.text.phonemize import Phonemizers

    text = " ".join((REPO / "tests" / "long_text.txt").read_text().split("\n\n")[:3])
    ids = to_token_ids(Phonemizers().phonemize(text, "a"))
    assert len(ids) >= max(GRID_TOKENS), len(ids)
    return ids


def model_path() -> str:
    from kokoro_speech.config import Settings
    from kokoro_speech.model.weights import resolve_model

    return str(resolve_model(None, Settings(_env_file=None).cache_dir, offline=True))


def load_results() -> dict:
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {}


def save_results(results: dict) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1))


def measure(results: dict, section: str, key: str, spec: dict, env: dict) -> dict | None:
    """One configuration's child process: its result kept under results[section][key] and saved at once; None
    (and the error printed) when the child failed."""
    r = run_child(spec, env)
    results.setdefault(section, {})[key] = r
    save_results(results)
    if "error" in r:
        print(f"{section} {key}: {r['error']}", flush=True)
        return None
    return r


def phase_grid(base: dict, results: dict) -> None:
    grid = results.setdefault("grid", {})
    for n in GRID_TOKENS:
        for speed in GRID_SPEEDS:
            r = run_child({**base, "settings": {}, "calls": [["one", n, speed]]}, {})
            grid[f"{n}@{speed}"] = r
            c = r["calls"][0]
            print(f"grid {n:4d} @ {speed:<4}  frames {c['frames']:5d}  load {r['load']['VmRSS']:6.0f}  "
                  f"peak {c['VmHWM']:6.0f}  after {c['VmRSS']:6.0f}  {c['seconds']:6.1f} s", flush=True)
            save_results(results)


def phase_options(base: dict, results: dict, names: list[str]) -> None:
    calls = [["typical", *TYPICAL], ["worst", *WORST]] + [[f"typical{i}", *TYPICAL] for i in range(1, 6)]
    for name in names:
        _, settings, env = OPTION_SETS[name]
        r = measure(results, "options", name, {**base, "settings": settings, "calls": calls}, env)
        if r is None:
            continue
        c = r["calls"]
        print(f"options {name:28s} load {r['load']['VmRSS']:5.0f}  typical peak {c[0]['VmHWM']:5.0f} "
              f"after {c[0]['VmRSS']:5.0f}  worst peak {c[1]['VmHWM']:5.0f} after {c[1]['VmRSS']:5.0f}  "
              f"final {c[-1]['VmRSS']:5.0f}  typical {statistics.median(x['seconds'] for x in c[2:]):5.2f} s  "
              f"worst {c[1]['seconds']:5.1f} s", flush=True)


def phase_big(base: dict, results: dict, names: list[str]) -> None:
    for name in names:
        _, settings, env = OPTION_SETS[name]
        r = measure(results, "big", name,
                    {**base, "settings": settings, "calls": [["big", 510, 0.25], ["typical", *TYPICAL]]}, env)
        if r is None:
            continue
        c = r["calls"]
        print(f"big {name:28s} load {r['load']['VmRSS']:5.0f}  510@0.25 frames {c[0]['frames']}  peak "
              f"{c[0]['VmHWM']:5.0f} after {c[0]['VmRSS']:5.0f}  then typical: after {c[1]['VmRSS']:5.0f}  "
              f"{c[0]['seconds']:5.1f} s", flush=True)


def phase_concur(base: dict, results: dict, cases: list[tuple[str, int, float]]) -> None:
    concur = results.setdefault("concur", {})
    for name, n, speed in cases:
        _, settings, env = OPTION_SETS[name]
        for k in (1, 2):
            r = run_child({**base, "threads": 1, "concurrent": k, "settings": settings,
                           "calls": [["cap", n, speed]]}, env)
            concur[f"{name} {n}@{speed} x{k}"] = r
            save_results(results)
            c = r["calls"][0]
            print(f"concur {name} {n}@{speed} x{k}: frames {c['frames']} load {r['load']['VmRSS']:5.0f} "
                  f"peak {c['VmHWM']:5.0f} after {c['VmRSS']:5.0f}  {c['seconds']:5.1f} s", flush=True)


def phase_pair(base: dict, results: dict, names: list[str]) -> None:
    """Two sessions in one process (2 threads and 1, as with --share-cores): each arena on its own, or one shared
    arena. The worst call on each in turn, then a typical call on each: what the pair holds at its peak and after."""
    calls = [["worst wide", *WORST, 0], ["worst narrow", *WORST, 1], ["typical wide", *TYPICAL, 0],
             ["typical narrow", *TYPICAL, 1]]
    for name in names:
        _, settings, env = OPTION_SETS[name]
        r = measure(results, "pair", name, {**base, "settings": settings, "pair": True, "calls": calls}, env)
        if r is None:
            continue
        c = r["calls"]
        print(f"pair {name:24s} load {r['load']['VmRSS']:5.0f}  peak {c[-1]['VmHWM']:5.0f}  after each: "
              + "  ".join(f"{x['label']} {x['VmRSS']:5.0f}" for x in c), flush=True)


def phase_timing(base: dict, results: dict, names: list[str]) -> None:
    for name in names:
        _, settings, env = OPTION_SETS[name]
        r = measure(results, "timing", name,
                    {**base, "settings": settings, "case": list(TYPICAL), "repeats": TIMING_REPEATS}, env)
        if r is None:
            continue
        ratios = [o / d for o, d in zip(r["option"], r["default"], strict=True)]
        print(f"timing {name:28s} default {statistics.median(r['default']):5.2f} s  option "
              f"{statistics.median(r['option']):5.2f} s  ratio (median of pairs) {statistics.median(ratios):.2f}",
              flush=True)


# ---------------------------------------------------------------- the page
def fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least squares y = a + b x."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    b = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x in xs)
    return my - b * mx, b


def write_page(results: dict) -> None:
    import onnxruntime as ort

    lines = ["# Memory per model call, and what ONNX Runtime options do (issue 16)", "",
             f"Generated by `bench/memory_options.py` (onnxruntime {ort.__version__}, int8 Kokoro-82M, "
             f"{VOICE}, {THREADS} intra-op threads unless noted, real English phoneme ids). Each row is a fresh "
             "process; *load* is VmRSS after creating the session and one 12-token warm-up call (as the "
             "server does), *peak* is VmHWM (the process's high-water "
             "resident set), *after* is VmRSS once the call returned. Δ = peak − load: what the call itself "
             "needed. Frames = samples / 600 (40 per second of audio). Timings come from a 2-core machine "
             "shared with other work: compare them only within a table.", ""]
    grid = results.get("grid", {})
    points = []
    if grid:
        lines += ["## 1. Peak memory against tokens × speed (default options)", "",
                  "| tokens | speed | frames | audio s | load MB | peak MB | Δ peak MB | after MB | call s |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in grid.values():
            if "error" in r:
                continue
            c = r["calls"][0]
            delta = c["VmHWM"] - r["load"]["VmRSS"]
            points.append((c["frames"], delta))
            lines.append(f"| {c['tokens']} | {c['speed']} | {c['frames']} | {c['frames'] / 40:.1f} | "
                         f"{r['load']['VmRSS']:.0f} | {c['VmHWM']:.0f} | {delta:.0f} | {c['VmRSS']:.0f} | "
                         f"{c['seconds']:.1f} |")
        ones = [r["calls"][0] for k, r in grid.items() if "error" not in r and r["calls"][0]["speed"] == 1.0]
        fpt = statistics.fmean(c["frames"] / c["tokens"] for c in ones) if ones else float("nan")
        a, b = fit(points)
        lines += ["", f"Least-squares fit over all {len(points)} points: **Δ peak ≈ {a:.0f} MB + {b:.3f} MB × "
                  f"frames** = {b * 40:.1f} MB per second of audio. Frames per token at speed 1: "
                  f"**{fpt:.2f}** (so frames ≈ {fpt:.2f} × tokens ÷ speed).", ""]
        results["fit"] = {"intercept_mb": a, "mb_per_frame": b, "frames_per_token": fpt}
    options = results.get("options", {})
    if options:
        default_time = None
        if "default" in options and "error" not in options["default"]:
            default_time = statistics.median(x["seconds"] for x in options["default"]["calls"][2:])
        lines += ["## 2. Option sets: typical (200 tok @ 1.0), worst (200 tok @ 0.25), then typical × 5", "",
                  "*final* is VmRSS after the last typical call: what the process keeps after a big call. "
                  "Time is the median of the five typical calls after the worst one, relative to the default "
                  "process; these processes ran minutes apart on a shared machine, so use section 4 for speed.", "",
                  "| option set | load | typical peak | worst peak | Δ worst | after worst | final | "
                  "typical s (median) | vs default | worst s |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for name, r in options.items():
            if "error" in r:
                lines.append(f"| {name} | error: {r['error'][:80]} |")
                continue
            c = r["calls"]
            t = statistics.median(x["seconds"] for x in c[2:])
            rel = f"{t / default_time:.2f}×" if default_time else ""
            lines.append(f"| {name} | {r['load']['VmRSS']:.0f} | {c[0]['VmHWM']:.0f} | {c[1]['VmHWM']:.0f} | "
                         f"{c[1]['VmHWM'] - r['load']['VmRSS']:.0f} | {c[1]['VmRSS']:.0f} | {c[-1]['VmRSS']:.0f} | "
                         f"{t:.2f} | {rel} | {c[1]['seconds']:.1f} |")
        lines += ["", "What each set is:", ""]
        lines += [f"- `{name}`: {OPTION_SETS[name][0]}" for name in options]
        lines.append("")
    big = results.get("big", {})
    if big:
        lines += ["## 3. The largest single call: 510 tokens @ 0.25, then one typical call", "",
                  "| option set | frames | load | peak | Δ peak | after | after next typical | call s |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for name, r in big.items():
            if "error" in r:
                lines.append(f"| {name} | error: {r['error'][:80]} |")
                continue
            c = r["calls"]
            lines.append(f"| {name} | {c[0]['frames']} | {r['load']['VmRSS']:.0f} | {c[0]['VmHWM']:.0f} | "
                         f"{c[0]['VmHWM'] - r['load']['VmRSS']:.0f} | {c[0]['VmRSS']:.0f} | {c[1]['VmRSS']:.0f} | "
                         f"{c[0]['seconds']:.1f} |")
        lines.append("")
    timing = results.get("timing", {})
    if timing:
        lines += ["## 4. Speed: option set against default, alternated in one process", "",
                  f"Both sessions live in one process (with the option set's environment variables) and run "
                  f"{TYPICAL[0]} tokens @ {TYPICAL[1]} in turn, {TIMING_REPEATS} rounds after one warm-up round; "
                  "the ratio is the median over rounds of option ÷ default, which cancels the drift of the "
                  "shared machine's load.", "",
                  "| option set | default s (median) | option s (median) | ratio |", "|---|---:|---:|---:|"]
        for name, r in timing.items():
            if "error" in r:
                lines.append(f"| {name} | error: {r['error'][:80]} | | |")
                continue
            ratios = [o / d for o, d in zip(r["option"], r["default"], strict=True)]
            lines.append(f"| {name} | {statistics.median(r['default']):.2f} | {statistics.median(r['option']):.2f} | "
                         f"{statistics.median(ratios):.2f}× |")
        lines.append("")
    concur = results.get("concur", {})
    if concur:
        lines += ["## 5. Concurrent calls on one single-threaded session (the server's narrow session)", "",
                  "| case | frames each | load | peak | Δ peak | after | wall s |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for key, r in concur.items():
            if "error" in r:
                continue
            c = r["calls"][0]
            lines.append(f"| {key} | {c['frames']} | {r['load']['VmRSS']:.0f} | {c['VmHWM']:.0f} | "
                         f"{c['VmHWM'] - r['load']['VmRSS']:.0f} | {c['VmRSS']:.0f} | {c['seconds']:.1f} |")
        lines.append("")
    pair = results.get("pair", {})
    if pair:
        lines += ["## 6. Two sessions in one process (`--share-cores`): an arena each, or one shared arena", "",
                  f"A 2-thread and a 1-thread session, each warmed; then {WORST[0]} tok @ {WORST[1]} on the first, "
                  f"the same on the second, then {TYPICAL[0]} tok @ {TYPICAL[1]} on each. *after* is VmRSS after "
                  "each call; peak is the process's VmHWM at the end.", "",
                  "| option set | load (both) | after worst wide | after worst narrow | after typical wide | "
                  "after typical narrow | peak |", "|---|---:|---:|---:|---:|---:|---:|"]
        for name, r in pair.items():
            if "error" in r:
                lines.append(f"| {name} | error: {r['error'][:80]} |")
                continue
            c = r["calls"]
            lines.append(f"| {name} | {r['load']['VmRSS']:.0f} | " + " | ".join(f"{x['VmRSS']:.0f}" for x in c)
                         + f" | {c[-1]['VmHWM']:.0f} |")
        lines += ["", *[f"- `{name}`: {OPTION_SETS[name][0]}" for name in pair], ""]
    notes = results.get("notes")
    if notes:
        lines += ["## Findings and recommendation", "", notes.strip(), ""]
    PAGE.parent.mkdir(parents=True, exist_ok=True)
    PAGE.write_text("\n".join(lines))
    save_results(results)
    print(f"wrote {PAGE}")


def main() -> None:
    if sys.argv[1:] == ["--child"]:
        spec = json.loads(sys.stdin.read())
        print(json.dumps(timing_child(spec) if "case" in spec else child(spec)))
        return
    args = sys.argv[1:] or ["grid", "options", "big", "concur"]
    results = load_results()
    base = {"model": model_path(), "ids": token_ids()}
    for arg in args:
        phase, _, names = arg.partition("=")
        if phase == "grid":
            phase_grid(base, results)
        elif phase == "options":
            phase_options(base, results, names.split(",") if names else list(OPTION_SETS))
        elif phase == "big":
            phase_big(base, results, names.split(",") if names else list(BIG_SETS))
        elif phase == "concur":  # concur=name:tokens:speed,...
            cases = [(c.split(":")[0], int(c.split(":")[1]), float(c.split(":")[2]))
                     for c in (names or "no_arena:200:1.0,default:200:1.0").split(",")]
            phase_concur(base, results, cases)
        elif phase == "pair":
            phase_pair(base, results, names.split(",") if names else list(PAIR_SETS))
        elif phase == "timing":
            phase_timing(base, results, names.split(",") if names else list(TIMING_SETS))
        elif phase == "page":
            pass
        else:
            raise SystemExit(f"unknown phase {phase}")
    write_page(results)


if __name__ == "__main__":
    main()

"""The faster int8 graph (issue 17): speed and quality of each rewrite of the model, against the bare ONNX Runtime
session on the original int8 graph (the floor), in one run on one machine. Writes docs/engine.md.

Variants (src/kokoro_speech/model/fast.py; ranges from tools/calibrate_fast.py):
  fast            the shipped one: decoder convs as QLinearConv u8s8, activations quantized on the call as today,
                  per-channel output scaling
  per-tensor out  the same with one output scale per conv (the naive QDQ conversion)
  static in       fixed calibrated input scales (QuantizeLinear instead of DynamicQuantizeLinear) + the fast convs
  static only     fixed calibrated input scales, convs left as ConvInteger

Quality, on the 20 texts of bench/texts.py x 4 voices (none of them calibration texts): Whisper tiny.en word
error rate, log-spectral distance (LSD) to the original's audio, and the reference for LSD: the original against
itself with the harmonic source's phases randomised (the model's own natural variation); peaks (clipping) and
the level of the quietest frames (hiss on silence). Speed: one client's throughput over 8 texts' pieces, the first
piece of the medium text (time to first audio), 4 concurrent clients on one session, peak memory of a process
running the longest piece; ways of running concurrent clients and what bounds them (ARRANGEMENTS).
Run: .venv/bin/python bench/fast_model.py   (QUICK=1: fewer texts, for a smoke test; --concurrency: that phase
alone, into the saved results; --profile: the fast graph's time by operator and the
memory of two sessions sharing weights, likewise; --report: rewrite
docs/engine.md from the saved results)
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from harness import REPO, floor_engine, in_threads, load_whisper, machine, model_file
from kokoro_speech.kokoro import SAMPLE_RATE, to_token_ids
from kokoro_speech.model.fast import bundled_ranges, load_ranges, log_spectral_distance, rewrite, with_phase_input
from texts import TEXTS

QUICK = bool(os.environ.get("QUICK"))
VOICES = ("af_heart", "am_michael", "bf_emma", "bm_george")
QUALITY_TEXTS = TEXTS[:4] if QUICK else TEXTS
SPEED_TEXTS = TEXTS[4:20:2][: 2 if QUICK else 8]
MEDIUM = TEXTS[12] + " " + TEXTS[13]
CONCURRENCY_TEXT = TEXTS[12]
ROUNDS = 2 if QUICK else 3
RESULTS = REPO / "docs" / "bench" / "engine.json"


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("-", " "))


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    return jiwer.wer(" ".join(words(reference)), " ".join(words(hypothesis)))


lsd = log_spectral_distance


def quiet_level(x: np.ndarray) -> float:
    """dBFS of the quietest tenth of 25 ms frames: hiss on silence raises it."""
    frames = x[: x.size // 600 * 600].reshape(-1, 600)
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    return float(20 * np.log10(np.percentile(rms, 10) + 1e-9))


class Model:
    def __init__(self, path: Path, threads: int = 2, *, spinning: bool = True, profile: str | None = None) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        if not spinning:  # idle pool threads sleep instead of spinning for work
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if profile:  # ONNX Runtime's own profile, written under this prefix when the session ends it
            options.enable_profiling = True
            options.profile_file_prefix = profile
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.run_options = ort.RunOptions()
        self.run_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")  # as the server

    def __call__(self, tokens: list[int], style: np.ndarray, speed: float = 1.0, **extra) -> np.ndarray:
        feed = {"tokens": np.array([[0, *tokens, 0]], np.int64), "style": style.reshape(1, -1).astype(np.float32),
                "speed": np.array([speed], np.float32), **extra}
        return self.session.run(["audio"], feed, self.run_options)[0].reshape(-1)


def speak(model, pieces, voice, **extra) -> np.ndarray:
    return np.concatenate([model(t, voice.style_for(len(t)), **extra) for t in pieces])


def peak_memory(path: Path, tokens: list[int], style: np.ndarray, *, threads: int = 2, calls: int = 1) -> float:
    """VmHWM (MB) of a fresh process that loads `path` in a session of `threads` intra-op threads and runs the piece
    on `calls` threads at once."""
    code = ("import sys, json, re, numpy as np; sys.path.insert(0, %r); from fast_model import Model; "
            "from harness import in_threads; "
            "m = Model(__import__('pathlib').Path(%r), %d); a = json.loads(sys.argv[1]); "
            "in_threads(lambda: m(a['t'], np.array(a['s'], np.float32)), %d); "
            "print(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))") % (
        str(Path(__file__).parent), str(path), threads, calls)
    out = subprocess.run([sys.executable, "-c", code, json.dumps({"t": tokens, "s": style.tolist()})],
                         capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def concurrent(m: Model, clients: int, pieces: list[list[int]], style, passes: int = 2) -> float:
    """Audio seconds per wall second of `clients` threads at once on `m`, each reading the pieces `passes` times."""
    audio: list[float] = []

    def client() -> None:
        for _ in range(passes):
            audio.append(sum(m(t, style(len(t))).size for t in pieces) / SAMPLE_RATE)

    wall = in_threads(client, clients)  # first: the clients fill `audio`
    return sum(audio) / wall


# Ways of running concurrent clients on two cores: (intra-op threads, spinning, clients at once). The server's
# default runs one call at a time on the two-thread session (= the first row); --share-cores runs two calls at
# a time on a one-thread session while both are busy (= the last row).
ARRANGEMENTS = {
    "1 client, 2-thread session": (2, True, 1),
    "1 client, 1-thread session": (1, True, 1),
    "4 clients on the 2-thread session": (2, True, 4),
    "4 clients on the 2-thread session, pool not spinning": (2, False, 4),
    "2 calls at a time on a 1-thread session": (1, True, 2),
}


def shipped() -> tuple[Path, list[list[int]], list[int], object]:
    """The fast graph as the server derives it, the concurrency text's pieces, the longest piece of the quality
    texts, and the voice (af_heart)."""
    from kokoro_speech.config import Settings
    from kokoro_speech.model.weights import fast_model

    engine = floor_engine()
    voice = engine.resolve_voice("af_heart")
    pieces = [to_token_ids(p.phonemes) for p in engine.pieces(CONCURRENCY_TEXT, voice) if hasattr(p, "phonemes")]
    longest = max((to_token_ids(p.phonemes) for t in QUALITY_TEXTS for p in engine.pieces(t, voice)
                   if hasattr(p, "phonemes")), key=len)
    engine.close()
    return fast_model(model_file(), Settings(offline=True, _env_file=None).cache_dir), pieces, longest, voice


def arrangements(graph: tuple, rounds: int = 6) -> dict:
    """The concurrency phase (--concurrency): the ARRANGEMENTS on the shipped fast graph (`shipped()`), interleaved
    rounds; and the peak memory of one call against two at once."""
    path, pieces, longest, voice = graph
    sessions = {(t, spin): Model(path, t, spinning=spin) for t, spin, _ in ARRANGEMENTS.values()}
    for m in sessions.values():
        m(pieces[0], voice.style_for(len(pieces[0])))
    rates: dict[str, list[float]] = {name: [] for name in ARRANGEMENTS}
    for _ in range(rounds):
        for name, (threads, spinning, clients) in ARRANGEMENTS.items():
            passes = 2 if clients == 1 else 1
            rates[name].append(concurrent(sessions[threads, spinning], clients, pieces, voice.style_for, passes))
    style = voice.style_for(len(longest))
    memory = {"one call, 2-thread session": peak_memory(path, longest, style, threads=2, calls=1),
              "two calls at once, 1-thread session": peak_memory(path, longest, style, threads=1, calls=2)}
    return {"rates": rates, "peak_mb": memory, "longest_tokens": len(longest), "rounds": rounds}


def profile(path: Path, pieces: list[list[int]], style, passes: int = 2) -> dict:
    """Where a graph's time goes: ONNX Runtime's own profile of `passes` over the pieces on a two-thread session,
    as shares of the summed kernel time by operator type, and the harmonic source's `Sin` on its own."""
    m = Model(path, 2, profile=str(Path(tempfile.mkdtemp(prefix="kokoro-profile-")) / "run"))
    m(pieces[0], style(len(pieces[0])))  # warm-up, left in: a small share of the total
    for _ in range(passes):
        for t in pieces:
            m(t, style(len(t)))
    events = json.loads(Path(m.session.end_profiling()).read_text())
    by_type: dict[str, float] = {}
    source_sin = 0.0
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            by_type[e["args"]["op_name"]] = by_type.get(e["args"]["op_name"], 0.0) + e["dur"]
            source_sin += e["dur"] if "/m_source/l_sin_gen/Sin" in e["name"] else 0.0
    total = sum(by_type.values())
    return {"shares": {k: v / total for k, v in sorted(by_type.items(), key=lambda kv: -kv[1])},
            "harmonic_source_sin": source_sin / total}


SHARING_CODE = """
import ctypes, gc, json, re, sys
import numpy as np, onnx, onnxruntime as ort
from onnx import numpy_helper

path, shared = sys.argv[1], sys.argv[2] == "shared"
def rss():
    return int(re.search(r"VmRSS:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) / 1024
def options(threads):
    o = ort.SessionOptions()
    o.intra_op_num_threads, o.inter_op_num_threads = threads, 1
    return o
feed = {"tokens": np.array([[0, *range(10, 60), 0]], np.int64), "style": np.zeros((1, 256), np.float32),
        "speed": np.array([1.0], np.float32)}
wide, narrow, keep = options(2), options(1), []
before = rss()
if shared:  # one OrtValue per weight, handed to both sessions instead of each loading its own copy
    for init in onnx.load(path).graph.initializer:
        array = numpy_helper.to_array(init)
        if array.nbytes >= 1024:
            keep.append((array, ort.OrtValue.ortvalue_from_numpy(array)))
            wide.add_initializer(init.name, keep[-1][1])
            narrow.add_initializer(init.name, keep[-1][1])
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)  # hand back what parsing the model took, so only the arrays count
a = ort.InferenceSession(path, wide, providers=["CPUExecutionProvider"])
audio = a.run(["audio"], feed)[0]
one = rss()
b = ort.InferenceSession(path, narrow, providers=["CPUExecutionProvider"])
same = bool(np.array_equal(audio, b.run(["audio"], feed)[0]))
print(json.dumps({"one_session": one - before, "two_sessions": rss() - before, "same_audio": same}))
"""


def sharing(path: Path) -> dict:
    """Resident memory (MB over a fresh process's start) of the wide session, then with the narrow one beside it
    (--share-cores), each run once: each loading its own weights, and sharing them (add_initializer)."""
    out = {}
    for mode in ("own", "shared"):
        run = subprocess.run([sys.executable, "-c", SHARING_CODE, str(path), mode], capture_output=True, text=True,
                             check=True)
        out[mode] = json.loads(run.stdout.strip().splitlines()[-1])
    return out


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
    ranges = load_ranges(bundled_ranges())
    static = {k[4:]: (float(v[0].min()), float(v[1].max())) for k, v in ranges.items() if k.startswith("dql:")}
    tmp = Path(tempfile.mkdtemp(prefix="kokoro-fast-"))
    paths = {"original": original_path}
    builds = {"fast": dict(), "per-tensor out": dict(per_channel=False),
              "static in + fast": dict(static_inputs=static),
              "static only": dict(static_inputs=static, only_inputs=True)}
    for name, kwargs in builds.items():
        only_inputs = kwargs.pop("only_inputs", False)
        model = rewrite(original, {} if only_inputs else ranges, **kwargs)
        paths[name] = tmp / (name.replace(" ", "_").replace("+", "") + ".onnx")
        onnx.save(model, str(paths[name]))
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
        return {"wer": statistics.mean(wer(texts[k], transcribe(a)) for k, a in outputs.items()),
                "lsd": statistics.mean(lsd(reference[k], a) for k, a in outputs.items()),
                "lsd_max": max(lsd(reference[k], a) for k, a in outputs.items()),
                "peak": max(float(np.abs(a).max()) for a in outputs.values()),
                "clipped": sum(int(np.sum(np.abs(a) >= 0.999)) for a in outputs.values()),
                "quiet_db": statistics.mean(quiet_level(a) for a in outputs.values()),
                "length_mismatch": sum(a.size != reference[k].size for k, a in outputs.items())}

    results["original"] = {"wer": statistics.mean(wer(texts[k], heard[k]) for k in reference),
                           "peak": max(float(np.abs(a).max()) for a in reference.values()),
                           "clipped": sum(int(np.sum(np.abs(a) >= 0.999)) for a in reference.values()),
                           "quiet_db": statistics.mean(quiet_level(a) for a in reference.values())}
    offsets = {k: rng.uniform(-np.pi, np.pi, (1, 1, 9)).astype(np.float32) for k in reference}
    results["phase"] = judge({(v, i): speak(phase, quality_pieces[v][i], voices[v], phase_offset=offsets[v, i])
                              for v, i in reference})
    for name in builds:
        keys = list(reference) if name == "fast" else [k for k in reference if k[1] % 4 == 0]
        results["variants"][name] = {**judge({k: speak(models[name], quality_pieces[k[0]][k[1]], voices[k[0]])
                                              for k in keys}), "texts": len(keys)}
    graph = shipped()
    results["speed"]["arrangements"] = arrangements(graph)
    path, pieces, _, voice = graph
    results["speed"]["profile"] = profile(path, pieces, voice.style_for)
    results["speed"]["sharing"] = sharing(path)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1, default=float))
    write_report(results)


def sharing_report(s: dict) -> str:
    own, shared = s["own"], s["shared"]
    return f"""- **Sharing the weights between the two sessions** (the issue's second avenue; `--profile` measures
  it, ONNX Runtime's `SessionOptions.add_initializer` with one `OrtValue` per weight handed to both): the second,
  one-thread session adds {own['two_sessions'] - own['one_session']:.0f} MB to the process with weights of its own
  and still {shared['two_sessions'] - shared['one_session']:.0f} MB when they are shared, and the process as a whole
  holds {shared['two_sessions']:.0f} MB against {own['two_sessions']:.0f} MB (same audio either way): the shared
  arrays live outside ONNX Runtime while each session still builds its own copies for its kernels (most likely the
  int8 kernels' packed weights; sharing those takes ORT's `PrepackedWeightsContainer`, which its Python API does
  not expose). Rejected. Sharing one arena between them was measured under the memory issue: the same peak, more
  memory kept ([memory-options.md](bench/memory-options.md)).
"""


def arrangements_report(a: dict, sharing_measured: dict | None = None) -> str:
    rates = {name: statistics.median(v) for name, v in a["rates"].items()}
    one, narrow = rates["1 client, 2-thread session"], rates["1 client, 1-thread session"]
    rows = "\n".join(f"| {name} | {rate:.2f} | {min(a['rates'][name]):.2f}–{max(a['rates'][name]):.2f} | "
                      f"**{rate / one:.2f}×** |" for name, rate in rates.items())
    best = max((n for n in rates if not n.startswith("1 client")), key=rates.get)
    sharing = sharing_report(sharing_measured) if sharing_measured else ""
    m = a["peak_mb"]
    one_call, two_calls = m["one call, 2-thread session"], m["two calls at once, 1-thread session"]
    ceiling = 2 * narrow / one
    bound = ("intra-op scaling (its ceiling is under 1.25×) and by memory" if ceiling < 1.25 else
             "memory: reaching it takes calls at once, which the 1,000 MB bound does not leave room for")
    overload = json.loads((REPO / "docs" / "overload.json").read_text())  # bench/overload.py's figures
    end_to_end = ""
    if (REPO / "docs" / "bench" / "benchmarks.json").is_file():  # bench/engine.py: the server over HTTP
        c = json.loads((REPO / "docs" / "bench" / "benchmarks.json").read_text())["concurrency"]
        one_client = c["1"]["ours"][1]
        end_to_end = (f" End to end over HTTP ([benchmarks.md](benchmarks.md)), 4 clients got "
                      f"{c['4']['ours'][1] / one_client:.2f}× one client's throughput from the default server and "
                      f"{c['4']['share_cores'][1] / one_client:.2f}× with `--share-cores`.")
    return f"""## Concurrency on two cores: what bounds it

`bench/fast_model.py --concurrency`: the shipped fast graph (derived as the server does), clients on threads
calling ONNX Runtime directly on the pieces of a 187-character text, {a['rounds']} interleaved rounds, medians
(and the range, for the noise of this shared machine).

| arrangement | audio s/s | range | vs. 1 client on both cores |
|---|---|---|---|
{rows}

- The server's default runs one call at a time on the two-thread session: under load it gives what one client
  gets (the first row), by design. `--share-cores` runs two calls at a time on a one-thread session while both
  are busy (the last row).{end_to_end}
- **The ceiling.** Two cores each running a one-thread call give at most 2 × {narrow:.2f} = {2 * narrow:.2f} s/s,
  **{ceiling:.2f}×** one client on both cores: a two-thread call already runs {one / narrow:.2f}× as fast as
  a one-thread one, and concurrency can only win back what intra-op threading loses. 1.25× would need
  a two-thread call no better than 1.6× a one-thread one. The best arrangement measured, "{best}", gave
  {rates[best] / one:.2f}×.
- **The memory.** Running calls at once holds each one's activations at once: a fresh process running the longest
  piece of the texts ({a['longest_tokens']} tokens) peaks at {one_call:.0f} MB as one call on the two-thread session
  and {two_calls:.0f} MB as two calls at once on a one-thread session (+{two_calls - one_call:.0f} MB). The
  server under sustained overload peaks at {overload['load']['peak']:.0f} MB with one call at a time
  ([overload.md](overload.md)), against the 1,000 MB bound of the memory issue; `--share-cores` (a second
  session, so its own weights too) peaked at {overload['settings']['--share-cores']['peak']:.0f} MB in its per-setting
  run (original graph).
  Concurrency by default would break that bound for {rates[best] / one:.2f}× at best.
{sharing}- So the default stays one call at a time, and `--share-cores` remains the opt-in for a machine with the memory
  to spare. On two cores the 4-client target is bounded by {bound}. On machines with more cores, where one
  call's threads scale worse, the trade differs (not measured here).

"""


def profile_report(p: dict) -> str:
    shares = p["shares"]
    rows = "\n".join(f"| `{op}` | {share * 100:.1f}% |" for op, share in list(shares.items())[:10])
    rest = sum(list(shares.values())[10:])
    sin, source = shares.get("Sin", 0.0), p["harmonic_source_sin"]
    return f"""## Where the fast graph's time goes

ONNX Runtime's profile of the fast graph (`bench/fast_model.py --profile`: two passes over the 187-character
text's pieces, two threads), as shares of the summed kernel time:

| operator | share |
|---|---|
{rows}
| the other {len(shares) - 10} types | {rest * 100:.1f}% |

- **A cheaper `Sin` for the harmonic source (the issue's third avenue) is bounded by this table.** Its one `Sin`
  is {source * 100:.1f}% of the time: an exact formulation that removed it entirely would make the model at most
  {1 / (1 - source):.3f}× as fast. Not pursued.
- **`Sin` as a whole is the next avenue.** All `Sin` together take {sin * 100:.1f}%, and 48 of the 51 `Sin` nodes
  are the Snake activations (x + sin²(αx)/α), which work on every sample of every channel: there is no smaller
  tensor to move them to, and a cheaper approximation would change the output (the fused Snake op the issue
  tried was slower). A `Sin` twice as fast would make the model at most {1 / (1 - sin / 2):.2f}× as fast.
- The front's 19 `ConvInteger` (text encoder, duration and F0 predictors), which the rewrite leaves as they are,
  take {shares.get("ConvInteger", 0.0) * 100:.1f}%: rewriting them too could save at most that.

"""


def write_report(r: dict) -> None:
    s = r["speed"]
    med = {name: statistics.median(t) for name, t in s["timings"].items()}
    rows = []
    for name in ("original", *r["variants"]):
        q = r["variants"].get(name) or {**r["original"], "lsd": 0.0, "lsd_max": 0.0,
                                        "texts": len(VOICES) * len(QUALITY_TEXTS)}
        rows.append(f"| {name} | {s['audio_seconds'] / med[name]:.2f} | **{med['original'] / med[name]:.2f}×** | "
                    f"{q['wer'] * 100:.1f}% | {q['lsd']:.2f} (max {q['lsd_max']:.2f}) | {q['peak']:.2f} / "
                    f"{q['clipped']} | {q['quiet_db']:.1f} | {q['texts']} |")
    p = r["phase"]
    first = {name: statistics.median(t) for name, t in s["first"].items()}
    c = s["concurrency"]
    fast = r["variants"]["fast"]
    checks = {
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
    verdicts = []
    for name, q in r["variants"].items():
        if name == "fast":
            continue
        speed = med["original"] / med[name]
        verdicts.append(
            f"- **{name}**: {speed:.2f}× the floor ({speed / (med['original'] / med['fast']):.2f}× fast), LSD "
            f"{q['lsd']:.2f} dB on every fourth text (natural variation {p['lsd']:.2f}, fast {fast['lsd']:.2f}, "
            f"over all texts): {'within' if q['lsd'] <= p['lsd'] else '**beyond**'} the natural variation, "
            f"{'closer to' if q['lsd'] < fast['lsd'] else 'further from'} the original than fast.")
    concurrency_section = arrangements_report(s["arrangements"], s.get("sharing")) if "arrangements" in s else ""
    profile_section = profile_report(s["profile"]) if "profile" in s else ""
    check_rows = "\n".join(f"| {k} | {'pass' if v else '**fail**'} |" for k, v in checks.items())
    report = f"""# The engine: a faster int8 graph (issue 17)

Measured by `bench/fast_model.py` on {r['machine']}{' (QUICK smoke run)' if r['quick'] else ''}. Every figure
comes from one run; timings are medians of interleaved rounds on a 2-core machine shared with other work, so
read the ratios (each against the original in the same run), not the absolute times. Raw figures:
[bench/engine.json](bench/engine.json). Calibration: `tools/calibrate_fast.py`.

**The floor** is ONNX Runtime on the original int8 graph (the bundled Kokoro-82M v1.0 export), two intra-op
threads, the same run options as the server. Every variant is the same graph with its decoder rewritten by
`src/kokoro_speech/model/fast.py`; the front (text encoder, duration and F0 predictor) is untouched, so every
variant speaks with exactly the original's durations.

## What ships: `fast` — decoder convolutions as `QLinearConv` with per-channel output scaling

The 68 `ConvInteger` nodes of the decoder (≈58% of the model's time) become `QLinearConv` with the model's own
weights shifted into int8 (u8s8; this CPU has AVX512-VNNI and AMX-INT8). ONNX Runtime's `QLinearConv` kernel
is simply much faster than its `ConvInteger` here: the speed comes from the kernel, not from dropping the
per-call quantization (see `static only` below, which drops it and keeps `ConvInteger`). The activations are
still quantized on the call by the same `DynamicQuantizeLinear` as today. `QLinearConv` must quantize its
output to 8 bits with one scale; each output channel is scaled to its calibrated peak through a per-channel
weight scale and scaled back after `DequantizeLinear`, which makes it a per-channel output quantization.

## Where it applies

- CPU only, and only for the bundled model (checked by its SHA-256): the ranges are calibrated for it.
- The speed comes from ONNX Runtime's `QLinearConv` kernel on this CPU's int8 instructions (AVX512-VNNI,
  AMX-INT8); it was not measured on a CPU without them, where x86 u8s8 kernels can saturate. The server derives
  the graph on the machine that runs it and compares a sentence's audio with the original's there; a graph
  further than 5 dB (log-spectral distance) from it is discarded and the original used, so a CPU on which the
  rewrite degrades the audio falls back rather than serving it.
- The container image keeps the original graph and lets the server derive the faster one into its cache volume
  on first start (about 9 s to healthy here, derivation and check included), so the check runs on the machine
  that serves; with the cache on a volume later starts reuse it.
- At volume 1 the server soft-limits a sample over full scale instead of clipping it (the fast graph reached
  1.018 on one sample of 80 texts; `audio/volume.py`).

## Speed and quality of each variant

| variant | × real time | vs. floor | WER | LSD to original, dB | peak / clipped | quietest frames, dBFS | texts |
|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

Natural variation (the LSD reference): the original against itself with the harmonic source's 9 phases
randomised is **{p['lsd']:.2f} dB** (max {p['lsd_max']:.2f}); its WER {p['wer'] * 100:.1f}%.
Throughput: {s['audio_seconds']:.1f} s of audio ({len(SPEED_TEXTS)} texts' pieces, `af_heart`) per round,
{len(s['timings']['original'])} rounds.
Quality: {len(VOICES)} voices ({', '.join(VOICES)}) × {len(QUALITY_TEXTS)} texts for `fast` and the reference; the
variants that failed are judged on every fourth text (quality only needed to show they fail).

## Against the issue's targets (`fast`)

| check | result |
|---|---|
{check_rows}

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
  {s['peak_mb']['original']:.0f} MB, fast {s['peak_mb']['fast']:.0f} MB.

{concurrency_section}{profile_section}## The other avenues

{chr(10).join(verdicts)}

- Fixed input ranges must hold every voice, speed and text, so they are coarser than each call's own
  (`DynamicQuantizeLinear` picks the range per call): that is where their extra distance comes from. The
  per-call min/max pass they save is cheap next to the convolutions.
- One output scale per convolution (the plain QDQ conversion) drowns the small channels in the 8-bit step of
  the large ones; the per-channel scaling in `fast` removes that at no measurable cost.
- From the issue, not redone: float rewrites of `ConvInteger`, u8s8 weights under `ConvInteger`, OpenVINO,
  fused Snake / instance-norm ops, graph and threading options.
"""
    (REPO / "docs" / "engine.md").write_text(report)
    print(report)


if __name__ == "__main__":
    phases = {"--concurrency", "--profile"} & set(sys.argv)  # rerun only these into the saved results
    if phases or "--report" in sys.argv:
        saved = json.loads(RESULTS.read_text())
        saved["speed"]["concurrency"] = {k: {int(n): v for n, v in c.items()}
                                         for k, c in saved["speed"]["concurrency"].items()}
        if phases:
            graph = shipped()
            if "--concurrency" in phases:
                saved["speed"]["arrangements"] = arrangements(graph)
            if "--profile" in phases:  # with the weight-sharing measurement
                path, pieces, _, voice = graph
                saved["speed"]["profile"] = profile(path, pieces, voice.style_for)
                saved["speed"]["sharing"] = sharing(path)
            RESULTS.write_text(json.dumps(saved, indent=1, default=float))
        write_report(saved)  # --report alone: rewrite docs/engine.md from the saved results
    else:
        main()

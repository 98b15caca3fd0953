"""Roll 3 kokoro-speech replicas behind HAProxy while traffic runs: nothing may fail or be truncated.

docs/roll.md says how (the shipped deploy/haproxy/haproxy.cfg, ports rewritten); this fills its tables and figures.
Run: .venv/bin/python bench/roll.py (needs `haproxy` on PATH: apt-get install haproxy)
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx

from harness import REPO as ROOT
from harness import HAProxy, Server, ServerError, percentile, request, wait_until
from pages import fill, table

HAPROXY_CFG = ROOT / "deploy" / "haproxy" / "haproxy.cfg"

TEXTS = [
    "The kettle is on, and the tea will be ready in a minute.",
    "Rolling restarts should be invisible to the people listening.",
    "Please remember to water the plants on the balcony before Friday.",
    "Seven replicas, one balancer, and not a single dropped sentence.",
    "A short one.",
    "The meeting moved to half past three, in the small room on the second floor.",
]
VOICES = ["af_heart", "bm_george", "bf_emma", "am_michael"]
FORMATS = ["mp3", "wav", "aac", "opus", "flac", "pcm", "pcm"]  # pcm twice: more streams


@dataclass
class Result:
    started: float
    latency: float
    first_byte: float | None
    fmt: str
    key: tuple[str, str]
    seconds: float  # of audio, in a whole 200
    error: str | None
    retried_429: int


def haproxy_status(stats_url: str) -> dict[str, dict[str, str]]:
    text = httpx.get(stats_url + ";csv", timeout=2).text.lstrip("# ")
    return {row["svname"]: row for row in csv.DictReader(io.StringIO(text)) if row["pxname"] == "kokoro_replicas"}


def marked_up(stats_url: str, server: str) -> bool:
    with contextlib.suppress(httpx.HTTPError, KeyError):
        return haproxy_status(stats_url)[server]["status"].startswith("UP")
    return False


def client_loop(n: int, lb: str, stop: threading.Event, results: list[Result], lock: threading.Lock) -> None:
    rng = random.Random(n)
    with httpx.Client(timeout=httpx.Timeout(120, connect=5)) as client:
        while not stop.is_set():
            text, voice, fmt = rng.choice(TEXTS), rng.choice(VOICES), rng.choice(FORMATS)
            body = {"model": "kokoro-82m", "input": text, "voice": voice, "response_format": fmt}
            started, retries = time.monotonic(), 0
            while (reply := request(f"{lb}/v1/audio/speech", body, http=client)).status == "429" and retries < 10:
                retries += 1
                time.sleep(float(reply.retry_after or "1"))
            latency = time.monotonic() - started
            first = None if reply.first_byte is None else latency - reply.seconds + reply.first_byte
            error = None
            if reply.status != "200":
                error = f"HTTP {reply.status}: {reply.text[:200]!r}" if reply.status.isdigit() else reply.text
            with lock:
                results.append(Result(started, latency, first, fmt, (text, voice), reply.audio, error, retries))


def p50_p95(values) -> str:
    return f"{percentile(values, 50):.2f} s / {percentile(values, 95):.2f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache-dir", type=Path, default=None, help="shared by the replicas (default: the server's)")
    parser.add_argument("--base-port", type=int, default=18880, help="balancer; replicas on the next 3 ports")
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds of traffic before the roll")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds between two replica restarts")
    parser.add_argument("--tail", type=float, default=15.0, help="seconds of traffic after the roll")
    parser.add_argument("--max-seconds", type=float, default=300.0, help="hard bound on the whole run")
    args = parser.parse_args()

    haproxy = shutil.which("haproxy") or sys.exit("haproxy is not on PATH (Debian: apt-get install haproxy)")
    deadline = time.monotonic() + args.max_seconds
    work = Path(tempfile.mkdtemp(prefix="kokoro-roll-"))
    lb_port, stats_port = args.base_port, args.base_port + 10
    ports = [args.base_port + i for i in (1, 2, 3)]
    lb, stats_url = f"http://127.0.0.1:{lb_port}", f"http://127.0.0.1:{stats_port}/stats"

    cfg = HAPROXY_CFG.read_text()
    for i, port in enumerate(ports, 1):
        cfg = cfg.replace(f"127.0.0.1:888{i}", f"127.0.0.1:{port}")
    cfg = cfg.replace("127.0.0.1:8880", f"127.0.0.1:{lb_port}").replace("127.0.0.1:8404", f"127.0.0.1:{stats_port}")
    (work / "haproxy.cfg").write_text(cfg)

    common = ["--threads", "1", "--max-queued-requests", "4", "--shutdown-grace", "30", "--offline"]
    if args.cache_dir is not None:
        common += ["--cache-dir", str(args.cache_dir)]
    replicas = {f"r{i}": Server(port, *common, log=work / f"r{i}.log", new_session=True,
                                start=False) for i, port in enumerate(ports, 1)}
    exits: dict[str, list[int]] = {name: [] for name in replicas}
    balancer = None
    stop = threading.Event()
    results: list[Result] = []
    lock = threading.Lock()
    events: list[str] = []
    roll: dict[str, float] = {}
    clients: list[threading.Thread] = []

    def note(message: str) -> None:
        line = f"{time.monotonic() - t0:6.1f}s  {message}"
        events.append(line)
        print(line, flush=True)

    t0 = time.monotonic()
    try:
        for replica in replicas.values():
            replica.start()
        for replica in replicas.values():
            replica.wait_healthy(deadline - time.monotonic())
        note("3 replicas healthy")
        balancer = HAProxy(haproxy, work / "haproxy.cfg", work / "haproxy.log")
        for name in replicas:
            wait_until(partial(marked_up, stats_url, name), f"HAProxy marks {name} up", deadline - time.monotonic())
        note("haproxy: all replicas up")

        clients = [threading.Thread(target=client_loop, args=(n, lb, stop, results, lock), daemon=True)
                   for n in range(args.clients)]
        for thread in clients:
            thread.start()
        roll["traffic"] = time.monotonic()
        time.sleep(args.warmup)
        roll["start"] = time.monotonic()
        for name, replica in replicas.items():
            term = time.monotonic()
            code = replica.stop(timeout=max(1.0, deadline - time.monotonic()))
            exits[name].append(code)
            note(f"{name}: SIGTERM -> exit {code} after {time.monotonic() - term:.1f}s")
            replica.start()
            replica.wait_healthy(deadline - time.monotonic())
            note(f"{name}: restarted, /health 200 after {time.monotonic() - term:.1f}s")
            wait_until(partial(marked_up, stats_url, name), f"HAProxy marks {name} up", deadline - time.monotonic())
            note(f"{name}: up in haproxy after {time.monotonic() - term:.1f}s")
            if name != list(replicas)[-1]:
                time.sleep(args.settle)
        roll["end"] = time.monotonic()
        time.sleep(args.tail)
    finally:
        stop.set()
        for thread in clients:
            thread.join(timeout=max(1.0, min(120.0, deadline + 60 - time.monotonic())))
        lb_stats = {}
        with contextlib.suppress(httpx.HTTPError):
            lb_stats = haproxy_status(stats_url)
        if balancer is not None:
            balancer.stop(timeout=40)
        for replica in replicas.values():
            replica.terminate()  # all at once: they drain side by side
        for replica in (r for r in replicas.values() if r.process is not None):
            with contextlib.suppress(ServerError):  # killed
                replica.wait(timeout=40)
    if "end" not in roll:
        print(f"the roll did not finish; logs in {work}", file=sys.stderr)
        return 1

    # Truncation check: responses for the same text and voice must last as long as each other.
    by_key: dict[tuple[str, str], list[float]] = {}
    for r in results:
        by_key.setdefault(r.key, []).extend([r.seconds] if r.error is None else [])
    for r in results:
        if r.error is None and r.seconds < (reference := statistics.median(by_key[r.key])) - 0.15:
            r.error = f"truncated: {r.seconds:.2f}s of audio where the others have {reference:.2f}s"

    failures = [r for r in results if r.error]
    during = [r for r in results if roll["start"] <= r.started + r.latency and r.started <= roll["end"]]
    ok_lat = [r.latency for r in results if not r.error]
    during_lat = [r.latency for r in during if not r.error]
    ttfa_during = [r.first_byte for r in during if not r.error and r.first_byte is not None]
    formats = {f: sum(1 for r in results if r.fmt == f) for f in dict.fromkeys(FORMATS)}
    retried_429 = sum(r.retried_429 for r in results)
    retries = sum(int(row.get("wretr") or 0) for row in lb_stats.values())
    redispatches = sum(int(row.get("wredis") or 0) for row in lb_stats.values())
    audio = sum(r.seconds for r in results if not r.error)
    for r in failures[:20]:
        print("FAILED", r.fmt, r.key[1], r.error, file=sys.stderr)

    figures = [
        ["requests completed", f"{len(results)} ({', '.join(f'{k} {v}' for k, v in formats.items())})"],
        ["failed, truncated or undecodable", f"**{len(failures)}**"],
        ["429 passed through (retried by the client after Retry-After)", retried_429],
        ["retries / redispatches by HAProxy", f"{retries} / {redispatches}"],
        ["audio synthesized", f"{audio:.0f} s in {roll['end'] - roll['traffic'] + args.tail:.0f} s of traffic"],
        ["requests overlapping the roll", f"{len(during)} over {roll['end'] - roll['start']:.0f} s"],
        ["latency during the roll, p50 / p95", p50_p95(during_lat)],
        ["first byte during the roll, p50 / p95", p50_p95(ttfa_during)],
        ["latency over the whole run, p50 / p95", p50_p95(ok_lat)],
        ["replica exit codes after SIGTERM", ", ".join(str(c) for codes in exits.values() for c in codes)],
        ["replica peak RSS", ", ".join(f"{r.peak_rss_mb:.0f} MB" for r in replicas.values())]]
    fill(ROOT / "docs" / "roll.md", haproxy=balancer.version, cores=str(os.cpu_count()),
         clients=f"{args.clients} clients", mix=f"{len(VOICES)} voices, {len(TEXTS)} texts",
         figures=table(["figure", "value"], figures), timeline="\n".join(["```", *events, "```"]),
         failures="\n".join([f"- {r.fmt} {r.key[1]}: {r.error}" for r in failures[:20]] or ["- none"]))
    shutil.rmtree(work, ignore_errors=True) if not failures else print(f"logs kept in {work}")
    return 1 if failures or any(c != 0 for codes in exits.values() for c in codes) else 0


if __name__ == "__main__":
    sys.exit(main())

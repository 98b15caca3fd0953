"""Roll 3 kokoro-speech replicas behind HAProxy while traffic runs: nothing may fail or be truncated.

    .venv/bin/python bench/roll.py --voices-dir ../shared/kokoro-voices/v1_0        # writes docs/roll.md

Everything stays on 127.0.0.1 and is bounded (--max-seconds). It starts 3 replicas of the installed
server (`--threads 1` each, distinct ports, one shared cache dir) and HAProxy with the shipped
deploy/haproxy/haproxy.cfg (only its ports rewritten), drives steady mixed traffic through the balancer
(every format, several voices, pcm streamed chunk by chunk, a few concurrent clients), and rolls the
replicas one by one: SIGTERM, wait for the exit (the server drains its in-flight requests and exits 0),
start it again, wait for /health and for HAProxy to mark it up. Every completed response is decoded
with PyAV (pcm checked as s16le), and its duration compared with the other responses for the same text
and voice, so a truncated stream cannot pass. A 429 is honoured (sleep Retry-After, then retry) and
counted; anything else that is not a whole, decodable 200 is a failure. Needs `haproxy` on PATH
(Debian: apt-get install haproxy).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import av
import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
HAPROXY_CFG = ROOT / "deploy" / "haproxy" / "haproxy.cfg"
SAMPLE_RATE = 24000

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
    status: int
    fmt: str
    key: tuple[str, str]
    seconds: float | None = None
    error: str | None = None
    retried_429: int = 0


@dataclass
class Replica:
    name: str
    port: int
    args: list[str]
    log: Path
    proc: subprocess.Popen | None = None
    peak_rss_mb: float = 0.0
    exits: list[int] = field(default_factory=list)

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def rss_mb(self) -> float:
        if self.proc is None or self.proc.poll() is not None:
            return 0.0
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return 0.0
        hwm = re.search(r"VmHWM:\s+(\d+) kB", status)
        return int(hwm.group(1)) / 1024 if hwm else 0.0


def decode_seconds(data: bytes, fmt: str) -> float:
    """Seconds of audio in a whole response; raises if it does not decode."""
    if fmt == "pcm":
        if len(data) % 2:
            raise ValueError("odd number of pcm bytes")
        return len(data) / 2 / SAMPLE_RATE
    samples = 0
    with av.open(io.BytesIO(data), format={"aac": "aac", "opus": "ogg"}.get(fmt)) as container:
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            samples += frame.samples
            rate = frame.sample_rate
    if samples == 0:
        raise ValueError("no audio frames")
    return samples / rate


def wait_health(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"{url} not healthy in time")


def haproxy_status(stats_url: str) -> dict[str, dict[str, str]]:
    text = httpx.get(stats_url + ";csv", timeout=2).text.lstrip("# ")
    return {row["svname"]: row for row in csv.DictReader(io.StringIO(text)) if row["pxname"] == "kokoro_replicas"}


def wait_lb_up(stats_url: str, server: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            if haproxy_status(stats_url)[server]["status"].startswith("UP"):
                return
        except (httpx.HTTPError, KeyError):
            pass
        time.sleep(0.25)
    raise TimeoutError(f"HAProxy never marked {server} up")


def client_loop(n: int, lb: str, stop: threading.Event, results: list[Result], lock: threading.Lock) -> None:
    rng = random.Random(n)
    with httpx.Client(base_url=lb, timeout=httpx.Timeout(120, connect=5)) as client:
        while not stop.is_set():
            text, voice, fmt = rng.choice(TEXTS), rng.choice(VOICES), rng.choice(FORMATS)
            body = {"model": "kokoro-82m", "input": text, "voice": voice, "response_format": fmt}
            started = time.monotonic()
            result = Result(started, 0.0, None, 0, fmt, (text, voice))
            retries = 0
            while True:
                try:
                    with client.stream("POST", "/v1/audio/speech", json=body) as response:
                        result.status = response.status_code
                        if response.status_code == 429 and retries < 10:
                            retries += 1
                            response.read()
                            time.sleep(float(response.headers.get("retry-after", "1")))
                            continue
                        chunks = []
                        for chunk in response.iter_bytes():
                            if result.first_byte is None:
                                result.first_byte = time.monotonic() - started
                            chunks.append(chunk)
                    data = b"".join(chunks)
                    if result.status != 200:
                        result.error = f"HTTP {result.status}: {data[:200]!r}"
                    else:
                        result.seconds = decode_seconds(data, fmt)
                except Exception as exc:  # a reset, an incomplete chunked body, a decode error: all failures
                    result.error = f"{type(exc).__name__}: {exc}"
                break
            result.retried_429 = retries
            result.latency = time.monotonic() - started
            with lock:
                results.append(result)


def p50_p95(values) -> str:
    return f"{percentile(values, 50):.2f} s / {percentile(values, 95):.2f} s"


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--voices-dir", type=Path, default=ROOT.parent / "shared" / "kokoro-voices" / "v1_0")
    parser.add_argument("--cache-dir", type=Path, default=None, help="shared by the replicas (default: the server's)")
    parser.add_argument("--base-port", type=int, default=18880, help="balancer; replicas on the next 3 ports")
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds of traffic before the roll")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds between two replica restarts")
    parser.add_argument("--tail", type=float, default=15.0, help="seconds of traffic after the roll")
    parser.add_argument("--max-seconds", type=float, default=300.0, help="hard bound on the whole run")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "roll.md")
    args = parser.parse_args()

    haproxy = shutil.which("haproxy")
    if haproxy is None:
        sys.exit("haproxy is not on PATH (Debian: apt-get install haproxy)")
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

    exe = Path(sys.executable).parent / "kokoro-speech"
    common = ["serve", "--host", "127.0.0.1", "--threads", "1", "--max-queued-requests", "4",
              "--shutdown-grace", "30", "--voices-dir", str(args.voices_dir), "--offline", "--log-level", "warning"]
    if args.cache_dir is not None:
        common += ["--cache-dir", str(args.cache_dir)]
    replicas = [Replica(f"r{i}", port, [str(exe), *common, "--port", str(port)], work / f"r{i}.log")
                for i, port in enumerate(ports, 1)]
    lb_proc = None
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
        for replica in replicas:
            replica.start()
        for replica in replicas:
            wait_health(f"http://127.0.0.1:{replica.port}/health", deadline)
        note("3 replicas healthy")
        lb_proc = subprocess.Popen([haproxy, "-db", "-f", str(work / "haproxy.cfg")],
                                   stdout=(work / "haproxy.log").open("wb"), stderr=subprocess.STDOUT,
                                   start_new_session=True)
        for replica in replicas:
            wait_lb_up(stats_url, replica.name, deadline)
        note("haproxy: all replicas up")

        clients = [threading.Thread(target=client_loop, args=(n, lb, stop, results, lock), daemon=True)
                   for n in range(args.clients)]
        for thread in clients:
            thread.start()
        roll["traffic"] = time.monotonic()
        time.sleep(args.warmup)
        roll["start"] = time.monotonic()
        for replica in replicas:
            replica.peak_rss_mb = max(replica.peak_rss_mb, replica.rss_mb())
            term = time.monotonic()
            replica.proc.send_signal(signal.SIGTERM)
            code = replica.proc.wait(timeout=max(1.0, deadline - time.monotonic()))
            replica.exits.append(code)
            note(f"{replica.name}: SIGTERM -> exit {code} after {time.monotonic() - term:.1f}s")
            replica.start()
            wait_health(f"http://127.0.0.1:{replica.port}/health", deadline)
            note(f"{replica.name}: restarted, /health 200 after {time.monotonic() - term:.1f}s")
            wait_lb_up(stats_url, replica.name, deadline)
            note(f"{replica.name}: up in haproxy after {time.monotonic() - term:.1f}s")
            if replica is not replicas[-1]:
                time.sleep(args.settle)
        roll["end"] = time.monotonic()
        time.sleep(args.tail)
    finally:
        stop.set()
        for thread in clients:
            thread.join(timeout=max(1.0, min(120.0, deadline + 60 - time.monotonic())))
        lb_stats = {}
        try:
            lb_stats = haproxy_status(stats_url)
        except Exception:
            pass
        for replica in replicas:
            replica.peak_rss_mb = max(replica.peak_rss_mb, replica.rss_mb())
        for proc in [lb_proc, *(r.proc for r in replicas)]:
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in [lb_proc, *(r.proc for r in replicas)]:
            if proc is not None:
                try:
                    proc.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    proc.kill()
    if "end" not in roll:
        print(f"the roll did not finish; logs in {work}", file=sys.stderr)
        return 1

    # Truncation check: responses for the same text and voice must last as long as each other.
    by_key: dict[tuple[str, str], list[float]] = {}
    for r in results:
        if r.error is None:
            by_key.setdefault(r.key, []).append(r.seconds)
    for r in results:
        if r.error is None:
            reference = statistics.median(by_key[r.key])
            if r.seconds < reference - 0.15:
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

    lines = [
        "# Rolling 3 replicas behind HAProxy under traffic",
        "",
        "Written by `bench/roll.py` (run it again to refresh). Three replicas of the installed server",
        "(`kokoro-speech serve --threads 1 --max-queued-requests 4`, ports in a row, one shared cache dir) run",
        f"behind HAProxy {subprocess.run([haproxy, '-v'], capture_output=True, text=True).stdout.split()[2]} "
        "with the shipped `deploy/haproxy/haproxy.cfg` (only the ports",
        f"rewritten), on this machine's {os.cpu_count()} cores. {args.clients} clients send mixed requests "
        "without pause (every format,",
        f"{len(VOICES)} voices, {len(TEXTS)} texts, pcm streamed) while each replica in turn gets SIGTERM, "
        "drains, exits, is",
        "started again and waits for `/health` and for HAProxy to mark it up. Every completed response is",
        "decoded (PyAV; pcm as s16le) and its duration compared with the other responses for the same text",
        "and voice, so a truncated stream counts as a failure.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| requests completed | {len(results)} ({', '.join(f'{k} {v}' for k, v in formats.items())}) |",
        f"| failed, truncated or undecodable | **{len(failures)}** |",
        f"| 429 passed through (retried by the client after Retry-After) | {retried_429} |",
        f"| retries / redispatches by HAProxy | {retries} / {redispatches} |",
        f"| audio synthesized | {audio:.0f} s in {roll['end'] - roll['traffic'] + args.tail:.0f} s of traffic |",
        f"| requests overlapping the roll | {len(during)} over {roll['end'] - roll['start']:.0f} s |",
        f"| latency during the roll, p50 / p95 | {p50_p95(during_lat)} |",
        f"| first byte during the roll, p50 / p95 | {p50_p95(ttfa_during)} |",
        f"| latency over the whole run, p50 / p95 | {p50_p95(ok_lat)} |",
        f"| replica exit codes after SIGTERM | {', '.join(str(c) for r in replicas for c in r.exits)} |",
        f"| replica peak RSS | {', '.join(f'{r.peak_rss_mb:.0f} MB' for r in replicas)} |",
        "",
        "Timeline:",
        "",
        "```",
        *events,
        "```",
        "",
        "Latency is the whole request, from sending it to the last audio byte, for texts of 2-5 s of speech;",
        "during the roll only two replicas serve for a while, on cores the restarting one also needs to load",
        "its model, so the tail grows there. Failures:",
        "",
    ]
    lines += [f"- {r.fmt} {r.key[1]}: {r.error}" for r in failures[:20]] or ["- none"]
    args.output.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    shutil.rmtree(work, ignore_errors=True) if not failures else print(f"logs kept in {work}")
    return 1 if failures or any(c != 0 for r in replicas for c in r.exits) else 0


if __name__ == "__main__":
    sys.exit(main())

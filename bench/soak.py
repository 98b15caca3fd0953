"""Load and soak: 16 clients for 2 minutes against one server (mixed formats, languages, lengths, hang-ups);
docs/soak.md says what passes. Fills that page. Run: .venv/bin/python bench/soak.py [--clients 16] [--seconds 120]
(a short --seconds is a smoke test whose figures are not for committing)
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from harness import REPO, Server, in_threads, metric, request
from pages import checks, fill, table
from texts import LANGUAGE_TEXTS, TEXTS

PORT = 8893
QUEUE = 12  # admission limit: below the client count, so the 429 path is exercised
FORMATS = ("mp3", "wav", "aac", "opus", "flac", "pcm")
VOICES = ("af_heart", "bm_george", "nova", "onyx", "bf_emma", "af_heart(2)+bf_emma(1)")
# and a voice of each other language, with a text in it: the mix includes every language
OTHER_VOICES = {"ef_dora": "e", "ff_siwis": "f", "hm_omega": "h", "im_nicola": "i", "jf_alpha": "j",
                "pm_alex": "p", "zf_xiaoxiao": "z"}
MAX_REQUESTS = 2000  # a hard bound besides the time limit


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.status: Counter[str] = Counter()
        self.failures: list[str] = []
        self.audio = 0.0
        self.requests = 0
        self.malformed_refusals: list[str] = []

    def add(self, outcome: str, audio: float = 0.0, failure: str | None = None) -> None:
        with self.lock:
            self.status[outcome] += 1
            self.requests += 1
            self.audio += audio
            if failure:
                self.failures.append(failure)


def client(seed: int, url: str, deadline: float, tally: Tally, voices: tuple[str, ...]) -> None:
    rng = random.Random(seed)
    with httpx.Client(timeout=300) as http:
        while time.monotonic() < deadline and tally.requests < MAX_REQUESTS:
            fmt, voice, short = rng.choice(FORMATS), rng.choice(voices), rng.random() < 0.6
            text = (LANGUAGE_TEXTS[OTHER_VOICES[voice]][not short] if voice in OTHER_VOICES
                    else rng.choice(TEXTS[:8] if short else TEXTS[8:]))
            body = {"model": "tts-1", "input": text, "voice": voice, "response_format": fmt}
            reply = request(f"{url}/v1/audio/speech", body, http=http, abort=fmt == "pcm" and rng.random() < 0.4)
            if reply.status == "429":
                if '"rate_limit_error"' not in reply.text or not reply.retry_after:
                    tally.malformed_refusals.append(reply.text[:200])
                tally.add("429")
                time.sleep(float(reply.retry_after or 1))
            elif reply.status == "200" and reply.audio < 0.5:
                tally.add("error", failure=f"{fmt} {voice}: ValueError: only {reply.audio:.2f} s of audio")
            elif reply.status in ("200", "aborted"):  # aborted: hung up after the first chunk, mid-stream
                tally.add(reply.status, reply.audio)
            elif reply.status.isdigit():
                tally.add(reply.status, failure=f"{reply.status}: {reply.text[:200]}")
            else:  # a transport error or an undecodable body is a failure
                tally.add("error", failure=f"{fmt} {voice}: {reply.text}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=120)
    args = parser.parse_args()
    voices = VOICES + tuple(OTHER_VOICES)
    server = Server(PORT, "--max-queued-requests", str(QUEUE),
                    log=Path(tempfile.gettempdir()) / "kokoro-soak-server.log")
    url = server.url
    try:
        # One long request first: ONNX Runtime's arena grows to the largest piece it has seen (200 tokens)
        # and stays there, so that growth is start-up, not a leak; the 30 s baseline should include it.
        httpx.post(f"{url}/v1/audio/speech", timeout=600,
                   json={"input": " ".join(TEXTS[16:20]), "voice": "af_heart", "response_format": "pcm"})
        for voice in voices:  # each language's G2P is loaded on first use: start-up too
            httpx.post(f"{url}/v1/audio/phonemize", json={"input": "1, 2, 3.", "voice": voice}, timeout=120)
        idle = server.state()
        tally = Tally()
        started, seeds = time.monotonic(), itertools.count()
        deadline = started + args.seconds
        clients = threading.Thread(target=in_threads, args=(
            lambda: client(next(seeds), url, deadline, tally, voices), args.clients))
        clients.start()
        time.sleep(min(30, args.seconds / 2))
        at_30s = server.state()
        clients.join()
        wall = time.monotonic() - started
        time.sleep(3)  # let aborted syntheses finish their current piece
        at_end = server.state()
        active = metric(url, "kokoro_active_requests")
    finally:
        exit_code = server.stop()

    growth = at_end["rss_mb"] / at_30s["rss_mb"] - 1
    five_xx = sum(n for status, n in tally.status.items() if status.startswith("5"))
    results = {
        "zero 5xx": five_xx == 0,
        "every completed response decodes": not tally.failures,
        "every 429 is a rate_limit_error with Retry-After": not tally.malformed_refusals,
        "memory at the end within 10% of after 30 s": abs(growth) <= 0.10,
        "no leaked threads": at_end["threads"] <= at_30s["threads"],
        "no leaked file descriptors": at_end["fds"] <= idle["fds"] + 2,
        "clean exit on SIGTERM": exit_code == 0,
    }

    figures = [
        ["requests", f"{tally.requests} in {wall:.0f} s"],
        ["outcomes", ", ".join(f"{k}: {v}" for k, v in sorted(tally.status.items()))],
        ["audio delivered in completed responses", f"{tally.audio:.0f} s"], ["failures", len(tally.failures)],
        ["server memory idle / after 30 s / at the end",
         " / ".join(f"{state['rss_mb']:.0f}" for state in (idle, at_30s, at_end)) + f" MB ({growth:+.1%})"],
        ["threads idle / after 30 s / at the end", f"{idle['threads']} / {at_30s['threads']} / {at_end['threads']}"],
        ["open file descriptors idle / at the end", f"{idle['fds']} / {at_end['fds']}"],
        ["active requests after the run", active], ["exit code after SIGTERM", exit_code]]
    failures = "Failures:\n\n" + "\n".join(f"- {f}" for f in tally.failures[:20]) if tally.failures else ""
    fill(REPO / "docs" / "soak.md", load_size=f"{args.clients} clients for {args.seconds:.0f} s",
         queue=f"`--max-queued-requests {QUEUE}`", formats=", ".join(FORMATS), voices=", ".join(voices),
         figures=table(["figure", "value"], figures), checks=checks(results, fail="**FAIL**"), failures=failures)
    sys.exit(0 if all(results.values()) else 1)


if __name__ == "__main__":
    main()

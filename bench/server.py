"""The server under test, for the benchmarks: start it in its own process, time streamed requests, stop it."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
VOICES = Path(os.environ.get("KOKORO_VOICES_DIR") or REPO.parent / "shared" / "kokoro-voices" / "v1_0")


class BenchServer:
    def __init__(self, port: int, *extra: str) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = Path(tempfile.gettempdir()) / f"kokoro-bench-server-{port}.log"
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kokoro_speech", "serve", "--port", str(port), "--voices-dir", str(VOICES),
             "--log-level", "warning", *extra], stdout=subprocess.DEVNULL, stderr=self.log.open("w"))
        while time.perf_counter() - started < 120:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    self.cold_start = time.perf_counter() - started  # process start to /health 200
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.process.kill()
        raise RuntimeError(f"server did not become healthy; see {self.log}")

    def stream(self, text: str, response_format: str = "pcm", voice: str = "af_heart") -> tuple[float, float, int]:
        """(seconds to the first audio byte, seconds to the last, bytes) for one streamed request."""
        body = {"model": "kokoro-82m", "input": text, "voice": voice, "response_format": response_format}
        started = time.perf_counter()
        first, size = None, 0
        with httpx.stream("POST", f"{self.url}/v1/audio/speech", json=body, timeout=900) as response:
            response.raise_for_status()
            for chunk in response.iter_raw():
                if chunk and first is None:
                    first = time.perf_counter() - started
                size += len(chunk)
        return first, time.perf_counter() - started, size

    def stop(self) -> float:
        """Stop the server; returns its peak resident memory in MB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        peak_kb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
        self.process.terminate()
        self.process.wait(timeout=60)
        return peak_kb / 1024

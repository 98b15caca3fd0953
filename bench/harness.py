"""What the benchmarks share besides tests/support.py (servers, /proc, decoding, Whisper and WER, re-exported
here): the machine's description, timed speech requests and metrics, percentiles, clients on threads, the bare-model
floor and the kokoro-onnx peer.

The scripts next to this file import it as `harness` (a script's own folder is on sys.path when it runs).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from support import (  # noqa: E402, F401  (the path above first; re-exported for the scripts)
    SAMPLE_RATE, HAProxy, Server, ServerError, audio_seconds, decode, edit_errors, load_whisper, pitch,
    proc_status, redis_server, reset_peak, saved_pieces, wait_until, word_error_rate, word_errors, words,
)
QUICK = bool(os.environ.get("QUICK"))  # QUICK=1: a smoke run (fewer texts, runs, clients), not for committing


def machine() -> str:
    """CPU, cores, memory, OS, Python and ONNX Runtime, for a results page."""
    import onnxruntime

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return (f"{cpu}, {os.cpu_count()} cores, "
            f"{round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
            f"ONNX Runtime {onnxruntime.__version__}")


@dataclass
class Reply:
    """How one speech request went (`request`)."""

    status: str  # "200", another status code, "aborted" (hung up after the first chunk), or the exception's name
    seconds: float  # to the end of the response, of the refusal, or to the first chunk when aborted
    first_byte: float | None = None
    audio: float = 0.0  # seconds of audio in a whole 200, decoded
    retry_after: str | None = None
    text: str = ""  # the body of an answer that is not a 200, or the exception
    data: bytes = b""  # a whole 200's body


def request(url: str, body: dict, *, http=httpx, abort: bool = False, most_audio: float | None = None,
            timeout: float = 900, check: bool = False) -> Reply:
    """One POST of `body` to `url` (on `http`, an httpx.Client, or a connection of its own with `timeout`), timed,
    read to its end and its audio decoded, or hung up ("aborted") after the first chunk with `abort`, or once
    `most_audio` seconds of pcm have come. A refusal, a transport error or an undecodable body is a Reply too;
    with `check`, anything but a 200 or a hang-up raises."""
    started, first, data = time.monotonic(), None, bytearray()
    own = {"timeout": timeout} if http is httpx else {}  # a client keeps its own timeouts
    try:
        with http.stream("POST", url, json=body, **own) as response:
            if response.status_code != 200:
                reply = Reply(str(response.status_code), time.monotonic() - started,
                              retry_after=response.headers.get("retry-after"), text=response.read().decode())
            else:
                hung_up, enough = False, math.inf if most_audio is None else most_audio * 2 * SAMPLE_RATE
                for chunk in response.iter_raw():
                    first = time.monotonic() - started if first is None else first
                    data += chunk
                    if hung_up := abort or len(data) >= enough:
                        break
                fmt = body["response_format"]
                reply = Reply("aborted" if hung_up else "200", first if abort else time.monotonic() - started, first,
                              len(data) // 2 / SAMPLE_RATE if fmt == "pcm" else 0.0 if hung_up else
                              audio_seconds(bytes(data), fmt), data=bytes(data))
    except Exception as exc:  # a reset, a timeout, an incomplete chunked body, a decode error
        reply = Reply(type(exc).__name__, time.monotonic() - started, first, text=f"{type(exc).__name__}: {exc}",
                      audio=len(data) / 2 / SAMPLE_RATE if body.get("response_format") == "pcm" else 0.0)
    if check and reply.status not in ("200", "aborted"):
        raise RuntimeError(f"{url} answered {reply.status}: {reply.text[:300]}")
    return reply


def metric(url: str, name: str) -> float:
    """A server's /metrics value of `name` (a counter's `_total`); 0 when it has none yet."""
    found = re.search(rf"^{name}(?:_total)? ([0-9.e+-]+)$", httpx.get(f"{url}/metrics", timeout=10).text, re.M)
    return float(found.group(1)) if found else 0.0


def median_of(n: int, measure: Callable[..., float], *args) -> float:
    """The median of `n` runs of `measure(*args)`."""
    return statistics.median(measure(*args) for _ in range(n))


def seconds(call: Callable, *args) -> float:
    """Wall seconds of one call."""
    started = time.perf_counter()
    call(*args)
    return time.perf_counter() - started


def in_threads(client: Callable[[], None], n: int) -> float:
    """Run `client` on `n` threads at once (an exception in one is raised here): the wall seconds to the last end."""
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        list(pool.map(lambda _: client(), range(n)))
    return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100); nan for no values."""
    return float(np.percentile(values, q)) if len(values) else float("nan")


def model_file() -> Path:
    """The int8 Kokoro-82M file the server would use (bundled packages, offline)."""
    from kokoro_speech.config import Settings
    from kokoro_speech.model.weights import resolve_model

    settings = Settings(offline=True, _env_file=None)
    return resolve_model(None, settings.cache_dir, offline=True)


def floor_engine():
    """An engine on a bare session of `model_file()`, warm: its pieces' token ids, run on `engine.model`
    directly, are the floor (no text processing, HTTP or encoding)."""
    from kokoro_speech.model.session import KokoroModel
    from kokoro_speech.model.voices import VoiceRegistry
    from kokoro_speech.model.packs import embedded_voices_dir
    from kokoro_speech.pipeline.engine import Engine
    from kokoro_speech.pipeline.admission import Admission
    from kokoro_speech.pipeline.scheduler import Scheduler
    from kokoro_speech.text.phonemize import Phonemizers

    model = KokoroModel(model_file())
    voices = VoiceRegistry.from_dir(embedded_voices_dir())
    engine = Engine(model, voices, Phonemizers(), Scheduler(model, admission=Admission(max_requests=1)))
    engine.warm_up()
    return engine


class Peer:
    """kokoro-onnx 0.6.1 on the same model file and voice: `create` (whole text) and `create_stream` (first
    chunk). A context manager: the voice file it needs lives in a temporary folder until it is closed."""

    def __init__(self, model_path: Path, name: str, styles: np.ndarray) -> None:
        from kokoro_onnx import Kokoro

        self._tmp = tempfile.TemporaryDirectory()
        npz = Path(self._tmp.name) / "voices.npz"
        self.styles = styles.reshape(510, 1, 256)
        np.savez(npz, **{name: self.styles})
        self.kokoro = Kokoro(str(model_path), str(npz))

    def __enter__(self) -> Peer:
        return self

    def __exit__(self, *exc) -> None:
        del self.kokoro
        self._tmp.cleanup()

    def create(self, text: str) -> tuple[float, float]:
        """(wall seconds, audio seconds) for the whole text."""
        started = time.perf_counter()
        samples, rate = self.kokoro.create(text, self.styles, speed=1.0, lang="en-us")
        return time.perf_counter() - started, samples.size / rate

    def first_chunk(self, text: str) -> float:
        """Seconds to create_stream's first chunk."""
        async def run() -> float:
            started = time.perf_counter()
            stream = self.kokoro.create_stream(text, self.styles, speed=1.0, lang="en-us")
            async for _ in stream:
                elapsed = time.perf_counter() - started
                await stream.aclose()
                return elapsed
            raise RuntimeError("no audio")

        return asyncio.run(run())

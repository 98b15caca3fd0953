"""Shared fixtures: the real model and voices, loaded once, and live servers on loopback (support.LiveServer)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from support import LiveServer, load_whisper, redis_server
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


@pytest.fixture(scope="session")
def transcribe():
    """Speech-to-text with Whisper tiny.en (support.load_whisper): samples (at a rate, 24 kHz unless told) → text."""
    return load_whisper()


@pytest.fixture(scope="session")
def redis_url():
    """A private redis-server (support.redis_server) for the fleet's job store, database 0 (skipped where none is
    installed); each user keeps to a key prefix or database of its own."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install -y redis-server)")
    with redis_server() as url:
        yield f"{url}/0"

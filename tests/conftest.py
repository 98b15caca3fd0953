"""Shared fixtures: the real model and voices, loaded once, and live servers on loopback (support.LiveServer)."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import LiveServer, load_whisper
from kokoro_speech.api.app import create_app
from kokoro_speech.config import Settings
from kokoro_speech.pipeline.engine import Engine

REPO = Path(__file__).resolve().parents[1]
API_KEY = "sk-test-0123456789"


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

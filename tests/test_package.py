"""The wheel: built with `python -m build`, it carries everything a server needs (static files, vocabulary,
the 54 voice packs with their licence), and installed on its own it serves speech offline with no flags."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
import pytest

from conftest import REPO
from support import Server, decode

VOICE_COUNT = 54


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(REPO)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    (built,) = out.glob("kokoro_speech-*.whl")
    return built


def test_the_wheel_holds_the_package_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    voices = {n for n in names if n.startswith("kokoro_speech/data/voices/") and n.endswith(".pt")}
    assert len(voices) == VOICE_COUNT
    assert {"kokoro_speech/data/voices/LICENSE", "kokoro_speech/data/voices/README.md",
            "kokoro_speech/data/vocab.json", "kokoro_speech/static/index.html",
            "kokoro_speech/static/playground.js", "kokoro_speech/static/playground.css"} <= names
    assert not any(n.endswith(".onnx") for n in names), "the model comes from its PyPI packages, never the wheel"


def test_the_installed_wheel_serves_offline_with_no_flags(wheel, tmp_path):
    """Installed into a folder of its own (its dependencies from this environment), away from the source tree."""
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                    str(wheel)], check=True, timeout=300)
    env = {"PYTHONPATH": str(target), "HF_HUB_OFFLINE": "1"}
    where = subprocess.run([sys.executable, "-c", "import kokoro_speech; print(kokoro_speech.__file__)"],
                           cwd=tmp_path, env=os.environ | env, capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(target)), where  # the wheel's copy, not the source tree
    with Server(env=env, cwd=tmp_path) as server:
        voices = httpx.get(f"{server.url}/v1/audio/voices", timeout=10).json()["voices"]
        assert len(voices) == VOICE_COUNT
        speech = httpx.post(f"{server.url}/v1/audio/speech", timeout=120, json={
            "input": "Installed from the wheel.", "voice": "bm_george", "response_format": "wav"})
        assert speech.status_code == 200 and decode(speech.content, "wav").duration > 1.0
        assert httpx.get(f"{server.url}/", timeout=10).status_code == 200  # the playground's static files

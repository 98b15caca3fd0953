"""The kokoro-speech command: serve's start-up checks, voices, and say (in-process engine, real model)."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import VOICES_DIR, decode

CLI = [sys.executable, "-m", "kokoro_speech"]


def run(*args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KOKORO_")} | (env or {})
    return subprocess.run([*CLI, *args], input=stdin, capture_output=True, text=True, timeout=300, env=environment)


def test_serve_refuses_a_public_address_without_keys():
    result = run("serve", "--host", "0.0.0.0", "--voices-dir", str(VOICES_DIR))
    assert result.returncode == 2
    assert "KOKORO_API_KEYS" in result.stderr and "--insecure-no-auth" in result.stderr


def test_serve_names_a_missing_model_file(tmp_path):
    result = run("serve", "--model", str(tmp_path / "missing.onnx"), "--voices-dir", str(VOICES_DIR))
    assert result.returncode == 2 and "missing.onnx" in result.stderr


def test_serve_names_a_missing_key_file(tmp_path):
    result = run("serve", "--api-key-file", str(tmp_path / "keys.txt"), "--voices-dir", str(VOICES_DIR))
    assert result.returncode == 2 and "keys.txt" in result.stderr


def test_voices_lists_all_with_aliases():
    result = run("voices", "--voices-dir", str(VOICES_DIR))
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0 and len(lines) == 54
    assert any(line.startswith("bm_fable") and "fable" in line.split()[-1] for line in lines)


def test_say_writes_audio_from_an_argument_and_from_stdin(tmp_path):
    out = tmp_path / "hello.wav"
    result = run("say", "Hello from the command line.", "-o", str(out), "--voice", "bf_emma", "-q",
                 "--voices-dir", str(VOICES_DIR))
    assert result.returncode == 0, result.stderr
    assert 1.0 < decode(out.read_bytes(), "wav").duration < 4.0
    piped = tmp_path / "piped.mp3"
    result = run("say", "-o", str(piped), "--voices-dir", str(VOICES_DIR), stdin="Read from standard input.")
    assert result.returncode == 0, result.stderr
    assert decode(piped.read_bytes(), "mp3").duration > 1.0


def test_say_reports_bad_voice_clearly(tmp_path):
    result = run("say", "Hi.", "-o", str(tmp_path / "x.mp3"), "--voice", "zz_nobody", "--voices-dir", str(VOICES_DIR))
    assert result.returncode == 2 and "zz_nobody" in result.stderr

"""The kokoro-speech command: serve's start-up checks, voices, and say (in-process engine, real model)."""

from __future__ import annotations

import pytest

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile

from support import decode
from kokoro_speech.model.packs import embedded_voices_dir

CLI = [sys.executable, "-m", "kokoro_speech"]


def run(*args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KOKORO_")} | (env or {})
    # never the user's own saved voices: they would change what `voices` lists
    environment.setdefault("KOKORO_SAVED_VOICES_DIR", os.path.join(tempfile.mkdtemp(), "saved-voices"))
    return subprocess.run([*CLI, *args], input=stdin, capture_output=True, text=True, timeout=300, env=environment)


@pytest.mark.unit
def test_serve_refuses_a_public_address_without_keys():
    result = run("serve", "--host", "0.0.0.0")
    assert result.returncode == 2
    assert "KOKORO_API_KEYS" in result.stderr and "--insecure-no-auth" in result.stderr


@pytest.mark.unit
def test_serve_names_a_missing_model_file(tmp_path):
    result = run("serve", "--model", str(tmp_path / "missing.onnx"))
    assert result.returncode == 2 and "missing.onnx" in result.stderr


@pytest.mark.unit
def test_serve_names_a_missing_key_file(tmp_path):
    result = run("serve", "--api-key-file", str(tmp_path / "keys.txt"))
    assert result.returncode == 2 and "keys.txt" in result.stderr


@pytest.mark.unit
def test_wyoming_zeroconf_needs_a_port_and_its_package():
    result = run("serve", "--wyoming-zeroconf")
    assert result.returncode == 2 and "--wyoming-port" in result.stderr
    if importlib.util.find_spec("zeroconf") is None:
        result = run("serve", "--wyoming-zeroconf", "--wyoming-port", "10200")
        assert result.returncode == 2 and "kokoro-speech[zeroconf]" in result.stderr


@pytest.mark.unit
def test_voices_lists_all_with_aliases():
    result = run("voices")
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0 and len(lines) == 54  # the embedded packs, no flags needed
    assert any(line.startswith("bm_fable") and "fable" in line.split()[-1] for line in lines)


@pytest.mark.unit
def test_a_voices_folder_adds_to_the_embedded_voices(tmp_path):
    shutil.copy(embedded_voices_dir() / "bf_emma.pt", tmp_path / "my_narrator.pt")
    result = run("voices", "--voices-dir", str(tmp_path))
    ids = [line.split()[0] for line in result.stdout.strip().splitlines()]
    assert result.returncode == 0 and len(ids) == 55 and "my_narrator" in ids and "af_heart" in ids


def test_say_writes_audio_from_an_argument_and_from_stdin(tmp_path):
    out = tmp_path / "hello.wav"
    result = run("say", "Hello from the command line.", "-o", str(out), "--voice", "bf_emma", "-q")
    assert result.returncode == 0, result.stderr
    assert 1.0 < decode(out.read_bytes(), "wav").duration < 4.0
    piped = tmp_path / "piped.mp3"
    result = run("say", "-o", str(piped), stdin="Read from standard input.")
    assert result.returncode == 0, result.stderr
    assert decode(piped.read_bytes(), "mp3").duration > 1.0


def test_say_reports_bad_voice_clearly(tmp_path):
    result = run("say", "Hi.", "-o", str(tmp_path / "x.mp3"), "--voice", "zz_nobody")
    assert result.returncode == 2 and "zz_nobody" in result.stderr


def test_say_reads_ssml_at_a_sample_rate_and_volume_with_a_saved_voice(tmp_path):
    saved = {"KOKORO_SAVED_VOICES_DIR": str(tmp_path / "saved")}
    result = run("voices", "--save", "cli_voice", "--blend", "bf_emma(1)+bf_alice(1)", env=saved)
    assert result.returncode == 0 and "saved voice 'cli_voice'" in result.stdout, result.stderr
    listed = run("voices", env=saved).stdout
    assert "cli_voice" in listed and "saved: bf_emma(1)+bf_alice(1)" in listed
    out = tmp_path / "hi.wav"
    result = run("say", '<speak>Hi <break time="1s"/> there.</speak>', "-o", str(out), "--voice", "cli_voice",
                 "--sample-rate", "16000", "--volume", "0.5", "-q", env=saved)
    assert result.returncode == 0, result.stderr
    audio = decode(out.read_bytes(), "wav")
    assert audio.sample_rate == 16000 and 1.5 < audio.duration < 3.5
    assert int((abs(audio.samples) < 1 / 32768).sum()) > 16000 * 0.95  # the second of silence, at 16 kHz
    refused = run("say", "Hi.", "-o", str(out), "--sample-rate", "11025")
    assert refused.returncode == 2 and "--sample-rate" in refused.stderr
    assert run("voices", "--delete", "cli_voice", env=saved).returncode == 0
    assert "cli_voice" not in run("voices", env=saved).stdout
def test_say_writes_subtitles_beside_the_audio(tmp_path):
    result = run("say", "Hello there. How are you today?", "-o", str(tmp_path / "hi.mp3"), "--subtitles",
                 str(tmp_path / "hi.srt"), "-q")
    assert result.returncode == 0, result.stderr
    cues = (tmp_path / "hi.srt").read_text(encoding="utf-8").split("\n\n")
    assert cues[0].startswith("1\n00:00:00,") and cues[0].endswith("\nHello there")
    assert cues[1].startswith("2\n00:00:0") and cues[1].rstrip().endswith("\nHow are you today")
    bad = run("say", "Hi.", "-o", str(tmp_path / "hi.mp3"), "--subtitles", str(tmp_path / "hi.txt"))
    assert bad.returncode != 0 and ".vtt" in bad.stderr and ".srt" in bad.stderr


def test_say_reads_voice_tags_with_aliases(tmp_path):
    out = tmp_path / "scene.wav"
    text = "[voice:narrator] It was late. [voice:af_heart] Who is there? [voice:narrator] Nobody answered."
    result = run("say", "--voice-tags", "--alias", "narrator=bm_george", "-q", "-o", str(out), text)
    assert result.returncode == 0, result.stderr
    plain = tmp_path / "plain.wav"
    assert run("say", "-q", "-o", str(plain), text).returncode == 0
    # the tags are not read aloud: the scene is much shorter than the text with its tags said as words
    assert decode(out.read_bytes(), "wav").duration < 0.8 * decode(plain.read_bytes(), "wav").duration
    bad = run("say", "--voice-tags", "-q", "-o", str(out), "[voice:nobody] Hi.")
    assert bad.returncode != 0 and "[voice:nobody]" in bad.stderr

"""The README is executable: its curl, Python and JavaScript examples run against a live server, and its
configuration table lists every setting exactly as the code declares it."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from conftest import REPO
from support import decode
from kokoro_speech.config import Settings

README = (REPO / "README.md").read_text()
DEFAULT_URL = "http://127.0.0.1:8880"


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.DOTALL)


def _written_default(value) -> str:
    """A default as the README's Default column writes it."""
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if value == "":
        return "empty"
    return f"`{value}`"


@pytest.mark.unit
def test_configuration_table_lists_every_setting_with_its_default():
    rows = {m.group(1): (m.group(2), m.group(3)) for m in re.finditer(
        r"^\| `(--[a-z-]+)` \| `(KOKORO_\w+)` \| (.*?) \| .* \|$", README, re.MULTILINE)}
    for name, field in Settings.model_fields.items():
        flag = "--" + name.replace("_", "-")
        assert flag in rows, f"README's configuration table lacks {flag}"
        variable, written = rows[flag]
        assert variable == f"KOKORO_{name.upper()}"
        if field.default_factory is not None:  # computed where it runs (the cache dir): said in words
            assert written.startswith("`$XDG_CACHE_HOME"), (flag, written)
        elif field.default is None:  # unset: the column says what happens instead
            assert not re.fullmatch(r"`[^`]*`", written) or written == "`none`", (flag, written)
        else:
            assert written == _written_default(field.default), f"{flag}: README says {written}, code {field.default}"
    assert len(rows) == len(Settings.model_fields), "the table lists a setting the code does not have"


@pytest.mark.unit
def test_the_two_quick_start_commands_come_first():
    first_block = code_blocks("bash")[0].strip().splitlines()
    assert first_block[0].startswith("python3 -m venv .venv && .venv/bin/pip install -e . && ")
    assert first_block[0].endswith(".venv/bin/kokoro-speech serve")  # no flags, no path outside the clone
    assert "../shared" not in (REPO / "README.md").read_text(), "nothing may depend on a folder beside the clone"
    ci = (REPO / ".ci" / "run").read_text()
    assert first_block[1] in ci, ".ci/run must run exactly the README's test command"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_example(server, tmp_path):
    example = next(b for b in code_blocks("bash") if b.lstrip().startswith("curl"))
    result = subprocess.run(["bash", "-c", example.replace(DEFAULT_URL, server.url)], cwd=tmp_path,
                            env={"KOKORO_KEY": "unused", "PATH": "/usr/bin:/bin"}, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    audio = decode((tmp_path / "evening.wav").read_bytes(), "wav")
    assert audio.sample_rate == 24_000 and audio.duration > 1.0


def test_python_sdk_example(server, tmp_path, monkeypatch):
    example = code_blocks("python")[0].replace(DEFAULT_URL, server.url)
    received = bytearray()

    class Player:
        def write(self, chunk: bytes) -> None:
            received.extend(chunk)

    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README.md", "exec"), {"player": Player()})
    assert decode((tmp_path / "hello.mp3").read_bytes(), "mp3").duration > 1.0
    assert decode(bytes(received), "pcm").duration > 1.5


def test_websocket_example(server):
    example = next(b for b in code_blocks("python") if "/v1/audio/speech/stream" in b)
    received = bytearray()

    class Player:
        def write(self, chunk: bytes) -> None:
            received.extend(chunk)

    exec(compile(example.replace("127.0.0.1:8880", f"127.0.0.1:{server.port}"), "README.md", "exec"),
         {"player": Player()})
    assert decode(bytes(received), "pcm").duration > 1.0


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_javascript_fetch_example(server, tmp_path):
    example = code_blocks("js")[0].replace(DEFAULT_URL, server.url)
    script = tmp_path / "example.mjs"
    script.write_text('const key = "unused";\nlet bytes = 0, chunks = 0;\n'
                      "const play = (value) => { bytes += value.length; chunks += 1; };\n"
                      f"{example}\nconsole.log(JSON.stringify({{ bytes, chunks }}));\n")
    result = subprocess.run(["node", str(script)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    counts = __import__("json").loads(result.stdout.strip().splitlines()[-1])
    assert counts["bytes"] > 24_000 * 2 and counts["chunks"] >= 1

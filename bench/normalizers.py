"""The normalizers the pronunciation benchmark compares: this checkout's, a previous release's and Kokoro-FastAPI's.

The other two run in a child process each (their modules would clash with this checkout's): `python
bench/normalizers.py previous SRC` or `... fastapi SRC` reads a JSON list of texts on stdin and writes the list
of normalized texts. SRC is a folder extracted from git by `extract` (`git archive`), so that nothing of theirs
is installed or copied into this project.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tarfile
import types
from io import BytesIO
from pathlib import Path

FASTAPI_FILES = ("api/src/services/text_processing/normalizer.py", "api/src/structures/schemas.py")


def extract(git_dir: Path, rev: str, paths: tuple[str, ...], into: Path) -> Path:
    """`paths` of `rev` in the repository at `git_dir`, written under `into`."""
    archive = subprocess.run(["git", "-C", str(git_dir), "archive", "--format=tar", rev, *paths],
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def run(kind: str, source: Path, texts: list[str]) -> list[str]:
    """`texts` normalized by the `kind` normalizer ("previous" or "fastapi") found under `source`."""
    done = subprocess.run([sys.executable, __file__, kind, str(source)], input=json.dumps(texts), text=True,
                          capture_output=True, check=False)
    if done.returncode:
        raise RuntimeError(f"the {kind} normalizer failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)


def _load(name: str, path: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _fastapi(source: Path):
    """Kokoro-FastAPI's `normalize_text` with its default options, as its English pipeline calls it. Its
    module imports torch for nothing it uses; a stand-in is given when torch is absent."""
    if importlib.util.find_spec("torch") is None:
        sys.modules["torch"] = types.SimpleNamespace(mul=None)
    for package in ("kfa", "kfa.services", "kfa.services.text_processing", "kfa.structures"):
        sys.modules[package] = types.ModuleType(package)
        sys.modules[package].__path__ = []
    schemas = _load("kfa.structures.schemas", source / "api/src/structures/schemas.py")
    normalizer = _load("kfa.services.text_processing.normalizer",
                       source / "api/src/services/text_processing/normalizer.py")
    options = schemas.NormalizationOptions()
    return lambda text: normalizer.normalize_text(text, options)


def _previous(source: Path):
    sys.path.insert(0, str(source / "src"))
    from kokoro_speech.text.normalize import normalize

    return normalize


if __name__ == "__main__":
    kind, source = sys.argv[1], Path(sys.argv[2])
    normalize = _fastapi(source) if kind == "fastapi" else _previous(source)
    json.dump([normalize(text) for text in json.load(sys.stdin)], sys.stdout)

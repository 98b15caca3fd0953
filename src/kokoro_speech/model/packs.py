"""Voice pack files: the 54 embedded packs, the official set from Hugging Face, the user's folder, and reading one.

A pack is 510 style vectors of 256 float32 values (one per phoneme-token count); .pt packs are read as raw
float32 from their zip without unpickling anything.
"""

from __future__ import annotations

import importlib.resources
import io
import zipfile
from pathlib import Path

import numpy as np

from kokoro_speech.errors import SetupError
from kokoro_speech.kokoro import MAX_TOKENS, STYLE_SIZE

HF_VOICES_REPO = "hexgrad/Kokoro-82M"

VOICE_SHAPE = (MAX_TOKENS, STYLE_SIZE)  # one 256-dim style vector per phoneme-token count
VOICE_SUFFIXES = (".pt", ".bin", ".npy")


def embedded_voices_dir() -> Path:
    """The 54 official v1.0 voice packs shipped inside the package (Apache-2.0; see their README)."""
    return Path(str(importlib.resources.files("kokoro_speech") / "data" / "voices"))


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


# The template of a written .pt: an embedded pack, whose other members (PyTorch's tensor description, version,
# byte order) describe any [510, 1, 256] float32 tensor; only the tensor's bytes and the folder name change.
_TEMPLATE_PACK = "af_heart"


def pack_bytes(name: str, styles: np.ndarray) -> bytes:
    """`styles` as a .pt voice pack named `name`, laid out as the official packs are (PyTorch's zip format, so
    torch.load and Kokoro's own tools read it, and so does read_voice), without importing PyTorch."""
    data = np.ascontiguousarray(styles, dtype="<f4").reshape(VOICE_SHAPE).tobytes()
    out = io.BytesIO()
    with zipfile.ZipFile(embedded_voices_dir() / f"{_TEMPLATE_PACK}.pt") as template, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as pack:
        for member in template.infolist():
            inner = member.filename.split("/", 1)[1]
            pack.writestr(f"{name}/{inner}", data if inner == "data/0" else template.read(member))
    return out.getvalue()


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
            f"voice file {path} is not a Kokoro v1.0 voice pack ({exc}): expected {VOICE_SHAPE[0]}x{VOICE_SHAPE[1]} "
            "float32 values; "
            "replace or remove it"
        ) from exc
    if not np.isfinite(voice).all():
        raise SetupError(f"voice file {path} holds NaN or infinite values: replace or remove it")
    return voice.astype(np.float32, copy=True)

"""The work folder of one book: each finished piece's audio (FLAC) and word times, written atomically, so a
run killed at any moment resumes where it stopped and never says a finished piece twice.

The folder sits beside the output, named by a hash of the input and every argument that changes the audio.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import time
from pathlib import Path

import av
import numpy as np

from kokoro_speech.audio.encode import FORMATS, Encoder
from kokoro_speech.jobs.narrate import Piece

FOLDER_VERSION = 1  # bump when the plan or the stored files change shape
STALE_SECONDS = 600.0  # a temporary file this old was left by a killed writer (writing one takes milliseconds)


def work_key(data: bytes, arguments: dict) -> str:
    """A short hash of the input's bytes and the arguments that shape its audio."""
    digest = hashlib.sha256(data)
    digest.update(json.dumps({"version": FOLDER_VERSION, **arguments}, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


def work_folder(output: Path, key: str) -> Path:
    return output.parent / f".{output.name}.{key}.parts"


def atomic_write(path: Path, data: bytes) -> None:
    """`data` at `path` whole or not at all: a temporary file beside it, flushed to disk, then renamed."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)
    try:
        directory = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(directory)  # the rename itself survives a power loss
    except OSError:
        pass
    finally:
        os.close(directory)


def _flac(samples: np.ndarray) -> bytes:
    encoder = Encoder(FORMATS["flac"])
    head = encoder.encode(samples)
    return head + b"".join(encoder.finish())


def _unflac(data: bytes) -> np.ndarray:
    with av.open(io.BytesIO(data)) as container:
        frames = [frame.to_ndarray().reshape(-1) for frame in container.decode(audio=0)]
    if not frames:
        return np.zeros(0, np.float32)
    samples = np.concatenate(frames)
    return samples.astype(np.float32) / 32768 if samples.dtype.kind == "i" else samples.astype(np.float32)


class PieceStore:
    """Finished pieces: `<key>.flac` (the audio) then `<key>.json` (its length and words); the JSON is
    written last, so its presence means the piece is complete."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        cutoff = time.time() - STALE_SECONDS
        for stale in folder.glob(".*.tmp"):  # a write cut off by a kill (not one another replica is making)
            try:
                if stale.stat().st_mtime < cutoff:
                    stale.unlink(missing_ok=True)
            except FileNotFoundError:
                pass

    def _meta(self, piece: Piece) -> Path:
        return self.folder / f"{piece.key}.json"

    def done(self, piece: Piece) -> bool:
        return self._meta(piece).exists()

    def save(self, piece: Piece, samples: np.ndarray, words: list[dict], speed: float) -> None:
        atomic_write(self.folder / f"{piece.key}.flac", _flac(samples))
        meta = {"samples": int(samples.size), "words": words, "speed": speed, "characters": piece.characters}
        atomic_write(self._meta(piece), json.dumps(meta, ensure_ascii=False).encode())

    def info(self, piece: Piece) -> dict:
        return json.loads(self._meta(piece).read_text(encoding="utf-8"))

    def audio(self, piece: Piece) -> np.ndarray:
        return _unflac((self.folder / f"{piece.key}.flac").read_bytes())

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

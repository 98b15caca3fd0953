"""Kept audio files (Kokoro-FastAPI's download links): a speech request with `return_download_link` also writes
its audio (in `download_format`) to the downloads folder, and `GET /v1/download/{file}` (api/downloads.py) serves it.

A file belongs to the key that made it (another key gets 404, as for a file that does not exist), appears only
once complete, and goes after `--download-ttl-seconds` or when the folder passes `--downloads-max-bytes` (oldest
first). Names are random and checked against one pattern, so no path a client sends can reach outside the folder.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import secrets
import threading
import time
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
from kokoro_speech.api.streaming import AudioCopy
from kokoro_speech.audio.encode import FORMATS, AudioFormat, Encoder
from kokoro_speech.errors import NotFound
from kokoro_speech.kokoro import SAMPLE_RATE
from kokoro_speech.pipeline.timestamps import WordTime

log = logging.getLogger(__name__)

# a kept file's name: its random id and its format; `.json` after it is its timing sidecar
FILE_NAME = re.compile(rf"[A-Za-z0-9_-]{{16,64}}\.(?:{'|'.join(FORMATS)})(?:\.json)?")


def _owner_file(path: Path) -> Path:
    return path.with_name(f".{path.name}.owner")  # hidden: never matches FILE_NAME, never served


class KeptAudio(AudioCopy):
    """One kept file being written while its request streams (an AudioCopy): the same bytes as the response,
    or the samples encoded again in another format, and with `timing` Kokoro-FastAPI's per-chunk sidecar."""

    def __init__(self, path: Path, fmt: AudioFormat, *, owner: str | None, same_as_stream: bool, timing: bool,
                 sample_rate: int | None, volume: float) -> None:
        self.path = path
        self.owner = owner
        self._partial = path.with_name(f".{path.name}.partial")
        self._file: BinaryIO = self._partial.open("wb")
        # the response's own bytes when the formats agree; otherwise an encoder of its own
        self._encoder = None if same_as_stream else Encoder(fmt, sample_rate=sample_rate, volume=volume)
        self._timing: list[dict] | None = [] if timing else None
        self._samples = 0

    @property
    def download_path(self) -> str:
        return f"/download/{self.path.name}"

    def add(self, samples: np.ndarray, data: bytes, words: list[WordTime]) -> None:
        self._file.write(self._encoder.encode(samples) if self._encoder is not None else data)
        if self._timing is not None and samples.size:
            start, self._samples = self._samples, self._samples + samples.size
            self._timing.append({"text": " ".join(w.word for w in words), "start": round(start / SAMPLE_RATE, 3),
                                 "end": round(self._samples / SAMPLE_RATE, 3)})

    def finish(self, tail: bytes) -> None:
        """The rest of the audio, then the file (and its sidecars) in place."""
        if self._encoder is not None:
            for chunk in self._encoder.finish():
                self._file.write(chunk)
            self._encoder.close()
        else:
            self._file.write(tail)
        self._file.close()
        _owner_file(self.path).write_text(json.dumps({"owner": self.owner}))
        if self._timing is not None:
            self.path.with_name(self.path.name + ".json").write_text(json.dumps({"chunks": self._timing}))
        os.replace(self._partial, self.path)  # complete, so it exists from now on

    def abort(self) -> None:
        if self._encoder is not None:
            self._encoder.close()
        self._file.close()
        self._partial.unlink(missing_ok=True)


class Downloads:
    """The downloads folder: kept files by name, who owns each, and the time and size budget."""

    def __init__(self, folder: Path, *, max_age_seconds: float, max_bytes: int) -> None:
        self.folder = folder
        self.max_age_seconds = max_age_seconds
        self.max_bytes = max_bytes
        self._lock = threading.Lock()

    def keep(self, fmt: AudioFormat, *, owner: str | None, same_as_stream: bool, timing: bool = False,
             sample_rate: int | None = None, volume: float = 1.0) -> KeptAudio:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.expire()
        path = self.folder / f"{secrets.token_urlsafe(18)}.{fmt.name}"
        return KeptAudio(path, fmt, owner=owner, same_as_stream=same_as_stream, timing=timing,
                         sample_rate=sample_rate, volume=volume)

    async def copy_for(self, streamed: AudioFormat, kept: AudioFormat, headers: dict[str, str], *,
                       owner: str | None, timing: bool, sample_rate: int | None, volume: float) -> KeptAudio:
        """A kept copy of a response being streamed as `streamed` (speech's and the dialogue's
        return_download_link): its path in `headers` (X-Download-Path, and X-Timing-Path with `timing`)."""
        copy = await asyncio.to_thread(self.keep, kept, owner=owner, timing=timing, same_as_stream=kept is streamed,
                                       sample_rate=sample_rate, volume=volume)
        headers["X-Download-Path"] = copy.download_path
        if timing:
            headers["X-Timing-Path"] = f"{copy.download_path}.json"
        return copy

    def _path(self, name: str) -> Path | None:
        if not FILE_NAME.fullmatch(name):
            return None
        path = self.folder / name
        return path if path.is_file() else None

    def owner(self, name: str) -> str | None | Literal[False]:
        """The key id that made the file `name` (None: made while keys were off); False when there is none."""
        path = self._path(name)
        if path is None:
            return False
        audio = path.with_name(path.name.removesuffix(".json"))
        try:
            return json.loads(_owner_file(audio).read_text()).get("owner")
        except (OSError, ValueError):
            return False  # no record of who made it: no one may have it

    def file(self, name: str) -> Path:
        path = self._path(name)
        if path is None or self.expired(path):
            raise NotFound(f"there is no file '{name}' (kept files expire after a while)", param="filename")
        return path

    def expired(self, path: Path) -> bool:
        try:
            return time.time() - path.stat().st_mtime > self.max_age_seconds
        except OSError:
            return True

    def expire(self) -> None:
        """Remove what is past its time, then the oldest files until the folder fits its size budget."""
        with self._lock:
            try:
                entries = [p for p in self.folder.iterdir() if p.is_file()]
            except OSError:
                return
            groups: dict[str, list[Path]] = {}
            for path in entries:  # a kept file with its owner and timing sidecars, and its partial copy
                groups.setdefault(path.name.lstrip(".").split(".")[0], []).append(path)
            now = time.time()
            ages = {key: max(now - p.stat().st_mtime for p in paths) for key, paths in groups.items()}
            total = sum(p.stat().st_size for p in entries)
            for key in sorted(groups, key=lambda k: -ages[k]):  # oldest first
                too_old = ages[key] > self.max_age_seconds
                if not too_old and total <= self.max_bytes:
                    break
                if not too_old and any(p.name.endswith(".partial") for p in groups[key]):
                    continue  # still being written: its request counts it when it is complete
                for path in groups[key]:
                    total -= path.stat().st_size
                    path.unlink(missing_ok=True)
                log.info("kept file %s removed (%s)", key, "expired" if too_old else "over the size budget")

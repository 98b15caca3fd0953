"""Voice packs that come and go while the server runs: the user's watched folder and the voices saved by the API.

Folders are re-read by the registry every few seconds, each file only when its size or time changed; a file that
cannot be read is logged and skipped. Saved voices are written atomically (model/cache.py).
"""

from __future__ import annotations

import io
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kokoro_speech.errors import SetupError
from kokoro_speech.model.cache import atomic_write
from kokoro_speech.model.packs import VOICE_SUFFIXES, read_voice

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FolderPack:
    """A pack read from a folder; a saved voice's `info` has its blend, language and creation time."""

    styles: np.ndarray
    info: dict = field(default_factory=dict)


class VoiceFolder:
    """A folder of .pt/.bin/.npy packs, re-read on `scan`: new, changed and removed files are noticed."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._seen: dict[Path, tuple[tuple[int, int], FolderPack | None]] = {}

    def _read(self, path: Path) -> FolderPack:
        return FolderPack(read_voice(path))

    def scan(self, *, strict: bool = False) -> dict[str, FolderPack]:
        """The folder's packs by name; with `strict` (at start-up) an unreadable file raises SetupError,
        otherwise it is logged once and skipped until it changes."""
        try:
            entries = sorted(p for p in self.folder.iterdir() if p.suffix in VOICE_SUFFIXES)
        except FileNotFoundError:
            entries = []
        except OSError as exc:
            log.warning("voices folder %s cannot be read (%s); keeping the voices read before", self.folder, exc)
            return {p.stem: pack for p, (_, pack) in self._seen.items() if pack is not None}
        seen: dict[Path, tuple[tuple[int, int], FolderPack | None]] = {}
        for path in entries:
            try:
                stat = path.stat()
            except OSError:  # removed between the listing and now
                continue
            if not path.is_file():
                continue
            key = (stat.st_mtime_ns, stat.st_size)
            before = self._seen.get(path)
            if before is not None and before[0] == key:
                seen[path] = before
                continue
            try:
                pack: FolderPack | None = self._read(path)
                log.info("voice pack %s loaded", path)
            except SetupError as exc:
                if strict:
                    raise
                log.warning("skipping a voice file: %s", exc)
                pack = None
            seen[path] = (key, pack)
        self._seen = seen
        return {p.stem: pack for p, (_, pack) in seen.items() if pack is not None}


class SavedVoices(VoiceFolder):
    """The server's own folder of saved blends: `name.npy` (a voice pack any Kokoro tool reads) and
    `name.json` (the blend it was made from, its language, when it was saved, the key id that saved it)."""

    def _read(self, path: Path) -> FolderPack:
        pack = read_voice(path)
        info = {"name": path.stem, "created_at": int(path.stat().st_mtime)}
        try:
            info.update(json.loads(path.with_suffix(".json").read_text(encoding="utf-8")))
        except (OSError, ValueError):
            pass  # a pack copied in by hand: its language comes from its name
        return FolderPack(pack, info)

    def save(self, name: str, styles: np.ndarray, *, voice: str, language: str, owner: str | None = None) -> dict:
        self.folder.mkdir(parents=True, exist_ok=True)
        info = {"name": name, "voice": voice, "language": language, "created_at": int(time.time()), "owner": owner}
        buffer = io.BytesIO()
        np.save(buffer, styles.astype("<f4"), allow_pickle=False)
        # the description first: the pack's arrival is what makes the voice exist
        atomic_write(self.folder / f"{name}.json", lambda path: path.write_text(json.dumps(info), encoding="utf-8"))
        atomic_write(self.folder / f"{name}.npy", lambda path: path.write_bytes(buffer.getvalue()))
        return info

    def delete(self, name: str) -> None:
        for suffix in (*VOICE_SUFFIXES, ".json"):
            (self.folder / f"{name}{suffix}").unlink(missing_ok=True)

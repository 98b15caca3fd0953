"""Files the server writes for itself (the cache's models, saved voices): written atomically, and stamped.

A stamp beside a file records what it is (its SHA-256, what it was made from) and its size and time as it was
then, so a start trusts it without reading it again while it stands; one helper and one format for every file.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path
from typing import Callable


def atomic_write(path: Path, write: Callable[[Path], object]) -> Path:
    """Make `path` by `write(temporary)` beside it, then rename it into place: readers (and concurrent starts)
    see the old file or the whole new one, never a part, and a crash leaves at most a hidden `.tmp` file (which
    no folder scan reads). If `write` raises, nothing changes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        write(temporary)
        with temporary.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    try:  # the rename itself survives a power cut once the folder is synced
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    except OSError:
        pass
    return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def identity(path: Path) -> str:
    """A file as it is now, without reading it: where it is, its size and its modification time."""
    stat = path.stat()
    return f"{path.resolve()} {stat.st_size} {stat.st_mtime_ns}"


def stamp_of(path: Path) -> Path:
    return path.with_name(path.name + ".stamp")


def stamp(path: Path, **facts: str) -> None:
    """Remember `facts` about `path` as it is now (a read-only cache keeps no stamp: it just checks each time)."""
    record = json.dumps({**facts, "file": identity(path)})
    try:
        atomic_write(stamp_of(path), lambda temporary: temporary.write_text(record, encoding="utf-8"))
    except OSError:
        pass


def stamped(path: Path) -> dict[str, str]:
    """The facts last stamped on `path` (empty without a stamp), whether or not it has changed since."""
    try:
        facts = json.loads(stamp_of(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return facts if isinstance(facts, dict) else {}


def verified(path: Path, sha256: str) -> bool:
    """Whether `path` has this SHA-256: hashed once, then trusted by its stamp while its size and time stand."""
    facts = stamped(path)
    try:
        if facts.get("sha256") == sha256 and facts.get("file") == identity(path):
            return True
        if sha256_of(path) != sha256:
            return False
    except OSError:
        return False
    stamp(path, **{**facts, "sha256": sha256})
    return True

"""The cache's one atomic write and one stamp format (model/cache.py), on plain files: no model needed."""

from __future__ import annotations

import os

import pytest

from kokoro_speech.model.cache import atomic_write, sha256_of, stamp, stamp_of, stamped, verified

pytestmark = pytest.mark.unit


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "sub" / "file.bin"
    atomic_write(path, lambda temporary: temporary.write_bytes(b"old"))

    def half(temporary):
        temporary.write_bytes(b"ne")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        atomic_write(path, half)
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in path.parent.iterdir()) == ["file.bin"]


def test_a_stamp_is_trusted_while_the_file_stands(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"weights")
    digest = sha256_of(path)
    assert not stamp_of(path).exists() and verified(path, digest)  # hashed, then stamped
    assert stamped(path)["sha256"] == digest
    assert not verified(path, "0" * 64)
    stamp(path, sha256=digest, source="elsewhere")
    assert stamped(path)["source"] == "elsewhere"
    path.write_bytes(b"other!!")  # same size, new time: hashed again, and found wrong
    os.utime(path, ns=(1, 1))
    assert not verified(path, digest)

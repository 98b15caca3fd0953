"""Voice packs, blends, aliases and the model files: safe reading, clear errors."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from conftest import VOICES_DIR
from kokoro_speech.engine.voices import OPENAI_VOICES, VoiceRegistry
from kokoro_speech.engine.weights import (
    BUNDLED_MODEL_SHA256, assemble_bundled_model, read_voice, resolve_model, resolve_voices_dir, sha256_of,
)
from kokoro_speech.errors import SetupError, UnknownVoice


@pytest.fixture(scope="module")
def registry() -> VoiceRegistry:
    return VoiceRegistry.from_dir(VOICES_DIR)


def test_all_54_official_voices_load_without_unpickling(registry):
    assert len(registry.ids()) == 54
    heart = read_voice(VOICES_DIR / "af_heart.pt")
    assert heart.shape == (510, 256) and heart.dtype == np.float32
    raw = zipfile.ZipFile(VOICES_DIR / "af_heart.pt").read("af_heart/data/0")
    assert np.array_equal(heart.reshape(-1), np.frombuffer(raw, "<f4"))


def test_bin_and_npy_voices_read_the_same(tmp_path):
    heart = read_voice(VOICES_DIR / "af_heart.pt")
    heart.tofile(tmp_path / "x.bin")
    np.save(tmp_path / "y.npy", heart)
    assert np.array_equal(read_voice(tmp_path / "x.bin"), heart)
    assert np.array_equal(read_voice(tmp_path / "y.npy"), heart)


def test_corrupt_voice_names_the_file(tmp_path):
    bad = tmp_path / "af_bad.pt"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("af_bad/data/0", b"\0" * 100)
    bad.write_bytes(buffer.getvalue())
    with pytest.raises(SetupError, match="af_bad.pt"):
        read_voice(bad)
    (tmp_path / "x.pkl.npy").write_bytes(b"not numpy")
    with pytest.raises(SetupError, match="x.pkl.npy"):
        read_voice(tmp_path / "x.pkl.npy")


def test_aliases_and_blends(registry):
    for alias, target in OPENAI_VOICES.items():
        assert registry.resolve(alias).name == target
    blend = registry.resolve("af_heart(3)+bf_emma(1)")
    expected = 0.75 * read_voice(VOICES_DIR / "af_heart.pt") + 0.25 * read_voice(VOICES_DIR / "bf_emma.pt")
    assert np.allclose(blend.styles, expected, atol=1e-6)
    assert blend.language == "a"
    for bad in ("af_heart+nobody", "af_heart(x)", "af_heart(-1)", "+", "af_heart+ef_dora"):
        with pytest.raises(UnknownVoice):
            registry.resolve(bad)


def test_bundled_model_is_assembled_once_and_verified(tmp_path):
    path = assemble_bundled_model(tmp_path)
    assert path is not None and sha256_of(path) == BUNDLED_MODEL_SHA256
    mtime = path.stat().st_mtime_ns
    assert assemble_bundled_model(tmp_path) == path and path.stat().st_mtime_ns == mtime
    # a corrupted cache copy is rebuilt, not used
    with path.open("r+b") as f:
        f.seek(1000)
        f.write(b"\xff" * 16)
    assert sha256_of(assemble_bundled_model(tmp_path)) == BUNDLED_MODEL_SHA256


def test_missing_files_give_clear_errors(tmp_path):
    with pytest.raises(SetupError, match="nope.onnx"):
        resolve_model(tmp_path / "nope.onnx", tmp_path, offline=True)
    with pytest.raises(SetupError, match="--voices-dir"):
        resolve_voices_dir(None, tmp_path, offline=True)
    with pytest.raises(SetupError, match="holds no"):
        VoiceRegistry.from_dir(tmp_path)

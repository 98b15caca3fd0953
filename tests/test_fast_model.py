"""The faster int8 graph (model/fast.py, issue 17) on the real model: derived once into the cache, checked
against the original (the int8 form, or the form within ±64 where the CPU has no VNNI), trusted while unchanged,
re-derived when changed, and off with --no-fast-model.
Its speed and quality are measured by bench/weight_forms.py (issue 17's bench/fast_model.py is in history), not here."""

from __future__ import annotations

import collections

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from kokoro_speech.config import Settings
from kokoro_speech.kokoro import to_token_ids
from kokoro_speech.model.fast import log_spectral_distance, with_phase_input
from kokoro_speech.model.session import KokoroModel
from kokoro_speech.model import derived as derived_module
from kokoro_speech.model.cache import stamped
from kokoro_speech.model.derived import FAST_VERIFY_MAX_LSD_DB, fast_distance, fast_model
from kokoro_speech.model.packs import embedded_voices_dir, read_voice
from kokoro_speech.model.weights import resolve_model


@pytest.fixture(scope="module")
def original(settings: Settings):
    return resolve_model(None, settings.cache_dir, offline=True)


# Without VNNI (or AMX) ONNX Runtime's u8s8 int8 kernels sum pairs in 16 bits and saturate (an AVX2-only CPU such
# as AMD Zen 3): there the int8 form fails its check at derive time and the form within ±64 is derived instead.
VNNI = any(flag in open("/proc/cpuinfo").read().split() for flag in ("avx512_vnni", "avx_vnni", "amx_int8"))


@pytest.fixture(scope="module")
def derived(original, tmp_path_factory):
    """What the server's derivation gives on this CPU."""
    return fast_model(original, tmp_path_factory.mktemp("fast-cache"))


def test_the_form_that_holds_on_this_cpu_is_derived(derived):
    assert stamped(derived)["weights"] == ("s8" if VNNI else "s7")
    assert len(list(derived.parent.glob("*.fast-*.onnx"))) == 1, "a form that failed its check left nothing"


def test_a_form_that_fails_its_check_gives_way_to_the_next_and_the_last_to_the_original(original, tmp_path,
                                                                                        monkeypatch):
    tried: list[str] = []
    rewritten = derived_module.fast.rewritten
    monkeypatch.setattr(derived_module.fast, "rewritten", lambda *args, weights_as: tried.append(weights_as)
                        or rewritten(*args, weights_as=weights_as))
    monkeypatch.setattr(derived_module, "fast_distance", lambda a, b: 0.0 if tried[-1] == "s7" else float("inf"))
    (tmp_path / "one").mkdir()
    path = fast_model(original, tmp_path / "one")
    assert tried == ["s8", "s7"] and stamped(path)["weights"] == "s7"
    assert list((tmp_path / "one").glob("*.fast-*.onnx")) == [path], "the form that failed left nothing"
    tried.clear()
    assert fast_model(original, tmp_path / "one") == path and tried == [], "trusted from then on: nothing derived"
    monkeypatch.setattr(derived_module, "fast_distance", lambda a, b: float("inf"))
    (tmp_path / "none").mkdir()
    assert fast_model(original, tmp_path / "none") == original and tried == ["s8", "s7"]
    assert not list((tmp_path / "none").glob("*.fast-*")), "a failed derivation leaves no file behind"


def test_derived_once_into_the_cache_and_close_to_the_original(original, derived):
    assert derived != original and derived.name.startswith("kokoro-v1.0.int8.fast-")
    assert derived.with_name(derived.name + ".stamp").is_file()  # checked, then trusted
    ops = collections.Counter(n.op_type for n in onnx.load(str(derived), load_external_data=False).graph.node)
    assert ops["QLinearConv"] == 68 and ops["ConvInteger"] == 19  # the decoder's convs; the front's untouched
    assert fast_distance(original, derived) <= FAST_VERIFY_MAX_LSD_DB
    mtime = derived.stat().st_mtime_ns
    assert fast_model(original, derived.parent) == derived and derived.stat().st_mtime_ns == mtime


def test_same_durations_no_clipping_and_quiet_silence(original, derived):
    voice = read_voice(embedded_voices_dir() / "bm_george.pt")
    tokens = to_token_ids("ðə mˈiTɪŋ stˈɑɹts ɪn tˈɛn mˈɪnəts.")  # "The meeting starts in ten minutes.", fast
    a = KokoroModel(original)(tokens, voice[len(tokens) - 1], 1.3)
    b = KokoroModel(derived)(tokens, voice[len(tokens) - 1], 1.3)
    assert a.size == b.size  # the front (durations) is the original's
    assert np.abs(b).max() < 0.99
    # no further from the original than the original from itself with its harmonic phases drawn at random
    natural = ort.InferenceSession(with_phase_input(onnx.load(str(original))).SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    feed = {"tokens": np.array([[0, *tokens, 0]], np.int64), "style": voice[len(tokens) - 1].reshape(1, -1),
            "speed": np.array([1.3], np.float32)}
    rng = np.random.default_rng(0)
    variation = [log_spectral_distance(a, natural.run(None, {**feed, "phase_offset": rng.uniform(
        -np.pi, np.pi, (1, 1, 9)).astype(np.float32)})[0].reshape(-1)) for _ in range(3)]
    assert log_spectral_distance(a, b) <= max(variation)
    edge = slice(0, 1200)  # the leading 50 ms are silence: no hiss added there
    assert np.sqrt(np.mean(b[edge] ** 2)) <= 2 * np.sqrt(np.mean(a[edge] ** 2)) + 1e-4


def test_a_changed_file_is_derived_again(original, tmp_path):
    first = fast_model(original, tmp_path)
    with first.open("r+b") as f:  # corrupt a byte in the middle
        f.seek(first.stat().st_size // 2)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0xFF]))
    again = fast_model(original, tmp_path)
    assert again == first and fast_distance(original, again) <= FAST_VERIFY_MAX_LSD_DB


def test_another_model_is_used_as_is(tmp_path):
    other = tmp_path / "other.onnx"
    other.write_bytes(b"not the bundled model")
    assert fast_model(other, tmp_path) == other
    assert not list(tmp_path.glob("*.fast-*"))


def test_the_setting():
    assert Settings(_env_file=None).fast_model is True
    import argparse

    from kokoro_speech.cli import _add_settings_flags, _settings

    parser = argparse.ArgumentParser()
    _add_settings_flags(parser)
    assert _settings(parser.parse_args(["--no-fast-model"])).fast_model is False


def test_the_server_runs_the_fast_graph_by_default(engine):
    assert ".fast-" in engine.model.path.name

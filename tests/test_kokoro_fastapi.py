"""Kokoro-FastAPI's extra surface, as its clients call it: discovery, /dev/phonemize and
/dev/generate_from_phonemes, on the real model and voices (shapes of Kokoro-FastAPI v0.8, in our words)."""

from __future__ import annotations

import zipfile

import httpx
import numpy as np
import pytest

from support import decode, word_error_rate
from kokoro_speech.model.packs import read_voice


def test_the_kokoro_probe_and_the_voice_list_shapes(server):
    assert httpx.get(f"{server.url}/v1/test").json() == {"status": "ok"}
    voices = httpx.get(f"{server.url}/v1/audio/voices").json()["voices"]
    assert len(voices) >= 54 and all(v["name"] == v["id"] for v in voices)
    legacy = httpx.get(f"{server.url}/v1/audio/voices", params={"legacy": "true"}).json()["voices"]
    assert legacy == [v["id"] for v in voices] and "af_heart" in legacy


@pytest.mark.parametrize(("language", "text", "expected"), [
    ("a", "Hello world.", "wˈɜɹld"),
    ("b", "Tomato.", "təmˈɑːtQ"),  # British: the long ɑː, and misaki's Q for its əʊ
    ("es", "Buenos días.", "bwˈenos"),
    ("j", "こんにちは。", "ɲ"),
])
def test_phonemize_gives_phonemes_and_their_token_ids(server, language, text, expected):
    response = httpx.post(f"{server.url}/dev/phonemize", json={"text": text, "language": language}, timeout=60)
    assert response.status_code == 200, response.text
    body = response.json()
    assert expected in body["phonemes"], body
    assert body["tokens"] and all(isinstance(t, int) and 0 < t < 178 for t in body["tokens"])


def test_phonemes_from_phonemize_speak_back(server, transcribe):
    text = "The quick brown fox jumps over the lazy dog."
    phonemes = httpx.post(f"{server.url}/dev/phonemize", json={"text": text}, timeout=60).json()["phonemes"]
    response = httpx.post(f"{server.url}/dev/generate_from_phonemes", timeout=120,
                          json={"phonemes": phonemes, "voice": "af_heart"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/wav"
    audio = decode(response.content, "wav")
    assert audio.sample_rate == 24_000 and audio.duration > 1.5
    assert word_error_rate(text, transcribe(audio.samples)) <= 0.2


@pytest.mark.parametrize(("route", "body", "param"), [
    ("/dev/phonemize", {"text": ""}, "text"),
    ("/dev/phonemize", {"text": "Hi.", "language": "xx"}, "language"),
    ("/dev/phonemize", {"language": "a"}, "text"),
    ("/dev/generate_from_phonemes", {"phonemes": "hˈI", "voice": "nobody"}, "voice"),
    ("/dev/generate_from_phonemes", {"phonemes": "", "voice": "af_heart"}, "phonemes"),
    ("/dev/generate_from_phonemes", {"phonemes": "x" * 5000, "voice": "af_heart"}, "phonemes"),
    ("/dev/generate_from_phonemes", {"voice": "af_heart"}, "phonemes"),
])
def test_bad_input_is_a_400_that_names_the_parameter(server, route, body, param):
    response = httpx.post(f"{server.url}{route}", json=body, timeout=60)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param


def test_subtraction_reads_as_kokoro_fastapis(server, engine):
    """`a-b(0.3)`: weights over their sum, the `-` term subtracted, and it speaks."""
    blend = engine.resolve_voice("af_bella-af_sky(0.3)")
    bella, sky = engine.resolve_voice("af_bella").styles, engine.resolve_voice("af_sky").styles
    assert np.allclose(blend.styles, (bella - 0.3 * sky) / 1.3, atol=1e-6)
    response = httpx.post(f"{server.url}/v1/audio/speech", timeout=120, json={
        "input": "Subtraction works.", "voice": "af_bella-af_sky(0.3)", "response_format": "wav"})
    assert response.status_code == 200 and decode(response.content, "wav").duration > 0.8
    bad = httpx.post(f"{server.url}/v1/audio/speech", json={"input": "Hi.", "voice": "-af_sky"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "voice"


@pytest.mark.parametrize("voices", ["af_heart(2)+bm_george(1)", ["af_heart", "af_sky"]])
def test_combine_returns_the_blend_as_a_pack_file(server, engine, tmp_path, voices):
    response = httpx.post(f"{server.url}/v1/audio/voices/combine", json=voices, timeout=60)
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"].endswith('.pt"')
    path = tmp_path / "blend.pt"
    path.write_bytes(response.content)
    spec = voices if isinstance(voices, str) else "+".join(voices)
    assert np.array_equal(read_voice(path), engine.resolve_voice(spec).styles)
    with zipfile.ZipFile(path) as pack:  # PyTorch's layout: one folder, its tensor description and the data
        names = pack.namelist()
        assert len({n.split("/")[0] for n in names}) == 1
        assert {n.split("/", 1)[1] for n in names} >= {"data.pkl", "data/0", "version", "byteorder"}


@pytest.mark.parametrize(("body", "param"), [("", "voices"), ("nobody+af_sky", "voice"), (["af_sky", 3], "voices")])
def test_combine_refuses_what_is_not_a_blend(server, body, param):
    response = httpx.post(f"{server.url}/v1/audio/voices/combine", json=body, timeout=60)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param

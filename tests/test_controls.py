"""Pauses, SSML, volume and output sample rates, on the real model: measured silences, RMS ratios, decoded rates.

Silence is measured in the decoded audio as runs of exact zeros (pcm): pauses are inserted, never synthesized, so
only the fades at the pieces' edges may blur their ends by a few milliseconds.
"""

from __future__ import annotations

import base64
import json

import httpx
import numpy as np
import pytest

from support import decode, word_error_rate
from kokoro_speech.audio.resample import SAMPLE_RATES
from kokoro_speech.kokoro import FRAMES_PER_TOKEN
from kokoro_speech.text.ssml import Pause, script
from kokoro_speech.text.split import Piece

SENTENCE = "The quick brown fox jumped over the lazy dog."


def speak(server, **body) -> httpx.Response:
    payload = {"model": "kokoro-82m", "input": SENTENCE, "voice": "af_heart", "response_format": "pcm", **body}
    return httpx.post(f"{server.url}/v1/audio/speech", json=payload, timeout=120)


def pcm(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768


def silences(samples: np.ndarray, rate: int = 24_000, shortest: float = 0.2) -> list[float]:
    """Lengths in seconds of the runs of (near) digital silence longer than `shortest`, in order."""
    quiet = np.concatenate([[False], np.abs(samples) < 2 / 32768, [False]])
    edges = np.flatnonzero(np.diff(quiet.astype(np.int8)))
    runs = (edges[1::2] - edges[::2]) / rate
    return [round(float(r), 3) for r in runs if r > shortest]


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


# --- pauses and SSML ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("Hello there. [pause:1.5s] How are you?", [1.5]),
    ("One, [pause:500ms] two, [PAUSE: 2s] three.", [0.5, 2.0]),
    ('<speak>One <break time="800ms"/> two <break strength="x-strong"/> three.</speak>', [0.8, 1.25]),
])
def test_pauses_are_exact_silences_where_asked(server, text, expected):
    response = speak(server, input=text)
    assert response.status_code == 200, response.text
    measured = silences(pcm(response.content))
    assert len(measured) == len(expected), measured
    for got, want in zip(measured, expected, strict=True):
        assert abs(got - want) < 0.03, (measured, expected)


def test_leading_and_trailing_pauses_are_kept(server):
    samples = pcm(speak(server, input="[pause:1s] Hi. [pause:700ms]").content)
    assert np.all(samples[: 24_000 - 240] == 0) and np.any(samples[24_000:30_000] != 0)
    assert np.all(samples[-int(0.69 * 24_000):] == 0)


def test_pause_past_the_limit_is_a_400(server):
    for text in ("Wait [pause:11s] for it.", '<speak>Wait <break time="10.5s"/></speak>'):
        response = speak(server, input=text)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert (error["param"], error["code"]) == ("input", "pause_too_long")
        assert "10 s" in error["message"]
    bad = speak(server, input="Wait [pause:soon] for it.").json()["error"]
    assert bad["code"] == "invalid_pause" and "1.5s or 800ms" in bad["message"]


def test_pauses_stream_in_sse_too(server):
    response = speak(server, input="Ready. [pause:1.2s] Go!", stream_format="sse")
    assert response.status_code == 200
    chunks = [json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: ")]
    audio = b"".join(base64.b64decode(c["audio"]) for c in chunks if c["type"] == "speech.audio.delta")
    assert [round(s, 1) for s in silences(pcm(audio))] == [1.2]


def test_ssml_is_read_not_spoken_as_tags(server, transcribe):
    ssml = ('<speak><p>The code is <say-as interpret-as="characters">XK</say-as>.</p>'
            '<p>Open the <sub alias="World Wide Web">WWW</sub> on the '
            '<say-as interpret-as="ordinal">3</say-as> day. <emphasis>Done</emphasis>.</p></speak>')
    response = speak(server, input=ssml, response_format="wav")
    assert response.status_code == 200, response.text
    heard = transcribe(decode(response.content, "wav").samples)
    expected = "The code is X K. Open the World Wide Web on the third day. Done."
    assert word_error_rate(expected, heard) < 0.3, heard
    assert "speak" not in heard.lower()


def test_phonemize_shows_the_ssml_reading(server):
    ssml = ('<speak>Call <say-as interpret-as="telephone">555-0123</say-as><break time="300ms"/>'
            '<prosody rate="slow">slowly</prosody> <phoneme alphabet="ipa" ph="təˈmeɪtoʊ">tomato</phoneme> '
            '<phoneme alphabet="x-misaki" ph="kˈOkəɹO">Kokoro</phoneme></speak>')
    response = httpx.post(f"{server.url}/v1/audio/phonemize", json={"input": ssml, "voice": "af_heart"}, timeout=60)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "<" not in body["normalized"] and "five five five, oh one two three" in body["normalized"]
    assert "[pause:0.3s]" in body["phonemes"]
    kinds = [(s["type"], s.get("rate", s.get("seconds"))) for s in body["segments"]]
    assert kinds == [("speech", 1.0), ("pause", 0.3), ("speech", 0.75), ("speech", 1.0)], kinds
    assert "təˈmAtO" in body["phonemes"] and "kˈOkəɹO" in body["phonemes"]  # IPA converted, misaki kept
    # the phonemes, pause markers included, are valid phoneme input
    again = speak(server, input=body["phonemes"], input_is_phonemes=True)
    assert again.status_code == 200 and [round(s, 1) for s in silences(pcm(again.content))] == [0.3]


def test_prosody_rate_slows_a_span_and_its_pieces_respect_the_frame_budget(server, engine):
    normal = pcm(speak(server, input=f"<speak>{SENTENCE}</speak>").content).size
    slow = pcm(speak(server, input=f'<speak><prosody rate="50%">{SENTENCE}</prosody></speak>').content).size
    at_half_speed = pcm(speak(server, speed=0.5).content).size
    assert slow / normal > 1.8 and abs(slow / at_half_speed - 1) < 0.05, (slow, normal, at_half_speed)
    long = " ".join([SENTENCE] * 12)
    voice = engine.resolve_voice("af_heart")
    for speed in (0.25, 1.0):
        pieces = [p for p in engine.pieces(f'<speak><prosody rate="x-slow">{long}</prosody></speak>', voice,
                                           speed=speed) if isinstance(p, Piece)]
        assert {p.speed for p in pieces} == {max(0.25, speed * 0.5)}
        assert max(p.token_count * FRAMES_PER_TOKEN / p.speed for p in pieces) <= engine.max_piece_frames


@pytest.mark.parametrize(("ssml", "where"), [
    ("<speak>Hello <break time='1s'></speak>", "line 1, column"),
    ("<speak>Hello &nbsp; world</speak>", "undefined entity"),
    ('<speak><prosody rate="fastest">x</prosody></speak>', "rate"),
    ('<speak><break strength="huge"/>x</speak>', "strength"),
    ("<speak>" + "<s>" * 40 + "deep" + "</s>" * 40 + "</speak>", "deeper than"),
    ('<?xml version="1.0"?><!DOCTYPE speak [<!ENTITY x "xxxxxxxxxx"><!ENTITY y "&x;&x;&x;&x;&x;&x;&x;&x;">]>'
     "<speak>&y;&y;&y;</speak>", "DTD"),
    ('<!DOCTYPE speak [<!ENTITY secret SYSTEM "file:///etc/passwd">]><speak>&secret;</speak>', "DTD"),
])
def test_hostile_or_malformed_ssml_is_a_400_that_says_why(server, ssml, where):
    response = speak(server, input=ssml)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == "input" and error["code"] in ("invalid_ssml", "invalid_parameter")
    assert where in error["message"], error["message"]
    assert "root:" not in error["message"]


@pytest.mark.unit
def test_ten_thousand_tags_are_refused_before_parsing():
    many = "<speak>" + '<break time="1ms"/>' * 10_000 + "Hi.</speak>"  # the CLI has no input limit
    with pytest.raises(Exception, match="more than 2000 elements"):
        script(many, max_pause=10)
    # a thousand breaks within a request's input are read, their silences added up within the limit
    segments = script("<speak>" + "a<break time='10ms'/>" * 1000 + "</speak>", max_pause=10)
    assert abs(sum(s.seconds for s in segments if isinstance(s, Pause)) - 10.0) < 1e-6


def test_ten_thousand_tags_over_http_are_a_400(server):
    response = speak(server, input="<speak>" + "<s/>" * 10_000 + "</speak>")
    assert response.status_code == 400 and response.json()["error"]["param"] == "input"


# --- volume ---------------------------------------------------------------------------------------------

def test_volume_scales_rms_and_limits_peaks_without_wrapping(server):
    plain = pcm(speak(server).content)
    half = pcm(speak(server, volume_multiplier=0.5).content)
    double = pcm(speak(server, volume_multiplier=2.0).content)
    loudest = pcm(speak(server, volume_multiplier=4.0).content)
    assert plain.size == half.size == double.size == loudest.size
    assert abs(rms(half) / rms(plain) - 0.5) < 0.01
    assert 1.75 < rms(double) / rms(plain) < 2.001  # the limiter may only take away
    assert rms(loudest) > rms(double)
    assert np.max(np.abs(loudest)) < 1.0  # soft-limited below full scale
    # no wrap-around: every loud sample keeps the sign of the original
    loud = np.abs(plain) > 0.05
    assert np.all(np.sign(loudest[loud]) == np.sign(plain[loud]))


def test_volume_out_of_range_is_a_400(server):
    for value in (0.05, 4.5, "loud"):
        error = speak(server, volume_multiplier=value).json()["error"]
        assert error["param"] == "volume_multiplier", error


# --- sample rates ---------------------------------------------------------------------------------------

def decode_any(data: bytes, response_format: str, rate: int):
    decoded = decode(data, response_format, rate)
    return decoded.samples, decoded.sample_rate


FORMATS = ("mp3", "aac", "opus", "flac", "wav", "pcm", "ulaw", "alaw")


@pytest.fixture(scope="module")
def reference_seconds(server) -> float:
    return pcm(speak(server).content).size / 24_000


@pytest.mark.parametrize("response_format", FORMATS)
@pytest.mark.parametrize("rate", [16_000, 44_100])
def test_every_format_at_another_rate(server, reference_seconds, response_format, rate):
    response = speak(server, response_format=response_format, sample_rate=rate)
    assert response.status_code == 200, response.text
    sent = 48_000 if response_format == "opus" else rate  # Opus always decodes at 48 kHz
    assert response.headers["x-sample-rate"] == str(sent)
    samples, decoded_rate = decode_any(response.content, response_format, sent)
    assert decoded_rate == sent
    assert abs(samples.size / sent - reference_seconds) < 0.1, (samples.size / sent, reference_seconds)
    assert 0.02 < rms(samples) < 0.5


@pytest.mark.parametrize("rate", SAMPLE_RATES)
def test_every_rate_in_wav_headers_and_streamed_pcm(server, reference_seconds, rate):
    wav = speak(server, response_format="wav", sample_rate=rate)
    assert int.from_bytes(wav.content[24:28], "little") == rate  # the RIFF fmt chunk's rate
    assert decode(wav.content, "wav").sample_rate == rate
    streamed = speak(server, sample_rate=rate, stream_format="sse")
    deltas = [json.loads(line[6:]) for line in streamed.text.splitlines() if line.startswith("data: ")]
    audio = b"".join(base64.b64decode(d["audio"]) for d in deltas if d["type"] == "speech.audio.delta")
    assert abs(len(audio) / 2 / rate - reference_seconds) < 0.05
    assert streamed.headers["x-sample-rate"] == str(rate)


def test_telephony_defaults_to_8_khz_and_resampled_speech_stays_intelligible(server, transcribe):
    response = speak(server, response_format="ulaw")
    assert response.headers["x-sample-rate"] == "8000" and response.headers["content-type"] == "audio/PCMU"
    samples, _ = decode_any(response.content, "ulaw", 8000)
    assert word_error_rate(SENTENCE, transcribe(samples, 8000)) < 0.25


def test_other_sample_rates_are_a_400(server):
    for rate in (11025, 96000, 0, "fast"):
        response = speak(server, sample_rate=rate)
        assert response.status_code == 400
        assert response.json()["error"]["param"] == "sample_rate"


@pytest.mark.parametrize(("interpret_as", "fmt", "text", "words"), [
    ("date", "mdy", "3/14/2024", "March fourteenth, twenty twenty-four"),
    ("date", "dmy", "14.3.24", "March fourteenth, twenty twenty-four"),
    ("date", "ymd", "2024-03-14", "March fourteenth, twenty twenty-four"),
    ("date", "mdy", "13/45/2024", None),  # no such date: read as written, not invented
    ("cardinal", "", "1,234", "one thousand two hundred thirty-four"),
    ("ordinal", "", "22nd", "twenty-second"),
    ("digits", "", "2024", "two zero two four"),
    ("telephone", "", "(555) 010-2030", "five five five, oh one oh, two oh three oh"),
])
def test_say_as_readings(engine, interpret_as, fmt, text, words):
    ssml = f'<speak><say-as interpret-as="{interpret_as}" format="{fmt}">{text}</say-as></speak>'
    normalized, *_ = engine.phonemize(ssml, "af_heart")
    assert normalized == (words if words is not None else engine.words(text, engine.resolve_voice("af_heart")))


@pytest.mark.unit
def test_at_volume_one_samples_pass_exactly_unless_one_would_clip():
    import numpy as np

    from kokoro_speech.audio.volume import apply_volume

    quiet = np.array([0.5, -0.95, 0.99], np.float32)
    assert apply_volume(quiet, 1.0) is quiet  # exact: nothing to limit
    loud = np.array([0.5, 1.018, -1.2], np.float32)  # a peak over full scale, as the model rarely makes
    bent = apply_volume(loud, 1.0)
    assert bent[0] == 0.5 and 0.9 < bent[1] < 1.0 and -1.0 < bent[2] < -0.9

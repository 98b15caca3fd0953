"""Every response format, on the real model: decodes, right rate and channels, plausible duration."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from support import decode, packets

SENTENCE = "The quick brown fox jumped over the lazy dog."
EXPECTED = {  # format → (container, codec, sample rate, content type)
    "mp3": ("mp3", "mp3float", 24_000, "audio/mpeg"),
    "wav": ("wav", "pcm_s16le", 24_000, "audio/wav"),
    "aac": ("aac", "aac", 24_000, "audio/aac"),
    "opus": ("ogg", "opus", 48_000, "audio/ogg"),  # Opus always decodes at 48 kHz
    "flac": ("flac", "flac", 24_000, "audio/flac"),
    "pcm": ("raw", "pcm_s16le", 24_000, "audio/pcm"),
}


def speak(server, **body) -> httpx.Response:
    payload = {"model": "kokoro-82m", "input": SENTENCE, "voice": "af_heart", **body}
    return httpx.post(f"{server.url}/v1/audio/speech", json=payload, timeout=120)


@pytest.mark.parametrize("response_format", list(EXPECTED))
def test_format_decodes_to_speech_of_the_right_length(server, response_format):
    response = speak(server, response_format=response_format)
    assert response.status_code == 200, response.text
    container, codec, rate, content_type = EXPECTED[response_format]
    assert response.headers["content-type"] == content_type
    assert response.headers["x-sample-rate"] == str(rate)  # Opus: 48 kHz, what it decodes at
    audio = decode(response.content, response_format)
    assert (audio.container, audio.codec, audio.sample_rate, audio.channels) == (container, codec, rate, 1)
    # nine words at an ordinary speaking rate: 2-4.5 s
    assert 2.0 < audio.duration < 4.5, audio.duration
    rms = float(np.sqrt(np.mean(audio.samples**2)))
    assert rms > 0.02, "the audio is (nearly) silent"


def test_mp3_is_96_kbps_mono_cbr(server):
    bit_rate, sizes = packets(speak(server, response_format="mp3").content)
    rates = set(sizes)
    assert bit_rate == 96_000
    # CBR: at 24 kHz (MPEG-2 Layer III) every 576-sample frame is 96000*576/8/24000 = 288 bytes
    assert rates == {288}, rates


def test_wav_header_is_standard_riff_pcm16(server):
    data = speak(server, response_format="wav").content
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    assert int.from_bytes(data[4:8], "little") == len(data) - 8, "RIFF size must be the real size"
    fmt = data[20:36]
    audio_format, channels, rate = (int.from_bytes(fmt[0:2], "little"), int.from_bytes(fmt[2:4], "little"),
                                    int.from_bytes(fmt[4:8], "little"))
    bits = int.from_bytes(fmt[14:16], "little")
    assert (audio_format, channels, rate, bits) == (1, 1, 24_000, 16)


def test_speed_two_is_about_half_as_long(server):
    normal = decode(speak(server, response_format="pcm", speed=1.0).content, "pcm").duration
    fast = decode(speak(server, response_format="pcm", speed=2.0).content, "pcm").duration
    assert 0.4 < fast / normal < 0.65, (fast, normal)


def test_british_voice_and_openai_alias_speak(server):
    for voice in ("bm_george", "onyx", {"id": "nova"}, "af_heart(2)+bf_emma(1)"):
        response = speak(server, response_format="wav", voice=voice)
        assert response.status_code == 200, (voice, response.text)
        assert decode(response.content, "wav").duration > 2.0

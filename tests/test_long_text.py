"""A 4,000-character text is spoken completely: plausible duration, and Whisper hears all of it."""

from __future__ import annotations

from pathlib import Path

import httpx

from support import decode, word_error_rate, words

TEXT = (Path(__file__).parent / "long_text.txt").read_text().strip()


def test_long_text_is_spoken_completely(server, transcribe):
    assert 3_900 <= len(TEXT) <= 4_096
    response = httpx.post(f"{server.url}/v1/audio/speech", timeout=600,
                          json={"input": TEXT, "voice": "af_heart", "response_format": "pcm"})
    assert response.status_code == 200
    audio = decode(response.content, "pcm")
    rate = len(words(TEXT)) / audio.duration * 60
    assert 120 < rate < 230, f"{rate:.0f} words per minute over {audio.duration:.0f} s"
    heard = transcribe(audio.samples)
    error_rate = word_error_rate(TEXT, heard)
    assert error_rate < 0.08, f"WER {error_rate:.3f}: {heard}"
    # the ending is there too: the last sentence is heard
    assert "someone would remember what it had been like to keep the light" in " ".join(words(heard)), heard[-300:]

"""The official openai package against the running server, unchanged: every format, and streamed pcm."""

from __future__ import annotations

import base64
import json
import time

import httpx
import openai
import pytest

from conftest import API_KEY
from support import decode, word_error_rate

TEXT = ("Streaming speech should start almost at once. The rest of this paragraph keeps coming while "
        "the first words are already playing, so nobody waits for the whole file.")


@pytest.fixture(scope="module")
def client(keyed_server) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{keyed_server.url}/v1", api_key=API_KEY, max_retries=0)


@pytest.mark.parametrize("response_format", ["mp3", "opus", "aac", "flac", "wav", "pcm"])
def test_create_returns_decodable_audio(client, response_format):
    response = client.audio.speech.create(model="tts-1", voice="alloy", input="Hello from the OpenAI SDK.",
                                          response_format=response_format)
    audio = decode(response.content, response_format)
    assert audio.channels == 1 and 1.0 < audio.duration < 4.0


def test_streamed_pcm_arrives_in_chunks_first_well_before_last(client, transcribe):
    started = time.perf_counter()
    arrivals: list[tuple[float, int]] = []
    with client.audio.speech.with_streaming_response.create(
        model="kokoro-82m", voice="af_heart", input=TEXT, response_format="pcm"
    ) as response:
        assert response.headers["x-sample-rate"] == "24000"
        data = bytearray()
        for chunk in response.iter_bytes():
            arrivals.append((time.perf_counter() - started, len(chunk)))
            data.extend(chunk)
    assert len(arrivals) >= 3, arrivals
    first, last = arrivals[0][0], arrivals[-1][0]
    assert first < last / 2, f"first bytes at {first:.2f} s, last at {last:.2f} s"
    audio = decode(bytes(data), "pcm")
    assert word_error_rate(TEXT, transcribe(audio.samples)) < 0.15


def test_sdk_errors_are_typed(client, keyed_server):
    with pytest.raises(openai.BadRequestError) as bad:
        client.audio.speech.create(model="tts-1", voice="nobody", input="Hi.")
    assert bad.value.param == "voice" and bad.value.code == "voice_not_found"
    wrong = openai.OpenAI(base_url=f"{keyed_server.url}/v1", api_key="nope", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.audio.speech.create(model="tts-1", voice="alloy", input="Hi.")


def test_sse_stream_format_events(server):
    body = {"input": "Events for each chunk of audio.", "voice": "af_heart", "response_format": "pcm",
            "stream_format": "sse"}
    with httpx.stream("POST", f"{server.url}/v1/audio/speech", json=body, timeout=60) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[5:]) for line in response.iter_lines() if line.startswith("data:")]
    deltas = [e for e in events if e["type"] == "speech.audio.delta"]
    assert deltas and events[-1]["type"] == "speech.audio.done"
    usage = events[-1]["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"] > 0
    audio = decode(b"".join(base64.b64decode(e["audio"]) for e in deltas), "pcm")
    assert audio.duration > 1.0

"""Faults and abuse on a live server: slow bodies, stalled readers, per-key limits, a failing request
next to healthy ones, and a graceful SIGTERM that lets in-flight audio finish."""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
import time

import httpx
import pytest

from conftest import API_KEY
from support import LiveServer, Server, decode, wait_until
from kokoro_speech.api.app import create_app
from kokoro_speech.api.middleware import SendTimeout

STORY = ("Once upon a time a small robot learned to read aloud. Every evening it read one more chapter to the "
         "children in the house, and every evening they asked for just one more.")


@pytest.fixture(scope="module")
def strict_server(settings, engine):
    """Short timeouts and per-key limits: one request at a time, three a minute, per key."""
    strict = settings.model_copy(update={
        "api_keys": f"{API_KEY},second-key", "read_timeout": 1.0, "max_requests_per_key": 1,
        "requests_per_minute_per_key": 3})
    with LiveServer(create_app(strict, engine=engine)) as live:
        yield live


def auth(key: str = API_KEY) -> dict:
    return {"authorization": f"Bearer {key}"}


def test_a_slow_body_gets_408_instead_of_holding_the_server(strict_server):
    with socket.create_connection(("127.0.0.1", strict_server.port), timeout=10) as sock:
        sock.sendall(b"POST /v1/audio/speech HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 200\r\n\r\n{\"input\": \"hel")
        started = time.monotonic()
        reply = ""
        while "request_timeout" not in reply and time.monotonic() - started < 10:
            data = sock.recv(4096)
            if not data:
                break
            reply += data.decode()
    assert reply.startswith("HTTP/1.1 408"), reply
    assert "request_timeout" in reply  # the server gave up on the body (the client never finished it)


def test_per_key_concurrency_and_rate_limits(strict_server, engine):
    body = {"input": STORY * 3, "voice": "af_heart", "response_format": "pcm"}
    with httpx.stream("POST", f"{strict_server.url}/v1/audio/speech", json=body, headers=auth(),
                      timeout=60) as held:
        chunks = held.iter_bytes()
        next(chunks)
        refused = httpx.post(f"{strict_server.url}/v1/audio/speech", json=body, headers=auth(), timeout=30)
        assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
        assert refused.json()["error"]["type"] == "rate_limit_error"
        other = httpx.post(f"{strict_server.url}/v1/audio/speech", headers=auth("second-key"), timeout=60,
                           json={**body, "input": "Another key is not affected.", "response_format": "wav"})
        assert other.status_code == 200
    # the first key has used 1 of its 3 requests this minute (the refused one did not count)
    small = {"input": "Hi.", "voice": "af_heart", "response_format": "wav"}
    for _ in range(2):
        assert httpx.post(f"{strict_server.url}/v1/audio/speech", json=small, headers=auth(),
                          timeout=60).status_code == 200
    limited = httpx.post(f"{strict_server.url}/v1/audio/speech", json=small, headers=auth(), timeout=60)
    assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= 60


@pytest.mark.unit
def test_a_stalled_reader_is_dropped():
    """SendTimeout: a response whose client accepts nothing is abandoned after the timeout."""
    finished = asyncio.Event()

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"x", "more_body": True})
        finished.set()

    async def stalled_send(message):
        await asyncio.sleep(3600)

    async def main():
        # without the middleware's timeout this would wait for the stalled client for an hour
        await asyncio.wait_for(SendTimeout(app, timeout=0.2)({"type": "http"}, None, stalled_send), 60)

    asyncio.run(main())
    assert not finished.is_set()


def test_an_error_in_one_request_leaves_the_others_alone(server, engine, monkeypatch):
    from kokoro_speech.api import streaming

    class BrokenEncoder(streaming.Encoder):
        def encode(self, samples):
            if self.format.name == "flac":
                raise RuntimeError("injected encoder fault")
            return super().encode(samples)

    monkeypatch.setattr(streaming, "Encoder", BrokenEncoder)
    body = {"input": STORY, "voice": "af_heart"}
    with pytest.raises(httpx.HTTPError):  # cut off without a clean end: the client sees the failure
        with httpx.stream("POST", f"{server.url}/v1/audio/speech", json={**body, "response_format": "flac"},
                          timeout=60) as broken:
            broken.read()
    healthy = httpx.post(f"{server.url}/v1/audio/speech", json={**body, "response_format": "wav"}, timeout=120)
    assert healthy.status_code == 200 and decode(healthy.content, "wav").duration > 5
    assert httpx.get(f"{server.url}/health").status_code == 200
    wait_until(lambda: not engine.scheduler.active_requests, "the requests ended", timeout=10)


def test_sigterm_drains_in_flight_audio_then_exits_0():
    with Server() as server:
        received = bytearray()
        first = threading.Event()

        def listen() -> None:
            body = {"input": STORY, "voice": "am_adam", "response_format": "pcm"}
            with httpx.stream("POST", f"{server.url}/v1/audio/speech", json=body, timeout=120) as response:
                for chunk in response.iter_bytes():
                    received.extend(chunk)
                    first.set()

        client = threading.Thread(target=listen)
        client.start()
        assert first.wait(60)
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        with pytest.raises(httpx.ConnectError):  # no longer accepting
            httpx.get(f"{server.url}/health", timeout=2)
        client.join(120)
        assert server.process.wait(60) == 0
        audio = decode(bytes(received), "pcm")
        assert audio.duration > 8, "the in-flight response was finished, not cut"


def test_a_request_past_its_synthesis_time_limit_is_cut_off(server, engine):
    limit = engine.max_seconds
    engine.max_seconds = 0.5  # the first piece starts, nothing after it
    try:
        with pytest.raises(httpx.HTTPError):
            with httpx.stream("POST", f"{server.url}/v1/audio/speech", timeout=60,
                              json={"input": STORY * 2, "voice": "af_heart", "response_format": "mp3"}) as response:
                response.read()
    finally:
        engine.max_seconds = limit
    assert httpx.get(f"{server.url}/health").status_code == 200

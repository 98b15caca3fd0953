"""WS /v1/audio/speech/stream on the real model: text appended in any cuts comes back as audio deltas, in pcm,
mp3 and opus; bad messages get error events on a socket that stays usable; keys, per-key limits and clients that
leave are handled as on the HTTP route."""

from __future__ import annotations

import base64
import json
import random
import socket

import pytest
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.uri import parse_uri
from websockets.sync.client import connect

from conftest import API_KEY
from support import LiveServer, decode, wait_until, word_error_rate
from kokoro_speech.api.app import create_app
from test_streaming import wait_idle

REPLY = ("Sure, here is what I found about the weather today: it will be sunny all morning. "
         "Later in the afternoon, clouds roll in from the west.")
PATH = "/v1/audio/speech/stream"


def ws_url(server, query: str = "") -> str:
    return f"ws://127.0.0.1:{server.port}{PATH}{query}"


def send(ws, kind: str, **fields) -> None:
    ws.send(json.dumps({"type": kind, **fields}))


def receive(ws) -> dict:
    return json.loads(ws.recv(timeout=120))


def turn(ws, text: str, seed: int = 1) -> tuple[bytes, dict]:
    """Append `text` in cuts of 2-6 characters, end the turn; the audio and the done event."""
    rng = random.Random(seed)
    i = 0
    while i < len(text):
        n = rng.randint(2, 6)
        send(ws, "input_text.append", text=text[i : i + n])
        i += n
    send(ws, "input_text.end")
    audio = b""
    while (event := receive(ws))["type"] == "speech.audio.delta":
        audio += base64.b64decode(event["audio"])
    assert event["type"] == "speech.audio.done", event
    return audio, event


def test_pcm_turn_reads_the_text(server, transcribe):
    with connect(ws_url(server)) as ws:
        send(ws, "session.update", voice="bm_george")
        audio, done = turn(ws, REPLY)
    decoded = decode(audio, "pcm")
    assert word_error_rate(REPLY, transcribe(decoded.samples)) < 0.15
    usage = done["usage"]
    assert usage["input_tokens"] > 50
    assert usage["output_tokens"] == pytest.approx(decoded.duration * 50, abs=2)


@pytest.mark.parametrize("fmt", ["mp3", "opus"])
def test_compressed_turns_are_one_stream_each(server, fmt):
    with connect(ws_url(server)) as ws:
        send(ws, "session.update", response_format=fmt)
        first, _ = turn(ws, "One short turn, spoken first. Then its second sentence.")
        second, _ = turn(ws, "And a second turn on the same socket.")
    for audio in (first, second):
        decoded = decode(audio, fmt)
        assert decoded.duration > 1.5


def test_flush_speaks_what_is_buffered_before_the_end(server):
    with connect(ws_url(server)) as ws:
        send(ws, "input_text.append", text="No sentence end in sight yet")
        send(ws, "input_text.flush")
        assert receive(ws)["type"] == "speech.audio.delta"  # before any input_text.end
        send(ws, "input_text.end")
        while receive(ws)["type"] != "speech.audio.done":
            pass


def test_bad_messages_get_errors_and_the_socket_stays_usable(server):
    with connect(ws_url(server)) as ws:
        ws.send("not json")
        assert receive(ws)["error"]["code"] == "invalid_parameter"
        send(ws, "speak.now")
        error = receive(ws)["error"]
        assert error["param"] == "type" and "input_text.append" in error["message"]
        send(ws, "session.update", speed=9)
        error = receive(ws)["error"]
        assert error["param"] == "speed" and error["type"] == "invalid_request_error"
        send(ws, "session.update", response_format="wav")  # written whole at the end: not a stream format
        assert receive(ws)["error"]["param"] == "response_format"
        send(ws, "session.update", voice="xx_nobody")
        send(ws, "input_text.append", text="Hello.")
        error = receive(ws)["error"]
        assert error["code"] == "voice_not_found" and error["param"] == "voice"
        send(ws, "session.update", voice="af_heart")
        send(ws, "input_text.append", text=5)
        assert receive(ws)["error"]["param"] == "text"
        audio, _ = turn(ws, "Still usable.")
        assert len(audio) > 24_000


def test_session_update_waits_for_the_turn_to_end(server):
    with connect(ws_url(server)) as ws:
        send(ws, "input_text.append", text="A turn has begun")
        send(ws, "session.update", voice="bf_emma")
        assert receive(ws)["error"]["code"] == "turn_in_progress"
        send(ws, "input_text.end")
        while receive(ws)["type"] != "speech.audio.done":
            pass


def test_keys_as_header_subprotocol_or_query(keyed_server):
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(keyed_server))
    assert refused.value.response.status_code == 401
    assert json.loads(refused.value.response.body)["error"]["code"] == "invalid_api_key"
    with pytest.raises(InvalidStatus):
        connect(ws_url(keyed_server), additional_headers={"Authorization": "Bearer wrong"})
    with connect(ws_url(keyed_server), additional_headers={"Authorization": f"Bearer {API_KEY}"}) as ws:
        assert len(turn(ws, "Header.")[0]) > 0
    with connect(ws_url(keyed_server), subprotocols=["kokoro", f"openai-insecure-api-key.{API_KEY}"]) as ws:
        assert ws.subprotocol == "kokoro"
        assert len(turn(ws, "Subprotocol.")[0]) > 0
    with connect(ws_url(keyed_server, f"?api_key={API_KEY}")) as ws:
        assert len(turn(ws, "Query.")[0]) > 0


def test_pages_from_other_origins_are_refused(server, settings, engine):
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(server), origin="https://elsewhere.example")
    assert refused.value.response.status_code == 403
    assert json.loads(refused.value.response.body)["error"]["param"] == "origin"
    with connect(ws_url(server), origin=f"http://127.0.0.1:{server.port}") as ws:  # the playground's own page
        assert len(turn(ws, "Same origin.")[0]) > 0
    allowed = settings.model_copy(update={"cors_origins": "https://elsewhere.example"})
    with LiveServer(create_app(allowed, engine=engine)) as live:
        with connect(ws_url(live), origin="https://elsewhere.example") as ws:
            assert len(turn(ws, "Allowed.")[0]) > 0


def test_per_key_limit_counts_an_open_socket(settings, engine):
    limited = settings.model_copy(update={"api_keys": API_KEY, "max_requests_per_key": 1})
    headers = {"Authorization": f"Bearer {API_KEY}"}
    with LiveServer(create_app(limited, engine=engine)) as live:
        with connect(ws_url(live), additional_headers=headers):
            with pytest.raises(InvalidStatus) as refused:
                connect(ws_url(live), additional_headers=headers)
            assert refused.value.response.status_code == 429
        with connect(ws_url(live), additional_headers=headers) as ws:  # the first one closed: free again
            assert len(turn(ws, "Again.")[0]) > 0


def test_a_client_that_leaves_stops_its_synthesis(server, engine):
    wait_idle(engine)
    calls_before = engine.scheduler.calls_done
    with connect(ws_url(server)) as ws:
        send(ws, "input_text.append",
             text="Every sentence here adds a little more audio to a stream that the client will abandon. " * 8)
        send(ws, "input_text.end")
        assert receive(ws)["type"] == "speech.audio.delta"
    wait_idle(engine)
    assert engine.scheduler.calls_done - calls_before <= 4


def test_elevenlabs_stream_input_shape(keyed_server, transcribe):
    text = "Hello from a client written for another service. It streams its text in as well."
    url = f"ws://127.0.0.1:{keyed_server.port}/v1/text-to-speech/bf_emma/stream-input?output_format=pcm_24000"
    with connect(url, additional_headers={"xi-api-key": API_KEY}) as ws:
        ws.send(json.dumps({"text": " ", "voice_settings": {"stability": 0.5, "similarity_boost": 0.8}}))
        for i in range(0, len(text), 7):
            ws.send(json.dumps({"text": text[i : i + 7], "try_trigger_generation": True}))
        ws.send(json.dumps({"text": ""}))
        audio = b""
        while not (message := receive(ws)).get("isFinal"):
            assert message["isFinal"] is False and "alignment" in message, message
            audio += base64.b64decode(message["audio"])
        with pytest.raises(ConnectionClosed):  # closed after the final message, as ElevenLabs does
            ws.recv(timeout=30)
    assert word_error_rate(text, transcribe(decode(audio, "pcm").samples)) < 0.15


def test_elevenlabs_refuses_what_it_cannot_serve(keyed_server):
    base = f"ws://127.0.0.1:{keyed_server.port}/v1/text-to-speech"
    headers = {"xi-api-key": API_KEY}
    for path, status in ((f"{base}/af_heart/stream-input?output_format=pcm_12345", 400),
                         (f"{base}/xx_nobody/stream-input", 400),
                         (f"{base}/af_heart/stream-input", None)):
        with pytest.raises(InvalidStatus) as refused:
            connect(path, additional_headers=headers if status else {})
        assert refused.value.response.status_code == (status or 401)
    with connect(f"{base}/af_heart/stream-input?output_format=mp3_44100_128", additional_headers=headers) as ws:
        ws.send(json.dumps({"text": "Flushed at once", "flush": True}))
        first = receive(ws)
        assert first["isFinal"] is False
        ws.send(json.dumps({"text": ""}))
        audio = base64.b64decode(first["audio"])
        while not (message := receive(ws)).get("isFinal"):
            audio += base64.b64decode(message["audio"])
    assert decode(audio, "mp3").sample_rate == 44_100


def test_timestamps_index_the_whole_turn_on_its_clock(server):
    text = "First, a clause that is long enough to go alone: then the rest of it. A second sentence ends here."
    with connect(ws_url(server)) as ws:
        send(ws, "session.update", timestamps=True)
        rng, i = random.Random(3), 0
        while i < len(text):
            n = rng.randint(2, 6)
            send(ws, "input_text.append", text=text[i : i + n])
            i += n
        send(ws, "input_text.end")
        items, audio = [], b""
        while (event := receive(ws))["type"] != "speech.audio.done":
            if event["type"] == "speech.audio.timestamps":
                assert len(audio) == 0 or items, "words come before (or with) their audio"
                items += event["timestamps"]
            else:
                audio += base64.b64decode(event["audio"])
    # the same item shape as the SSE events, indexed into all the text appended
    assert set(items[0]) == {"word", "start_time", "end_time", "start_index", "end_index"}
    assert [text[w["start_index"] : w["end_index"]] for w in items] == [w["word"] for w in items]
    assert [w["word"] for w in items][-3:] == ["sentence", "ends", "here"]
    starts = [w["start_time"] for w in items]
    assert starts == sorted(starts) and items[-1]["end_time"] <= decode(audio, "pcm").duration + 0.05
    # the second sentence's words come after the first's audio and its pause
    assert next(w for w in items if w["word"] == "second")["start_time"] > 3.0


def test_a_client_that_stops_reading_is_dropped(settings, engine):
    """The upgrade and the messages are written with websockets' sans-I/O client on a socket whose tiny receive
    window nobody reads: the server's sends block, and --send-timeout drops it, stopping its synthesis."""
    quick = settings.model_copy(update={"send_timeout": 1.0})
    long_text = ("Every sentence here adds a little more audio to a stream that the client will never read. " * 40)
    wait_idle(engine)
    with LiveServer(create_app(quick, engine=engine)) as live, socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", live.port))
        client = ClientProtocol(parse_uri(ws_url(live)))
        client.send_request(client.connect())
        sock.sendall(b"".join(client.data_to_send()))
        response = b""
        while b"\r\n\r\n" not in response:
            response += sock.recv(1)  # the handshake's answer only, byte by byte; nothing after it is read
        assert response.startswith(b"HTTP/1.1 101")
        client.receive_data(response)  # the client is open now
        calls_before = engine.scheduler.calls_done
        for message in ({"type": "input_text.append", "text": long_text[:4000]}, {"type": "input_text.end"}):
            client.send_text(json.dumps(message).encode())
        sock.sendall(b"".join(client.data_to_send()))
        wait_until(lambda: engine.scheduler.calls_done > calls_before, "the server never started speaking", 60)
        # dropped: its synthesis stopped and its admission was released, although the socket is still open here
        # (a server that waited on it forever would keep the request active)
        wait_idle(engine, timeout=120)
        # far fewer model calls than the text's 40 sentences take
        assert engine.scheduler.calls_done - calls_before < 20

"""WS /v1/audio/speech/stream: text in as an LLM writes it, audio out as each clause is spoken.

Client messages (JSON text frames): `session.update` {voice, response_format, speed, lang_code, timestamps,
volume_multiplier, sample_rate}, `input_text.append` {text}, `input_text.flush`, `input_text.end`. Server:
`speech.audio.delta` {audio: base64}, `speech.audio.timestamps` {timestamps: [word items]} before a piece's audio
when asked for, `speech.audio.done` {usage} after each end, `error` {error: OpenAI's error
object} for a bad message (the socket stays open). A turn is the text up to `input_text.end`; turns are spoken
in order, each as one audio stream of its format.

Authentication is the HTTP API's: the upgrade is refused (401) without a key when keys are configured
(`Authorization`, or for browsers the subprotocol `openai-insecure-api-key.<key>` or `?api_key=`); per-key limits
count an open socket as one request; --send-timeout drops a client that stops reading; a disconnect stops its
synthesis.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from kokoro_speech.api.auth import KEY_SUBPROTOCOL
from kokoro_speech.api.streaming import encoded_with_words, usage
from kokoro_speech.api.schemas import StreamSession, error_body, validation_error_body
from kokoro_speech.api.policy import SYNTHESIS, label_of, policy
from kokoro_speech.api.state import EngineDep, KeyDep, StateDep
from kokoro_speech.audio.encode import FORMATS
from kokoro_speech.audio.resample import SAMPLE_RATES
from kokoro_speech.errors import ApiError, InvalidParameter, OriginNotAllowed
from kokoro_speech.pipeline.engine import Engine
from kokoro_speech.pipeline.incremental import IncrementalSpeech

log = logging.getLogger(__name__)

MESSAGES = ("session.update", "input_text.append", "input_text.flush", "input_text.end")

async def same_origin(websocket: WebSocket, state: StateDep) -> None:
    """Browsers open WebSockets to any address without a CORS preflight: a page from another origin (one not in
    --cors-origins) could otherwise use a server on the user's own machine. Non-browser clients send no Origin."""
    origin = websocket.headers.get("origin")
    if origin is None or origin in state.cors_origins:
        return
    if urlsplit(origin).netloc != websocket.headers.get("host"):
        raise OriginNotAllowed(f"WebSockets from pages at {origin} are not allowed; add it to --cors-origins",
                               param="origin")


router = APIRouter(prefix="/v1", dependencies=[Depends(same_origin)])


def _subprotocol(offered: list[str]) -> str | None:
    """The subprotocol to accept: a browser fails the handshake unless one it offered comes back; the key's own
    only when it offered nothing else."""
    plain = [p for p in offered if not p.startswith(KEY_SUBPROTOCOL)]
    return (plain or offered or [None])[0]


class SpeechStream:
    def __init__(self, websocket: WebSocket, engine: Engine, state: StateDep, key: str | None) -> None:
        self.websocket = websocket
        self.key = key
        self.engine = engine
        self.metrics = state.metrics
        self.session = StreamSession()
        self.speech: IncrementalSpeech | None = None  # the turn being written
        self.speaking: asyncio.Task | None = None  # the last turn's audio, in order after the ones before
        self.failed: asyncio.Future = asyncio.get_running_loop().create_future()

    async def run(self) -> None:
        reading = asyncio.create_task(self._read())
        try:
            await asyncio.wait([reading, self.failed], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (reading, self.speaking):
                if task is not None:
                    task.cancel()
        exc = self.failed.exception() if self.failed.done() else None
        if exc is not None and not isinstance(exc, (WebSocketDisconnect, OSError)):
            raise exc  # the send timeout's, say: the middleware drops the client

    async def _read(self) -> None:
        while (message := await self.websocket.receive())["type"] != "websocket.disconnect":
            try:
                await self._handle(message.get("text"))
            except ApiError as exc:
                await self._error(exc)
            except ValidationError as exc:
                await self._send({"type": "error", **validation_error_body(exc.errors())})

    async def _handle(self, text: str | None) -> None:
        message = _json_object(text)
        kind = message.get("type")
        if kind not in MESSAGES:
            raise InvalidParameter(f"unknown message type {kind!r}; send one of {', '.join(MESSAGES)}", param="type")
        if kind == "session.update":
            self._update({k: v for k, v in message.items() if k != "type"})
        elif kind == "input_text.append":
            self._turn().append(_text(message))
        elif kind == "input_text.flush":
            if self.speech is not None:
                self.speech.flush()
        else:
            self._end()

    def _update(self, fields: dict) -> None:
        if self.speech is not None:
            raise InvalidParameter("session.update must come before a turn's text (after input_text.end)",
                                   param="type", code="turn_in_progress")
        self.session = StreamSession.model_validate(self.session.model_dump() | fields)

    def _end(self) -> None:
        self._turn().end()
        self.speech = None

    def _turn(self) -> IncrementalSpeech:
        if self.speech is None:
            session = self.session
            self.speech = IncrementalSpeech(self.engine, session.voice_id(), session.speed, session.language(),
                                            timestamps=session.timestamps, caller=self.key,
                                            **session.cast_options())
            self.speaking = asyncio.create_task(self._speak(self.speech, session, self.speaking))
        return self.speech

    async def _speak(self, speech: IncrementalSpeech, session: StreamSession, before: asyncio.Task | None) -> None:
        if before is not None:
            await before
        started = time.perf_counter()
        fmt = FORMATS[session.response_format]
        try:
            async for data, words in encoded_with_words(speech.synthesis(self._error), fmt,
                                                        sample_rate=session.sample_rate,
                                                        volume=session.volume_multiplier):
                if words:  # each piece's words before its audio, as in the SSE stream
                    await self._send({"type": "speech.audio.timestamps", "timestamps": [w.as_dict() for w in words]})
                if data:
                    await self._send(self._delta(base64.b64encode(data).decode()))
            await self._done(speech)
        except Exception as exc:  # the client is gone or stalled: run() ends the socket
            if not self.failed.done():
                self.failed.set_exception(exc)
            return
        self.metrics.finished(label_of(self.websocket.scope), "200", fmt.name, time.perf_counter() - started)

    def _delta(self, audio: str) -> dict:
        return {"type": "speech.audio.delta", "audio": audio}

    async def _done(self, speech: IncrementalSpeech) -> None:
        await self._send({"type": "speech.audio.done", "usage": usage(speech.stats)})

    async def _error(self, exc: ApiError) -> None:
        await self._send({"type": "error", **error_body(exc.message, exc.type, exc.param, exc.code)})

    async def _send(self, event: dict) -> None:
        await self.websocket.send_text(json.dumps(event, separators=(",", ":")))


def _json_object(text: str | None) -> dict:
    if text is None:
        raise InvalidParameter("messages are JSON text frames; this one was binary")
    try:
        message = json.loads(text)
    except ValueError:
        raise InvalidParameter("a message must be a JSON object; this one is not valid JSON") from None
    if not isinstance(message, dict):
        raise InvalidParameter("a message must be a JSON object")
    return message


def _text(message: dict) -> str:
    if not isinstance(message.get("text"), str):
        raise InvalidParameter("the message needs 'text', a string", param="text")
    return message["text"]


class ElevenLabsStream(SpeechStream):
    """ElevenLabs' `stream-input` messages, for clients written for it: `{"text": " ", "voice_settings": {...}}`
    first, then `{"text": "...", "flush": true}` (or `try_trigger_generation`), `{"text": ""}` to end; answered
    with `{"audio": base64, "isFinal": false, "alignment": null}` and finally `{"isFinal": true}`, after which
    the socket closes, as theirs does. The voice is in the path, the format in `output_format`."""

    async def _handle(self, text: str | None) -> None:
        message = _json_object(text)
        spoken = _text(message)
        settings = message.get("voice_settings")
        if isinstance(settings, dict) and "speed" in settings:
            self._update({"speed": settings["speed"]})
        if spoken == "":
            self._end()
            return
        self._turn().append(spoken)
        if message.get("flush") is True:
            self.speech.flush()

    def _delta(self, audio: str) -> dict:
        return {"audio": audio, "isFinal": False, "normalizedAlignment": None, "alignment": None}

    async def _done(self, speech: IncrementalSpeech) -> None:
        await self._send({"isFinal": True})
        await self.websocket.close()


def _elevenlabs_format(output_format: str) -> dict:
    """ElevenLabs' `output_format` (codec_rate[_bitrate]: pcm_24000, mp3_44100_128, ulaw_8000, opus_48000_64)."""
    codec, _, rest = output_format.partition("_")
    rate = rest.partition("_")[0]
    if codec not in ("pcm", "mp3", "opus", "ulaw", "alaw") or not rate.isdigit() or int(rate) not in SAMPLE_RATES:
        raise InvalidParameter(f"output_format '{output_format}' is not offered; use pcm_24000, mp3_44100_128, "
                               "opus_48000_64, ulaw_8000 or alaw_8000", param="output_format")
    return {"response_format": codec, "sample_rate": None if codec == "opus" else int(rate)}


@router.websocket("/text-to-speech/{voice_id}/stream-input")
@policy(SYNTHESIS)
async def elevenlabs_stream(websocket: WebSocket, voice_id: str, engine: EngineDep, key: KeyDep, state: StateDep,
                            output_format: str = "mp3_44100_128") -> None:
    session = StreamSession.model_validate({"voice": voice_id, **_elevenlabs_format(output_format)})
    engine.resolve_voice(session.voice_id(), caller=key)  # a voice this server lacks refuses the upgrade (400)
    await websocket.accept(subprotocol=_subprotocol(websocket.scope.get("subprotocols", [])))
    log.info("ElevenLabs-style speech stream opened, %s", key or "no key")
    stream = ElevenLabsStream(websocket, engine, state, key)
    stream.session = session
    await stream.run()


@router.websocket("/audio/speech/stream")
@policy(SYNTHESIS)
async def speech_stream(websocket: WebSocket, engine: EngineDep, key: KeyDep, state: StateDep) -> None:
    await websocket.accept(subprotocol=_subprotocol(websocket.scope.get("subprotocols", [])))
    log.info("speech stream opened, %s", key or "no key")
    await SpeechStream(websocket, engine, state, key).run()

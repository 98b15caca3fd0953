"""WS /v1/audio/speech/stream: text in as an LLM writes it, audio out as each clause is spoken.

Client messages (JSON text frames): `session.update` {voice, response_format, speed, lang_code, timestamps,
volume_multiplier, sample_rate}, `input_text.append` {text}, `input_text.flush`, `input_text.end`. Server:
`speech.audio.delta` {audio: base64}, `speech.audio.done` {usage} after each end, `error` {error: OpenAI's error
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

from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from kokoro_speech.api.auth import KEY_SUBPROTOCOL
from kokoro_speech.api.routes import encoded, usage
from kokoro_speech.api.schemas import StreamSession, error_body, validation_error_body
from kokoro_speech.api.state import EngineDep, KeyDep, StateDep, require_key
from kokoro_speech.audio.encode import FORMATS
from kokoro_speech.errors import ApiError, InvalidParameter
from kokoro_speech.pipeline.engine import Engine
from kokoro_speech.pipeline.incremental import IncrementalSpeech

log = logging.getLogger(__name__)

ROUTE = "/v1/audio/speech/stream"
MESSAGES = ("session.update", "input_text.append", "input_text.flush", "input_text.end")

router = APIRouter(prefix="/v1", dependencies=[Depends(require_key)])


def _subprotocol(offered: list[str]) -> str | None:
    """The subprotocol to accept: a browser fails the handshake unless one it offered comes back; the key's own
    only when it offered nothing else."""
    plain = [p for p in offered if not p.startswith(KEY_SUBPROTOCOL)]
    return (plain or offered or [None])[0]


class SpeechStream:
    def __init__(self, websocket: WebSocket, engine: Engine, state: StateDep) -> None:
        self.websocket = websocket
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
        if text is None:
            raise InvalidParameter("messages are JSON text frames; this one was binary")
        try:
            message = json.loads(text)
        except ValueError:
            raise InvalidParameter("a message must be a JSON object; this one is not valid JSON") from None
        kind = message.get("type") if isinstance(message, dict) else None
        if kind not in MESSAGES:
            raise InvalidParameter(f"unknown message type {kind!r}; send one of {', '.join(MESSAGES)}", param="type")
        if kind == "session.update":
            if self.speech is not None:
                raise InvalidParameter("session.update must come before a turn's text (after input_text.end)",
                                       param="type", code="turn_in_progress")
            fields = {k: v for k, v in message.items() if k != "type"}
            session = StreamSession.model_validate(self.session.model_dump() | fields)
            if session.timestamps:
                raise InvalidParameter("timestamps are not available on this route yet", param="timestamps")
            self.session = session
        elif kind == "input_text.append":
            if not isinstance(message.get("text"), str):
                raise InvalidParameter("input_text.append needs 'text', a string", param="text")
            self._turn().append(message["text"])
        elif kind == "input_text.flush":
            if self.speech is not None:
                self.speech.flush()
        else:
            self._turn().end()
            self.speech = None

    def _turn(self) -> IncrementalSpeech:
        if self.speech is None:
            session = self.session
            self.speech = IncrementalSpeech(self.engine, session.voice_id(), session.speed, session.language())
            self.speaking = asyncio.create_task(self._speak(self.speech, session, self.speaking))
        return self.speech

    async def _speak(self, speech: IncrementalSpeech, session: StreamSession, before: asyncio.Task | None) -> None:
        if before is not None:
            await before
        started = time.perf_counter()
        fmt = FORMATS[session.response_format]
        try:
            async for data in encoded(speech.samples(self._error), fmt, sample_rate=session.sample_rate,
                                      volume=session.volume_multiplier):
                await self._send({"type": "speech.audio.delta", "audio": base64.b64encode(data).decode()})
            await self._send({"type": "speech.audio.done", "usage": usage(speech.stats)})
        except Exception as exc:  # the client is gone or stalled: run() ends the socket
            if not self.failed.done():
                self.failed.set_exception(exc)
            return
        self.metrics.finished(ROUTE, "200", fmt.name, time.perf_counter() - started)

    async def _error(self, exc: ApiError) -> None:
        await self._send({"type": "error", **error_body(exc.message, exc.type, exc.param, exc.code)})

    async def _send(self, event: dict) -> None:
        await self.websocket.send_text(json.dumps(event, separators=(",", ":")))


@router.websocket("/audio/speech/stream")
async def speech_stream(websocket: WebSocket, engine: EngineDep, key: KeyDep, state: StateDep) -> None:
    await websocket.accept(subprotocol=_subprotocol(websocket.scope.get("subprotocols", [])))
    log.info("speech stream opened, %s", key or "no key")
    await SpeechStream(websocket, engine, state).run()

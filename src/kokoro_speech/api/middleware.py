"""ASGI middleware: a bounded request body, request ids and security headers on every response."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kokoro_speech.api.schemas import error_response
from kokoro_speech.errors import RequestTimeout, RequestTooLarge
from kokoro_speech.logs import request_id as current_request_id

log = logging.getLogger(__name__)
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")


class BodyLimit:
    """Reads the request body up front, refusing any over `max_bytes` (413) or slower than `read_timeout`
    seconds (408), then replays it: a slow or huge upload never reaches the app. `larger` gives paths that take
    uploads (book jobs) a limit of their own."""

    def __init__(self, app: ASGIApp, max_bytes: int, read_timeout: float, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.read_timeout = read_timeout
        self.larger = larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        max_bytes = self.larger.get(scope["path"], self.max_bytes)
        too_large = error_response(RequestTooLarge(f"request body is larger than {max_bytes} bytes"))
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > max_bytes:
            return await too_large(scope, receive, send)
        chunks: list[bytes] = []
        size = 0
        deadline = asyncio.get_running_loop().time() + self.read_timeout
        while True:
            try:
                message = await asyncio.wait_for(receive(), deadline - asyncio.get_running_loop().time())
            except asyncio.TimeoutError:
                timeout = RequestTimeout(f"the request body was not received within {self.read_timeout:g} s")
                return await error_response(timeout)(scope, receive, send)
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > max_bytes:
                return await too_large(scope, receive, send)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()  # later calls wait for the disconnect, as streaming responses expect

        await self.app(scope, replay, send)


class ResponseHeaders:
    """Adds X-Request-ID (the client's, if it sent a sane one) and hardening headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = dict(scope["headers"]).get(b"x-request-id", b"")
        request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex.encode()
        scope.setdefault("state", {})["request_id"] = request_id.decode()
        current_request_id.set(request_id.decode())  # every log line of this request carries it

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id),
                                      (b"x-content-type-options", b"nosniff")]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class SendTimeout:
    """Drops a client (HTTP or WebSocket) that accepts nothing sent for `timeout` seconds, so that a reader that stalls
    cannot hold a synthesis slot forever (the stream is cancelled and its slot released)."""

    def __init__(self, app: ASGIApp, timeout: float) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)

        async def send_or_give_up(message: Message) -> None:
            try:
                await asyncio.wait_for(send(message), self.timeout)
            except asyncio.TimeoutError:
                raise _ClientStalled() from None

        try:
            await self.app(scope, receive, send_or_give_up)
        except _ClientStalled:  # the response is abandoned; the server closes the connection
            log.warning("dropped a client that read nothing for %g s", self.timeout)


class _ClientStalled(Exception):
    pass

"""Per-API-key limits on speech requests: how many at once, and how many per minute (both off by default).

A refused request gets 429 with Retry-After in OpenAI's rate_limit_error shape. Unauthenticated requests
pass through untouched (the auth check answers them), so unknown keys cannot fill the tables.
"""

from __future__ import annotations

import collections
import math
import time

from starlette.types import ASGIApp, Receive, Scope, Send

from kokoro_speech.api.auth import KeyChecker, credentials
from kokoro_speech.api.schemas import error_response
from kokoro_speech.errors import RateLimited, Unauthorized

LIMITED_PATHS = ("/v1/audio/speech", "/v1/audio/speech/stream")  # a WebSocket counts as one request while open


class KeyLimits:
    def __init__(self, app: ASGIApp, keys: KeyChecker, *, concurrent: int, per_minute: int) -> None:
        self.app = app
        self.keys = keys
        self.concurrent = concurrent
        self.per_minute = per_minute
        self._active: collections.Counter[str] = collections.Counter()
        self._recent: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limited = scope["type"] in ("http", "websocket") and (
            scope["path"] in LIMITED_PATHS or scope["path"].startswith("/v1/text-to-speech/"))
        if not limited or not (self.concurrent or self.per_minute):
            return await self.app(scope, receive, send)
        try:
            key = self.keys.check(credentials(scope))
        except Unauthorized:
            key = None
        if key is None:
            return await self.app(scope, receive, send)
        refusal = self._refusal(key)
        if refusal is not None:
            return await error_response(refusal)(scope, receive, send)
        self._active[key] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self._active[key] -= 1
            if not self._active[key]:
                del self._active[key]

    def _refusal(self, key: str) -> RateLimited | None:
        if self.concurrent and self._active[key] >= self.concurrent:
            return RateLimited(f"this API key already has {self._active[key]} requests in progress "
                               f"(limit {self.concurrent})", retry_after=1)
        if self.per_minute:
            now = time.monotonic()
            recent = self._recent[key]
            while recent and recent[0] <= now - 60:
                recent.popleft()
            if len(recent) >= self.per_minute:
                return RateLimited(f"this API key made {len(recent)} requests in the last minute "
                                   f"(limit {self.per_minute})", retry_after=max(1, math.ceil(recent[0] + 60 - now)))
            recent.append(now)
        return None

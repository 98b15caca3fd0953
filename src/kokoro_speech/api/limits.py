"""Per-API-key limits on synthesis: how many requests at once, and how many per minute (both off by default).

Applied by `route_guard` (api/state.py) to every route whose policy says it synthesizes. A refused request gets
429 with Retry-After in OpenAI's rate_limit_error shape.
"""

from __future__ import annotations

import collections
import math
import time
from contextlib import asynccontextmanager
from typing import AsyncIterator

from kokoro_speech.errors import RateLimited


class KeyLimits:
    def __init__(self, *, concurrent: int, per_minute: int) -> None:
        self.concurrent = concurrent
        self.per_minute = per_minute
        self._active: collections.Counter[str] = collections.Counter()
        self._recent: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """One request of `key` while the block runs; raises RateLimited past either limit."""
        refusal = self._refusal(key)
        if refusal is not None:
            raise refusal
        self._active[key] += 1
        try:
            yield
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

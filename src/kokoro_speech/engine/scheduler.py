"""Sharing the model between requests.

Model calls run on worker threads in priority order: a request's first piece goes ahead of later pieces of
running requests (they have audio buffered), so every client starts speaking fast; the rest run in order of
arrival. Admission is bounded: past `max_requests` a new request is refused at once with Overloaded.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import heapq
import itertools
import logging
import threading
from typing import Callable

import numpy as np

from kokoro_speech.errors import Overloaded

log = logging.getLogger(__name__)

ModelCall = Callable[[], np.ndarray]


class Admission:
    """A held request slot; `release` is idempotent so every exit path may call it."""

    def __init__(self, leave: Callable[[], None]) -> None:
        self._leave: Callable[[], None] | None = leave

    def release(self) -> None:
        leave, self._leave = self._leave, None
        if leave is not None:
            leave()

    def __enter__(self) -> Admission:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class Scheduler:
    def __init__(self, *, max_requests: int, workers: int = 1) -> None:
        self.max_requests = max_requests
        self._active = 0
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._queue: list[tuple[int, int, concurrent.futures.Future, ModelCall]] = []
        self._order = itertools.count()
        self._closed = False
        self.calls_done = 0
        self.samples_done = 0  # audio samples produced, for metrics
        self._threads = [
            threading.Thread(target=self._work, name=f"kokoro-model-{i}", daemon=True) for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def active_requests(self) -> int:
        return self._active

    @property
    def queued_calls(self) -> int:
        return len(self._queue)

    def admit(self) -> Admission:
        """Take one of the `max_requests` request slots, or raise Overloaded at once."""
        with self._lock:
            if self._active >= self.max_requests:
                raise Overloaded(
                    f"the server is busy with {self._active} requests; retry shortly", retry_after=1
                )
            self._active += 1
        return Admission(self._leave)

    def _leave(self) -> None:
        with self._lock:
            self._active -= 1

    async def run(self, call: ModelCall, *, first: bool) -> np.ndarray:
        """Run one model call on a worker; cancelling the await drops it if it has not started."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._ready:
            if self._closed:
                raise RuntimeError("scheduler is closed")
            heapq.heappush(self._queue, (0 if first else 1, next(self._order), future, call))
            self._ready.notify()
        return await asyncio.wrap_future(future)

    def _work(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._closed:
                    self._ready.wait()
                if self._closed and not self._queue:
                    return
                _, _, future, call = heapq.heappop(self._queue)
            if not future.set_running_or_notify_cancel():
                continue  # its client went away before it started
            try:
                audio = call()
                self.samples_done += audio.size
                future.set_result(audio)
            except BaseException as exc:  # handed to the awaiting request, never kills the worker
                future.set_exception(exc)
            self.calls_done += 1

    def close(self) -> None:
        with self._ready:
            self._closed = True
            for _, _, future, _ in self._queue:
                future.cancel()
            self._queue.clear()
            self._ready.notify_all()
        for thread in self._threads:
            thread.join(timeout=30)

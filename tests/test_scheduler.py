"""Sharing the model: first pieces jump the queue, admission is bounded, cancelled calls never run."""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest

from kokoro_speech.engine.scheduler import Scheduler
from kokoro_speech.errors import Overloaded


def test_first_pieces_go_ahead_of_later_pieces():
    scheduler = Scheduler(max_requests=8)
    order: list[str] = []
    gate = threading.Event()

    def call(name: str):
        def run() -> np.ndarray:
            if name == "blocker":
                gate.wait(5)
            order.append(name)
            return np.zeros(1, np.float32)
        return run

    async def main() -> None:
        blocker = asyncio.ensure_future(scheduler.run(call("blocker"), first=True))
        await asyncio.sleep(0.05)  # the worker is now busy with the blocker
        later = [asyncio.ensure_future(scheduler.run(call(f"later{i}"), first=False)) for i in range(3)]
        await asyncio.sleep(0.01)
        first = asyncio.ensure_future(scheduler.run(call("first"), first=True))
        await asyncio.sleep(0.01)
        gate.set()
        await asyncio.gather(blocker, first, *later)

    asyncio.run(main())
    scheduler.close()
    assert order == ["blocker", "first", "later0", "later1", "later2"]


def test_admission_is_bounded_and_released():
    scheduler = Scheduler(max_requests=2)
    with scheduler.admit(), scheduler.admit():
        with pytest.raises(Overloaded) as refused:
            with scheduler.admit():
                pass
        assert refused.value.retry_after >= 1 and refused.value.status == 429
    with scheduler.admit():
        assert scheduler.active_requests == 1
    assert scheduler.active_requests == 0
    scheduler.close()


def test_a_cancelled_call_never_runs_and_errors_do_not_kill_the_worker():
    scheduler = Scheduler(max_requests=8)
    ran: list[str] = []

    def slow() -> np.ndarray:
        time.sleep(0.2)
        ran.append("slow")
        return np.zeros(1, np.float32)

    def boom() -> np.ndarray:
        raise RuntimeError("bad voice file")

    async def main() -> None:
        running = asyncio.ensure_future(scheduler.run(slow, first=True))
        await asyncio.sleep(0.05)
        doomed = asyncio.ensure_future(scheduler.run(lambda: ran.append("doomed") or np.zeros(1), first=False))
        await asyncio.sleep(0.01)
        doomed.cancel()
        await running
        with pytest.raises(RuntimeError, match="bad voice"):
            await scheduler.run(boom, first=True)
        assert (await scheduler.run(lambda: np.ones(2, np.float32), first=True)).size == 2

    asyncio.run(main())
    scheduler.close()
    assert ran == ["slow"]

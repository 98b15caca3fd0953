"""Sharing the model and the CPU cores between requests, and between the clients that send them.

Model calls run in priority order. A request's first piece goes ahead of everything else (the pieces of
requests already speaking have audio buffered), so every client starts speaking fast; but only a *leading*
request's: one whose client (its API key, or its address without keys) had nothing else in progress when it
was admitted. The rest take turns **by client**, piece by piece (the client served least recently goes next),
and within one client **in order of admission**: a client that sends a reply's sentences all at once (Open
WebUI) gets its first sentence whole first, then the next, instead of all of them sharing the engine, while one
client's burst or long request cannot hold another client's audio back for more than a piece. Background work
(book jobs, jobs/) comes last: its pieces take the model only when no person's piece waits, and a person's
call that finds every core busy with background calls interrupts one (a session with `interrupt`, the ONNX
Runtime's terminate flag): that call goes back to the queue, to run again from its start, so a book being read
costs people's first audio almost nothing. People first is not people only: under a steady stream of
people's calls, the oldest background call still gets a turn, in which it is not interrupted: ahead of a later
piece (whose request has audio buffered) once BACKGROUND_TURN_CALLS people's calls have gone past it, ahead of
anything once it has waited BACKGROUND_TURN_SECONDS; so a book always moves (at worst about one call in
BACKGROUND_TURN_CALLS + 1), and a first piece waits for it only in the second case. Since pieces are sized by
the audio they make (text/split.py), each turn costs about the same.

How the cores are used depends on the load. Intra-op parallelism scales poorly (two threads give ~1.55x
one), so a call that runs alone gets a session using every core (`wide`), while calls that arrive together
each get one core on a single-threaded session (`narrow`, whose runs proceed in parallel): the lone request
keeps its speed, and concurrent ones get the better aggregate throughput. Without a narrow session every
call runs on the wide one, one at a time.

Admission is by work (pipeline/admission.py), modelled on the same turns: each model call's measured cost
teaches it the machine's speed, and a request that could not be served in time is refused at once with
Overloaded.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import itertools
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, Hashable, Protocol, runtime_checkable

import numpy as np

from kokoro_speech.kokoro import SAMPLES_PER_FRAME
from kokoro_speech.pipeline.admission import Admission, Ticket

log = logging.getLogger(__name__)

class ModelSession(Protocol):
    """What a model call runs on: Kokoro's session (model/session.py), or a stand-in where only plumbing is tested."""

    def __call__(self, tokens: list[int], style: np.ndarray, speed: float) -> np.ndarray:
        """float32 audio at 24 kHz for one piece's token ids."""
        ...


@runtime_checkable
class TimedSession(ModelSession, Protocol):
    """A session that can also say how long each token lasts (word timestamps), when `durations_output` is set."""

    durations_output: str | None

    def timed(self, tokens: list[int], style: np.ndarray, speed: float) -> tuple[np.ndarray, np.ndarray]:
        """The audio and each token's frames, the two boundary pads included."""
        ...


ModelCall = Callable[[ModelSession], np.ndarray]


@runtime_checkable
class Interruptible(Protocol):
    def interrupt(self, thread: int) -> None:
        """Make the run in progress on worker `thread` of this session raise soon."""
        ...


# the order in which waiting calls run (lowest first); within a rank, see Scheduler._rank
FIRST_PIECE, LATER_PIECE, BACKGROUND = 0, 1, 2
REMEMBERED_CLIENTS = 1024  # clients whose last turn is remembered; one forgotten since counts as new
# a waiting background call takes its turn ahead of a later piece after this many people's calls went past it,
# ahead of a first piece after this long without a turn
BACKGROUND_TURN_CALLS = 8
BACKGROUND_TURN_SECONDS = 10.0


@dataclass(eq=False)
class _Waiting:
    """A model call waiting for a worker, and whose it is."""

    rank: int  # FIRST_PIECE, LATER_PIECE or BACKGROUND
    arrival: int
    client: Hashable  # its request's client (a key, an address); a call without a ticket is a client of its own
    request: int  # its request's order of admission: one client's requests are served in this order
    future: concurrent.futures.Future
    call: ModelCall


@dataclass
class _Running:
    """A call on a worker now: which session it has, and whether it is background work (preemptible)."""

    session: ModelSession
    queued: _Waiting
    background: bool
    interrupted: bool = False


class Scheduler:
    def __init__(self, wide: ModelSession, *, admission: Admission, narrow: ModelSession | None = None,
                 cores: int = 1, clock: Callable[[], float] = time.monotonic) -> None:
        self.admission = admission
        self._clock = clock
        self._wide = wide
        self._narrow = narrow
        self._cores = cores if narrow is not None else 1  # without a narrow session: one call at a time
        self._free = self._cores
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._queue: list[_Waiting] = []
        self._order = itertools.count()
        # each client's last turn (a count of turns), oldest first: the least recently served client goes next
        self._turns: collections.OrderedDict[Hashable, int] = collections.OrderedDict()
        self._turn = itertools.count(1)
        self._closed = False
        self._running: dict[int, _Running] = {}  # by worker thread id
        self._resumed: set[int] = set()  # ids of interrupted futures queued again (already set running)
        self._passed_over = 0  # people's calls taken while a background call waited, since the last one ran
        self._background_since: float | None = None  # when background calls began waiting for a turn
        self.calls_done = 0
        self.interrupted = 0  # background calls preempted by people's
        self.samples_done = 0  # audio samples produced, for metrics
        self._threads = [threading.Thread(target=self._work, name=f"kokoro-model-{i}", daemon=True)
                         for i in range(self._cores)]
        for thread in self._threads:
            thread.start()

    @property
    def sessions(self) -> list[ModelSession]:
        return [self._wide] if self._narrow is None else [self._wide, self._narrow]

    @property
    def active_requests(self) -> int:
        return self.admission.active

    @property
    def max_requests(self) -> int:
        return self.admission.max_requests

    @max_requests.setter
    def max_requests(self, value: int) -> None:
        self.admission.max_requests = value

    @property
    def queued_calls(self) -> int:
        return len(self._queue)

    @property
    def running_calls(self) -> int:
        return len(self._running)

    async def run(self, call: ModelCall, *, first: bool, background: bool = False,
                  ticket: Ticket | None = None) -> np.ndarray:
        """Run one model call on a worker; cancelling the await drops it if it has not started. `first`: the
        request's first piece (ahead of others when its `ticket` leads, or without a ticket); `ticket` says whose
        request it is (its client, its order); a `background` call waits for every interactive one."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        leading = ticket is None or ticket.leading
        rank = BACKGROUND if background else FIRST_PIECE if first and leading else LATER_PIECE
        arrival = next(self._order)
        client = object() if ticket is None or ticket.client is None else ticket.client
        waiting = _Waiting(rank, arrival, client, arrival if ticket is None else ticket.order, future, call)
        with self._ready:
            if self._closed:
                raise RuntimeError("scheduler is closed")
            self._queue.append(waiting)
            if background and self._background_since is None:
                self._background_since = self._clock()
            if not background and not self._free:
                self._preempt()
            self._ready.notify()
        return await asyncio.wrap_future(future)

    def _preempt(self) -> None:
        """Under the lock, every core busy and a person's call waiting: interrupt one background call."""
        for thread, running in self._running.items():
            if running.background and not running.interrupted and isinstance(running.session, Interruptible):
                running.interrupted = True
                running.session.interrupt(thread)
                return

    def _rank(self, waiting: _Waiting) -> tuple:
        """Which waiting call runs first (the lowest): leading first pieces in order of arrival; then people's
        other calls, the least recently served client first and, within a client, its oldest request; then
        background calls in order of arrival."""
        if waiting.rank == LATER_PIECE:
            return waiting.rank, self._turns.get(waiting.client, 0), waiting.request, waiting.arrival
        return waiting.rank, 0, 0, waiting.arrival

    def _served(self, client: Hashable) -> None:
        """Under the lock: `client` had a turn now."""
        self._turns[client] = next(self._turn)
        self._turns.move_to_end(client)
        if len(self._turns) > REMEMBERED_CLIENTS:
            self._turns.popitem(last=False)

    def _take(self) -> tuple[concurrent.futures.Future, ModelCall, ModelSession, int] | None:
        """Under the lock: the next call, the session for it and the cores it occupies."""
        while True:
            while not self._closed and not (self._queue and self._free):
                self._ready.wait()
            if self._closed and not self._queue:
                return None
            queued, due = self._next()
            future, call = queued.future, queued.call
            if id(future) in self._resumed:
                self._resumed.discard(id(future))
            elif not future.set_running_or_notify_cancel():
                continue  # its client went away before it started
            if self._free == self._cores and not self._queue:  # alone: all cores to one call
                self._free = 0
                session, cores = self._wide, self._cores
            else:
                self._free -= 1
                session, cores = self._narrow or self._wide, 1
            if queued.rank != BACKGROUND:
                self._served(queued.client)
            # a background call in its due turn is not interrupted: that would starve it again
            self._running[threading.get_ident()] = _Running(session, queued, queued.rank == BACKGROUND and not due)
            return future, call, session, cores

    def _next(self) -> tuple[_Waiting, bool]:
        """Under the lock, the queue not empty: take the call to run (the lowest ranked, or the oldest background
        call when its turn is due) and say whether it was a due turn."""
        head = min(self._queue, key=self._rank)  # a few dozen calls at most: a scan costs nothing
        waiting = [entry for entry in self._queue if entry.rank == BACKGROUND]
        due = bool(waiting) and head.rank != BACKGROUND and (
            (head.rank == LATER_PIECE and self._passed_over >= BACKGROUND_TURN_CALLS) or (
                self._background_since is not None
                and self._clock() - self._background_since >= BACKGROUND_TURN_SECONDS))
        queued = min(waiting, key=lambda entry: entry.arrival) if due else head
        self._queue.remove(queued)
        if due:
            self._background_turn(waiting=len(waiting) > 1)
        elif queued.rank != BACKGROUND and waiting:
            self._passed_over += 1
        return queued, due

    def _background_turn(self, *, waiting: bool) -> None:
        """Under the lock: a background call had its turn (taken when due, or run to its end, not merely
        started: one interrupted every time has had none), so the count and the clock start again."""
        self._passed_over = 0
        self._background_since = self._clock() if waiting else None

    def _work(self) -> None:
        while True:
            with self._ready:
                taken = self._take()
            if taken is None:
                return
            future, call, session, cores = taken
            started = time.perf_counter()
            audio, failure = None, None
            try:
                audio = call(session)
            except BaseException as exc:
                failure = exc
            with self._ready:
                running = self._running.pop(threading.get_ident())
                if failure is not None and running.interrupted and not self._closed:
                    # preempted for a person: back to the queue, to run again when nobody waits
                    self._resumed.add(id(future))
                    self._queue.append(running.queued)
                    if self._background_since is None:
                        self._background_since = self._clock()
                    self.interrupted += 1
                    self._free += cores
                    self._ready.notify_all()
                    continue
            if failure is None:
                future.set_result(audio)
            else:  # handed to the awaiting request, never kills the worker
                future.set_exception(failure)
            if audio is not None:  # what a frame costs this machine: wall time × the share of the cores used
                machine_seconds = (time.perf_counter() - started) * cores / self._cores
                self.admission.observe(audio.size / SAMPLES_PER_FRAME, machine_seconds)
            with self._ready:
                if running.queued.rank == BACKGROUND and failure is None:
                    self._background_turn(waiting=any(entry.rank == BACKGROUND for entry in self._queue))
                self._free += cores
                self.calls_done += 1
                self.samples_done += 0 if audio is None else audio.size
                self._ready.notify_all()

    def close(self) -> None:
        with self._ready:
            self._closed = True
            for waiting in self._queue:
                future = waiting.future
                if id(future) in self._resumed:  # interrupted once: running, so it cannot be cancelled
                    future.set_exception(RuntimeError("scheduler is closed"))
                else:
                    future.cancel()
            self._queue.clear()
            self._ready.notify_all()
        for thread in self._threads:
            thread.join(timeout=30)

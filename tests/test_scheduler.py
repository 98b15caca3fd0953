"""Sharing the model: first pieces jump the queue, requests take turns, lone calls get every core and
concurrent ones one core each, cancelled calls never run (plumbing, with stand-in sessions)."""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest
from kokoro_speech.pipeline.admission import Admission
from kokoro_speech.pipeline.scheduler import BACKGROUND_TURN_CALLS, BACKGROUND_TURN_SECONDS, Scheduler

pytestmark = pytest.mark.unit  # no model: `pytest -m unit`

SILENCE = np.zeros(1, np.float32)


def session(name: str):
    def run(*args) -> np.ndarray:
        return SILENCE

    run.__name__ = name
    return run


WIDE, NARROW = session("wide"), session("narrow")


async def queued(scheduler: Scheduler, calls: int) -> None:
    """Until `calls` model calls wait for the worker (event-loop turns, not wall-clock guesses)."""
    for _ in range(100_000):
        if scheduler.queued_calls >= calls:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"{scheduler.queued_calls} calls queued, expected {calls}")


def blocked_calls():
    """Stand-in model calls that note their order; the one named "blocker" holds the worker until `gate` is set
    (`started` says it is running)."""
    order: list[str] = []
    gate, started = threading.Event(), threading.Event()

    def call(name: str):
        def run(_session) -> np.ndarray:
            if name == "blocker":
                started.set()
                gate.wait(5)
            order.append(name)
            return SILENCE
        return run

    return order, gate, started, call


async def running(started: threading.Event) -> None:
    assert await asyncio.to_thread(started.wait, 5), "the worker never started the call"


def test_first_pieces_go_ahead_of_later_pieces():
    scheduler = Scheduler(WIDE, admission=Admission(max_requests=8))
    order, gate, started, call = blocked_calls()

    async def main() -> None:
        blocker = asyncio.ensure_future(scheduler.run(call("blocker"), first=True))
        await running(started)  # the worker is now busy with the blocker
        later = [asyncio.ensure_future(scheduler.run(call(f"later{i}"), first=False)) for i in range(3)]
        await queued(scheduler, 3)
        first = asyncio.ensure_future(scheduler.run(call("first"), first=True))
        await queued(scheduler, 4)
        gate.set()
        await asyncio.gather(blocker, first, *later)

    asyncio.run(main())
    scheduler.close()
    assert order == ["blocker", "first", "later0", "later1", "later2"]


def test_a_lone_call_gets_every_core_and_concurrent_calls_one_each():
    scheduler = Scheduler(WIDE, admission=Admission(max_requests=8), narrow=NARROW, cores=2)
    used: list[tuple[str, float, float]] = []

    def call(_session) -> np.ndarray:
        started = time.monotonic()
        time.sleep(0.2)
        used.append((_session.__name__, started, time.monotonic()))
        return SILENCE

    async def main() -> None:
        await scheduler.run(call, first=True)  # alone
        await asyncio.gather(*(scheduler.run(call, first=False) for _ in range(4)))  # together

    asyncio.run(main())
    scheduler.close()
    assert used[0][0] == "wide"
    together = used[1:]
    assert [name for name, *_ in together].count("narrow") >= 3
    # never more calls at once than cores, and the narrow ones did overlap
    events = sorted([(s, 1) for _, s, _ in together] + [(e, -1) for _, _, e in together])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    assert peak == 2


def test_requests_take_turns_piece_by_piece():
    """A request asks for its next piece when the last is done, so after the first pieces (which go ahead)
    later pieces alternate between requests, whatever their length or format: none holds the others back."""
    scheduler = Scheduler(WIDE, admission=Admission(max_requests=8))
    order: list[str] = []
    gate, started = threading.Event(), threading.Event()
    unfinished = {"L": 8, "a": 3, "b": 3}  # pieces each request has still to run

    def call(name: str):
        def run(_session) -> np.ndarray:
            if name == "L0":
                started.set()
                gate.wait(5)
            # a model call's work lasts until each other unfinished request has queued its next piece (the
            # premise under test), whatever the threads' timing
            others = sum(left > 0 for request, left in unfinished.items() if request != name[0])
            deadline = time.monotonic() + 5
            while scheduler.queued_calls < others:
                assert time.monotonic() < deadline, f"{name}: {scheduler.queued_calls} pieces queued, not {others}"
                time.sleep(0.001)
            unfinished[name[0]] -= 1
            order.append(name)
            return SILENCE
        return run

    async def request(name: str, pieces: int) -> None:
        for i in range(pieces):
            await scheduler.run(call(f"{name}{i}"), first=i == 0)

    async def main() -> None:
        # a long request (a slow 4,096-character one, say) arrives first; two short ones in order after it
        long = asyncio.ensure_future(request("L", 8))
        await running(started)
        short = [asyncio.ensure_future(request("a", 3))]
        await queued(scheduler, 1)
        short.append(asyncio.ensure_future(request("b", 3)))
        await queued(scheduler, 2)
        gate.set()
        await asyncio.gather(long, *short)

    asyncio.run(main())
    scheduler.close()
    assert order[:9] == ["L0", "a0", "b0", "L1", "a1", "b1", "L2", "a2", "b2"], order
    assert order[9:] == [f"L{i}" for i in range(3, 8)]


def test_a_cancelled_call_never_runs_and_errors_do_not_kill_the_worker():
    scheduler = Scheduler(WIDE, admission=Admission(max_requests=8))
    ran: list[str] = []
    gate, started = threading.Event(), threading.Event()

    def slow(_session) -> np.ndarray:
        started.set()
        gate.wait(5)
        ran.append("slow")
        return SILENCE

    def boom(_session) -> np.ndarray:
        raise RuntimeError("bad voice file")

    async def main() -> None:
        busy = asyncio.ensure_future(scheduler.run(slow, first=True))
        await running(started)
        doomed = asyncio.ensure_future(scheduler.run(lambda s: ran.append("doomed") or SILENCE, first=False))
        await queued(scheduler, 1)
        doomed.cancel()
        await asyncio.sleep(0)  # the cancellation reaches the call before the worker is free
        gate.set()
        await busy
        with pytest.raises(RuntimeError, match="bad voice"):
            await scheduler.run(boom, first=True)
        assert (await scheduler.run(lambda s: np.ones(2, np.float32), first=True)).size == 2

    asyncio.run(main())
    scheduler.close()
    assert ran == ["slow"]


def test_background_pieces_wait_for_every_interactive_piece():
    """A book job's pieces (background) queued first still run after people's first and later pieces."""
    scheduler = Scheduler(WIDE, admission=Admission(max_requests=8))
    order, gate, started, call = blocked_calls()

    async def main() -> None:
        blocker = asyncio.ensure_future(scheduler.run(call("blocker"), first=False, background=True))
        await running(started)
        book = [asyncio.ensure_future(scheduler.run(call(f"book{i}"), first=i == 0, background=True))
                for i in range(3)]
        await queued(scheduler, 3)
        later = asyncio.ensure_future(scheduler.run(call("later"), first=False))
        first = asyncio.ensure_future(scheduler.run(call("first"), first=True))
        await queued(scheduler, 5)
        gate.set()
        await asyncio.gather(blocker, first, later, *book)

    asyncio.run(main())
    scheduler.close()
    assert order == ["blocker", "first", "later", "book0", "book1", "book2"]


def test_a_queued_book_refuses_no_one():
    """Background tickets are outside admission: however much a book brings, people are let in as on an
    idle server (and the book itself is never refused)."""
    admission = Admission(max_requests=1, first_audio_seconds=1.0, finish_seconds=2.0)
    books = [admission.background(1e6, 400, 400) for _ in range(3)]  # hours of audio
    assert admission.active == 0 and admission.backlog_seconds() == 0.0
    person = admission.admit(100, 40, 40)
    assert admission.active == 1
    for book in books:
        book.release()  # releasing a background ticket is harmless
    person.release()
    assert admission.active == 0


class Preemptible:
    """A stand-in session whose runs wait until they are released or interrupted (then raise, as ONNX
    Runtime's terminate flag makes a run do)."""

    __name__ = "preemptible"

    def __init__(self) -> None:
        self.stop: dict[int, threading.Event] = {}
        self.started = threading.Event()
        self.interrupts = 0

    def interrupt(self, thread: int) -> None:
        self.interrupts += 1
        self.stop[thread].set()

    def run(self, name: str, order: list[str], *, blocks: bool):
        def call(_session) -> np.ndarray:
            stop = self.stop.setdefault(threading.get_ident(), threading.Event())
            stop.clear()
            if blocks and not order:  # the first run of the book's piece: busy until interrupted
                self.started.set()
                if stop.wait(5):
                    raise RuntimeError("Exiting due to terminate flag being set to true.")
            order.append(name)
            return SILENCE
        return call


def test_a_person_interrupts_a_background_call_which_runs_again_after():
    model = Preemptible()
    scheduler = Scheduler(model, admission=Admission(max_requests=8))
    order: list[str] = []

    async def main() -> None:
        book = asyncio.ensure_future(scheduler.run(model.run("book", order, blocks=True), first=True,
                                                   background=True))
        await running(model.started)  # the book's piece holds every core
        person = asyncio.ensure_future(scheduler.run(model.run("person", order, blocks=False), first=True))
        assert (await person) is SILENCE
        assert (await book) is SILENCE, "the interrupted call ran again and gave its audio"

    asyncio.run(main())
    scheduler.close()
    assert order == ["person", "book"]
    assert model.interrupts == scheduler.interrupted == 1


def test_a_person_never_interrupts_a_person():
    model = Preemptible()
    scheduler = Scheduler(model, admission=Admission(max_requests=8))
    order: list[str] = []
    release = threading.Event()

    def slow(_session) -> np.ndarray:
        model.started.set()
        release.wait(5)
        order.append("first person")
        return SILENCE

    async def main() -> None:
        first = asyncio.ensure_future(scheduler.run(slow, first=True))
        await running(model.started)
        second = asyncio.ensure_future(scheduler.run(model.run("second person", order, blocks=False), first=True))
        await queued(scheduler, 1)
        release.set()
        await asyncio.gather(first, second)

    asyncio.run(main())
    scheduler.close()
    assert order == ["first person", "second person"] and model.interrupts == 0


def test_a_book_gets_a_turn_after_enough_people_have_gone_past_it():
    """People first, not people only: the book's waiting call runs after BACKGROUND_TURN_CALLS people's calls,
    ahead of a later piece (first pieces, whose people hear nothing yet, all went first)."""
    scheduler = Scheduler(WIDE, admission=Admission(max_requests=64))
    order, gate, started, call = blocked_calls()
    people = BACKGROUND_TURN_CALLS + 2

    async def main() -> None:
        blocker = asyncio.ensure_future(scheduler.run(call("blocker"), first=True))
        await running(started)
        book = asyncio.ensure_future(scheduler.run(call("book"), first=False, background=True))
        await queued(scheduler, 1)
        later = [asyncio.ensure_future(scheduler.run(call(f"p{i}"), first=i % 2 == 0)) for i in range(people)]
        await queued(scheduler, 1 + people)
        gate.set()
        await asyncio.gather(blocker, book, *later)

    asyncio.run(main())
    scheduler.close()
    assert order.index("book") == 1 + BACKGROUND_TURN_CALLS, order
    assert order[1:6] == ["p0", "p2", "p4", "p6", "p8"] and order[6:9] == ["p1", "p3", "p5"]


def test_a_book_gets_a_turn_after_waiting_long_enough():
    """The other bound, on a clock the test moves: waiting long enough, the book goes ahead even of first
    pieces."""
    now = [0.0]
    scheduler = Scheduler(WIDE, admission=Admission(max_requests=8), clock=lambda: now[0])
    order, gate, started, call = blocked_calls()

    async def main() -> None:
        blocker = asyncio.ensure_future(scheduler.run(call("blocker"), first=True))
        await running(started)
        book = asyncio.ensure_future(scheduler.run(call("book"), first=False, background=True))
        people = [asyncio.ensure_future(scheduler.run(call(f"p{i}"), first=True)) for i in range(2)]
        await queued(scheduler, 3)
        now[0] = BACKGROUND_TURN_SECONDS  # the book has waited its time behind the blocker
        gate.set()
        await asyncio.gather(blocker, book, *people)

    asyncio.run(main())
    scheduler.close()
    assert order == ["blocker", "book", "p0", "p1"]


def test_back_to_back_people_who_interrupt_the_book_do_not_starve_it():
    """One core, a long request's pieces back to back: each interrupts the book's call when it starts in the
    gap before it, so without its due turn (which no one interrupts) the book would never finish while the
    person talks."""
    book_run = threading.Event()  # the book's call is running
    stop: dict[int, threading.Event] = {}
    order: list[str] = []

    class Model:
        __name__ = "model"

        def interrupt(self, thread: int) -> None:
            stop[thread].set()

    def book(_session) -> np.ndarray:
        halt = stop.setdefault(threading.get_ident(), threading.Event())
        halt.clear()
        book_run.set()
        if halt.wait(0.5):  # interrupted: runs again later
            raise RuntimeError("Exiting due to terminate flag being set to true.")
        order.append("book")
        return SILENCE

    def person(name: str):
        def run(_session) -> np.ndarray:
            order.append(name)
            return SILENCE
        return run

    scheduler = Scheduler(Model(), admission=Admission(max_requests=8))

    async def main() -> None:
        reading = asyncio.ensure_future(scheduler.run(book, first=False, background=True))
        await running(book_run)
        for i in range(3 * BACKGROUND_TURN_CALLS):  # one person after another, each as soon as the last is done
            await scheduler.run(person(f"p{i}"), first=i == 0)
        await reading

    asyncio.run(main())
    scheduler.close()
    assert order.index("book") <= BACKGROUND_TURN_CALLS + 1, order
    assert scheduler.interrupted >= 1, "people did interrupt the book before its turn"


def noting(order: list[str], name: str):
    def run(_session) -> np.ndarray:
        order.append(name)
        return SILENCE
    return run


async def client_requests(scheduler: Scheduler, tickets: dict[str, object], pieces: int, order: list[str]) -> None:
    """Each request queues all its pieces at once (as a synthesis queues its next piece while one runs)."""
    calls = [scheduler.run(noting(order, f"{name}p{i}"), first=i == 0, ticket=ticket)
             for name, ticket in tickets.items() for i in range(pieces)]
    await asyncio.gather(*calls)


def test_one_clients_requests_are_served_in_order_and_another_client_takes_turns():
    """A client's burst (a reply's sentences sent at once) is served request by request: its first sentence
    whole first. Another client arriving meanwhile starts at once (its first piece leads) and then alternates
    with the burst piece by piece: neither holds the other back."""
    admission = Admission(max_requests=32)
    scheduler = Scheduler(WIDE, admission=admission)
    order, gate, started, call = blocked_calls()
    burst = {f"a{k}": admission.admit(10, 5, 5, client="key A") for k in range(1, 4)}
    assert [t.leading for t in burst.values()] == [True, False, False]

    async def main() -> None:
        blocker = asyncio.ensure_future(scheduler.run(call("blocker"), first=True))
        await running(started)
        a = asyncio.ensure_future(client_requests(scheduler, burst, 2, order))
        await queued(scheduler, 6)
        other = admission.admit(10, 5, 5, client="key B")
        assert other.leading
        b = asyncio.ensure_future(client_requests(scheduler, {"b1": other}, 2, order))
        await queued(scheduler, 8)
        gate.set()
        await asyncio.gather(blocker, a, b)

    asyncio.run(main())
    scheduler.close()
    assert order == ["blocker", "a1p0", "b1p0", "a1p1", "b1p1", "a2p0", "a2p1", "a3p0", "a3p1"], order


def test_clients_take_turns_whatever_their_backlog():
    """Round robin between clients at piece granularity: a client with many pieces queued gets one turn in
    each round, like a client with few."""
    admission = Admission(max_requests=32)
    scheduler = Scheduler(WIDE, admission=admission)
    order, gate, started, call = blocked_calls()
    greedy = {"g1": admission.admit(10, 5, 5, client="greedy"), "g2": admission.admit(10, 5, 5, client="greedy")}
    modest = {"m1": admission.admit(10, 5, 5, client="modest")}

    async def main() -> None:
        blocker = asyncio.ensure_future(scheduler.run(call("blocker"), first=True))
        await running(started)
        # both clients' pieces wait: the greedy client's 8, then the modest one's 3
        g = asyncio.ensure_future(client_requests(scheduler, greedy, 4, order))
        await queued(scheduler, 8)
        m = asyncio.ensure_future(client_requests(scheduler, modest, 3, order))
        await queued(scheduler, 11)
        gate.set()
        await asyncio.gather(blocker, g, m)

    asyncio.run(main())
    scheduler.close()
    # the two leading first pieces, then one piece each in turn until the modest client is done
    assert order[:7] == ["blocker", "g1p0", "m1p0", "g1p1", "m1p1", "g1p2", "m1p2"], order
    assert order[7:] == ["g1p3", "g2p0", "g2p1", "g2p2", "g2p3"], order

"""Admission by work, decided on a fake clock and made-up work sizes (plumbing: no model)."""

from __future__ import annotations

import pytest

from kokoro_speech.errors import Overloaded
from kokoro_speech.pipeline.admission import FRAME_SECONDS, OVERHEAD, Admission, drained, finish_times

pytestmark = pytest.mark.unit  # no model: `pytest -m unit`

SPF = 0.01  # machine-seconds per frame (overhead included), fixed for these tests
SECOND = 1 / SPF  # frames of work per machine-second


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def admission(**kwargs) -> tuple[Admission, Clock]:
    clock = Clock()
    gate = Admission(max_requests=kwargs.pop("max_requests", 32), clock=clock, **kwargs)
    gate.seconds_per_frame = SPF / OVERHEAD
    return gate, clock


def test_processor_sharing_finish_times():
    # three jobs of 1, 2 and 4 s share the machine: all three run until 3 s (1 s each), then two ...
    assert finish_times([4.0, 1.0, 2.0]) == [7.0, 3.0, 5.0]
    assert finish_times([]) == [] and finish_times([5.0]) == [5.0]


def test_the_machine_is_shared_between_clients_and_each_clients_jobs_run_in_order():
    # client A's two jobs of 2 s run one after the other, while B's 3 s job shares the machine with A
    assert finish_times([2.0, 2.0, 3.0], ["A", "A", "B"]) == [4.0, 7.0, 6.0]
    # after 4 s each client got 2 s: A's first job is done, B has 1 s left
    assert drained([2.0, 2.0, 3.0], 4.0, ["A", "A", "B"]) == [0.0, 2.0, 1.0]


def test_a_lone_request_is_admitted_however_long():
    gate, _ = admission(finish_seconds=60)
    ticket = gate.admit(600 * SECOND, first_frames=SECOND)  # ten minutes of work on an idle server: it streams
    assert gate.active == 1 and ticket.deadline > 1000 + 600
    ticket.release()
    ticket.release()  # idempotent
    assert gate.active == 0


def test_a_short_request_is_admitted_beside_a_long_one_and_a_second_long_one_is_not():
    gate, _ = admission(finish_seconds=60)
    long = gate.admit(300 * SECOND, first_frames=SECOND)
    long.progress(SECOND)
    short = gate.admit(5 * SECOND, first_frames=SECOND)  # finishes in ~10 s sharing the machine
    with pytest.raises(Overloaded) as refused:
        gate.admit(200 * SECOND, first_frames=SECOND)  # could not finish in 60 s beside the long one
    assert refused.value.status == 429 and 1 <= refused.value.retry_after <= 60
    assert gate.active == 2 and gate.refused == 1
    short.release(), long.release()


def test_first_audio_that_could_not_start_in_time_is_refused_with_the_wait_as_retry_after():
    gate, _ = admission(first_audio_seconds=10, finish_seconds=600)
    queued = [gate.admit(10 * SECOND, first_frames=3 * SECOND) for _ in range(3)]  # 9 s of first pieces waiting
    with pytest.raises(Overloaded) as refused:
        gate.admit(10 * SECOND, first_frames=3 * SECOND)  # its own first piece would start speaking at ~12 s
    # two of the first pieces must run, and the third start: its first audio then starts within 10 s
    assert refused.value.retry_after == 6
    for ticket in queued[:2]:
        ticket.progress(3 * SECOND)
    gate.admit(10 * SECOND, first_frames=3 * SECOND)


def test_retry_after_is_honest_once_that_much_work_is_done():
    gate, clock = admission(finish_seconds=60)
    running = [gate.admit(20 * SECOND, first_frames=SECOND) for _ in range(2)]
    for ticket in running:
        ticket.progress(SECOND)
    with pytest.raises(Overloaded) as refused:
        gate.admit(25 * SECOND, first_frames=SECOND)
    wait = refused.value.retry_after
    # the machine works through `wait` seconds, shared by the two running requests
    clock.now += wait
    for ticket in running:
        ticket.progress(wait * SECOND / 2)
    gate.admit(25 * SECOND, first_frames=SECOND)


def test_requests_already_late_do_not_block_everyone_forever_but_are_not_made_later_by_much():
    gate, clock = admission(finish_seconds=60)
    slow = gate.admit(50 * SECOND, first_frames=SECOND)
    slow.progress(SECOND)
    clock.now += 100  # the machine turned out slower than learned: this one will finish late whatever happens
    with pytest.raises(Overloaded):
        gate.admit(30 * SECOND, first_frames=SECOND)  # would make it 30 s later still
    gate.admit(0.2 * SECOND, first_frames=0.2 * SECOND)  # a moment's work is fine


def test_the_count_bound_still_holds():
    gate, _ = admission(max_requests=2)
    a, b = gate.admit(SECOND, SECOND), gate.admit(SECOND, SECOND)
    with pytest.raises(Overloaded):
        gate.admit(SECOND, SECOND)
    a.release()
    gate.admit(SECOND, SECOND)
    b.release()


def test_the_machine_speed_is_learned_from_model_calls():
    gate, _ = admission()
    for _ in range(50):
        gate.observe(frames=100, machine_seconds=3.0)  # a slower machine: 0.03 s a frame
    assert gate.seconds_per_frame == pytest.approx(0.03, rel=0.01)
    gate.observe(frames=0, machine_seconds=1.0)  # an empty call teaches nothing
    assert gate.seconds_per_frame == pytest.approx(0.03, rel=0.01)
    ticket = gate.admit(100, 10)
    assert gate.backlog_seconds() == pytest.approx(100 * 0.03 * OVERHEAD, rel=0.01)
    ticket.release()


def test_a_burst_from_one_client_is_admitted_whole_and_served_in_order():
    """Open WebUI sends a reply's 14 sentences at once. As 14 clients' requests their first pieces would all queue
    ahead and the later ones be refused; as one client's, each waits only for the sentences before it, which
    its client plays meanwhile, so all 14 fit."""
    sentence = dict(frames=2.5 * SECOND, first_frames=1.5 * SECOND)  # 2.5 s of work, its first piece 1.5 s
    apart, _ = admission()
    refused = 0
    for k in range(14):
        try:
            apart.admit(**sentence, client=f"client {k}")
        except Overloaded:
            refused += 1
    assert refused >= 5  # what happened before turns knew clients: 7 of 14 refused
    together, _ = admission()
    burst = [together.admit(**sentence, client="key A") for _ in range(14)]
    assert together.refused == 0 and [t.leading for t in burst] == [True] + [False] * 13
    # the last may end as late as its audio would, played after the 13 before it
    assert burst[-1].deadline >= 1000 + 10 + 14 * 2.5 * SECOND * FRAME_SECONDS


def test_another_clients_first_audio_is_not_held_back_by_a_burst():
    gate, _ = admission()
    for _ in range(14):
        gate.admit(2.5 * SECOND, first_frames=1.5 * SECOND, client="key A")
    # only the burst's leading first piece goes ahead of a new client's: its first audio starts in ~3 s
    other = gate.admit(2.5 * SECOND, first_frames=1.5 * SECOND, client="key B")
    assert other.leading


def test_a_burst_beyond_the_bounds_is_refused_in_part():
    """On a machine slower than real time (5 s of work for 2.5 s of audio) the sentences could not keep up with
    their own playback: those that could not finish within the bound are refused, with a Retry-After."""
    gate, _ = admission(finish_seconds=60)
    gate.seconds_per_frame = 0.05 / OVERHEAD
    with pytest.raises(Overloaded) as refused:
        for _ in range(14):
            gate.admit(100, first_frames=50, client="key A")
    assert 2 <= gate.active < 14 and 1 <= refused.value.retry_after <= 60

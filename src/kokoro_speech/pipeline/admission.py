"""Admission by work: a request is let in only if its first audio can start soon and every admitted request,
itself included, can still finish in time; otherwise it is refused at once with an honest Retry-After.

Work is counted in seconds of the whole machine ("machine-seconds"), learned from the model calls as they
run. Model calls take turns piece by piece between clients and run one client's requests in order
(pipeline/scheduler.py), so the machine is shared like a processor-sharing queue of clients: a request whose
client's requests up to and including it hold w machine-seconds of work finishes after w + Σ min(Rc, w), the
sum over every other client c with Rc machine-seconds of work. (With one request per client, and remaining
works r₁ ≤ … ≤ rₙ, the k-th finishes after r₁ + … + rₖ₋₁ + (n−k+1)·rₖ.)

A request queued behind its own client's (a reply's sentences, sent at once) is held to what its client
waits for: its first audio may come once the audio before it has played (within the first-audio bound
after that), and it may finish as late as its own audio would end after theirs. A request that finds the
server idle is always admitted: there is nothing it could wait for.
"""

from __future__ import annotations

import collections
import itertools
import math
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Hashable

from kokoro_speech.errors import Overloaded
from kokoro_speech.kokoro import SAMPLE_RATE, SAMPLES_PER_FRAME

# Priors, replaced by what the model calls measure (exponential moving averages)
SECONDS_PER_FRAME = 0.010  # machine-seconds per 25 ms frame where none was measured: ~2.8x real time on 2 cores
_SMOOTHING = 0.2
# The model calls are most of a request's work, not all of it: reading text, trimming, encoding and HTTP take
# the rest, on the same cores (measured under overload: ~1.3x the model calls' own cost; docs/overload.md)
OVERHEAD = 1.3
# Deadlines are planned with headroom for the estimates' error (a text's tokens, a piece's frames, the
# order in which first pieces jump the queue, the machine's speed before it is learned): a request must fit
# in the bound divided by this (measured under overload: the worst served request took 1.43x its plan at 1.15)
PLANNING_MARGIN = 1.4
LATE_TOLERANCE = 1.0  # seconds a new request may add to one already running late
MAX_RETRY_AFTER = 60
FRAME_SECONDS = SAMPLES_PER_FRAME / SAMPLE_RATE  # seconds of audio one frame plays


def _clients(clients: list[Hashable] | None, n: int) -> list[Hashable]:
    return list(range(n)) if clients is None else clients  # by default each job is a client of its own


def finish_times(remaining: list[float], clients: list[Hashable] | None = None) -> list[float]:
    """When each job finishes, in machine-seconds from now, in the input's order, when the machine is shared
    equally between `clients` (job i is clients[i]'s; default: each its own) and each client's jobs run one
    after the other in the input's order."""
    clients = _clients(clients, len(remaining))
    totals: dict[Hashable, float] = collections.defaultdict(float)
    for client, work in zip(clients, remaining, strict=True):
        totals[client] += work
    done: dict[Hashable, float] = collections.defaultdict(float)
    out = []
    for client, work in zip(clients, remaining, strict=True):
        done[client] += work  # its client's work up to and including it; meanwhile each other client gets as much
        out.append(done[client] + sum(min(total, done[client]) for other, total in totals.items() if other != client))
    return out


def drained(remaining: list[float], seconds: float, clients: list[Hashable] | None = None) -> list[float]:
    """What is left of each job after `seconds` of that sharing (finished jobs at 0)."""
    clients = _clients(clients, len(remaining))
    totals: dict[Hashable, float] = collections.defaultdict(float)
    for client, work in zip(clients, remaining, strict=True):
        totals[client] += work
    active = [c for c, total in totals.items() if total > 0]
    while seconds > 0 and active:
        step = min(totals[c] for c in active)  # until the smallest finishes, each gets 1/n of the machine
        share = min(step, seconds / len(active))
        for c in active:
            totals[c] -= share
        seconds -= share * len(active)
        active = [c for c in active if totals[c] > 1e-9]
    served = {c: sum(w for c2, w in zip(clients, remaining, strict=True) if c2 == c) - max(0.0, total)
              for c, total in totals.items()}
    left = []
    for client, work in zip(clients, remaining, strict=True):  # each client's service goes to its jobs in order
        taken = min(work, served[client])
        served[client] -= taken
        left.append(max(0.0, work - taken))
    return left


@dataclass
class Ticket:
    """One admitted request's place in the backlog; `release` is idempotent so every exit path may call it."""

    frames: float  # the audio frames it is expected to make in all
    first_frames: float  # those of its first piece
    piece_frames: float  # those of its longest piece
    deadline: float  # clock time by which it should be done
    client: Hashable = None  # whose it is (a key, an address; None: a client of its own)
    order: int = 0  # when it was admitted, among all: one client's requests are served in this order
    leading: bool = True  # its client had nothing else admitted: its first piece goes ahead (pipeline/scheduler.py)
    frames_done: float = 0.0
    started: bool = False  # its first piece has run
    _leave: Callable[[Ticket], None] | None = field(default=None, repr=False)

    @property
    def remaining_frames(self) -> float:
        # an estimate that ran short is never "done" while audio is still coming: a piece's worth is left
        return max(self.frames - self.frames_done, self.first_frames)

    def progress(self, frames: float) -> None:
        self.frames_done += frames
        self.started = True

    def revise(self, frames: float) -> None:
        """A better estimate of the frames in all, once the text has been read (numbers written out, say)."""
        self.frames = max(frames, self.frames_done)

    def release(self) -> None:
        leave, self._leave = self._leave, None
        if leave is not None:
            leave(self)


@dataclass(frozen=True)
class _Job:
    """A ticket as the admission rule sees it, in machine-seconds (audio in seconds of audio)."""

    remaining: float
    first: float
    piece: float
    started: bool
    deadline: float
    client: Hashable
    leading: bool
    audio: float  # the audio it has still to make


class Admission:
    """The backlog of admitted requests and the rule that lets new ones in (thread-safe)."""

    def __init__(self, *, max_requests: int, first_audio_seconds: float = 10.0, finish_seconds: float = 60.0,
                 seconds_per_frame: float = SECONDS_PER_FRAME, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_requests = max_requests
        self.first_audio_seconds = first_audio_seconds
        self.finish_seconds = finish_seconds
        self.seconds_per_frame = seconds_per_frame  # measured at start (pipeline/loading.py), then learned
        self.clock = clock
        self._lock = threading.Lock()
        self._tickets: list[Ticket] = []  # in order of admission
        self._order = itertools.count()
        self.refused = 0

    @property
    def active(self) -> int:
        return len(self._tickets)

    def backlog_seconds(self) -> float:
        """Machine-seconds of work admitted and not yet done."""
        with self._lock:
            return sum(t.remaining_frames for t in self._tickets) * self.seconds_per_frame * OVERHEAD

    def observe(self, frames: float, machine_seconds: float) -> None:
        """A model call made `frames` in `machine_seconds` (wall time × the share of the cores it had)."""
        if frames > 0 and machine_seconds > 0:
            with self._lock:
                self.seconds_per_frame += _SMOOTHING * (machine_seconds / frames - self.seconds_per_frame)

    def admit(self, frames: float, first_frames: float, piece_frames: float | None = None, *,
              client: Hashable = None) -> Ticket:
        """A ticket for a request of `client` (a key, an address; None: a client of its own) expected to make
        `frames` audio frames, `first_frames` of them in its first piece and at most `piece_frames` in any;
        raises Overloaded (429, Retry-After) when it cannot be served in time."""
        spf = self.seconds_per_frame * OVERHEAD
        with self._lock:
            now = self.clock()
            if len(self._tickets) >= self.max_requests:
                self._refuse(f"the server is busy with {len(self._tickets)} requests", 1.0)
            ahead = [t for t in self._tickets if client is not None and t.client == client]
            own = frames * spf
            # each must finish within the bound, or, one too long for it, about as soon as it could alone; one
            # queued behind its client's own, before its audio would end played after theirs
            bound = max(self.finish_seconds, PLANNING_MARGIN * own + self.first_audio_seconds)
            if ahead:
                bound = max(bound, self.first_audio_seconds
                            + (sum(t.remaining_frames for t in ahead) + frames) * FRAME_SECONDS)
            ticket = Ticket(frames, first_frames, piece_frames or first_frames, now + bound, client=client,
                            order=next(self._order), leading=not ahead)
            jobs = [self._job(t, spf) for t in self._tickets]
            new = self._job(ticket, spf)
            why = self._problem(jobs, new, now)
            if why is not None:
                self._refuse(why, self._wait(jobs, new, now))
            ticket._leave = self._leave
            self._tickets.append(ticket)
            return ticket

    def background(self, frames: float, first_frames: float, piece_frames: float | None = None) -> Ticket:
        """A ticket for background work (a book job's piece): never refused and never counted against people,
        since its model calls run only when no interactive call waits (pipeline/scheduler.py)."""
        return Ticket(frames, first_frames, piece_frames or first_frames, math.inf)

    @staticmethod
    def _job(ticket: Ticket, spf: float) -> _Job:
        client = ("alone", ticket.order) if ticket.client is None else ticket.client
        return _Job(ticket.remaining_frames * spf, ticket.first_frames * spf, ticket.piece_frames * spf,
                    ticket.started, ticket.deadline, client, ticket.leading, ticket.remaining_frames * FRAME_SECONDS)

    def _problem(self, jobs: list[_Job], new: _Job, now: float) -> str | None:
        """Why `new` cannot be admitted beside `jobs` at `now`, or None."""
        if not jobs:
            return None
        clients = [job.client for job in jobs]
        if new.leading:
            # its first piece waits for the leading first pieces queued before it and for the rest of the call
            # running now (on average half a piece)
            waiting = sum(job.first for job in jobs if not job.started and job.leading)
            running = max((min(job.remaining, job.piece) / 2 for job in jobs if job.started), default=0.0)
            first_audio, bound = waiting + running + new.first, self.first_audio_seconds
        else:
            # its first piece comes once its client's work before it is done, the others sharing the machine;
            # meanwhile its client plays the audio before it
            first_audio = finish_times([job.remaining for job in jobs] + [new.first], [*clients, new.client])[-1]
            bound = self.first_audio_seconds + sum(job.audio for job in jobs if job.client == new.client)
        if first_audio > bound:
            return f"its first audio could start only in about {first_audio:.0f} s"
        before = [PLANNING_MARGIN * t for t in finish_times([job.remaining for job in jobs], clients)]
        after = [PLANNING_MARGIN * t for t in finish_times([job.remaining for job in [*jobs, new]],
                                                            [*clients, new.client])]
        if now + after[-1] > new.deadline:
            return f"it could not finish within {new.deadline - now:.0f} s beside {len(jobs)} other requests"
        for job, was, will in zip(jobs, before, after, strict=False):
            # a request already running late may be made a little later, not much
            if now + will > max(job.deadline, now + was + LATE_TOLERANCE):
                backlog = sum(j.remaining for j in jobs)
                return f"{len(jobs)} requests hold {backlog:.0f} s of work: one of them would finish late"
        return None

    def _wait(self, jobs: list[_Job], new: _Job, now: float) -> int:
        """Whole seconds until `new` would be admitted, as the work drains (at most a minute): leading first
        pieces go first, then the machine is shared."""
        for seconds in range(1, MAX_RETRY_AFTER):
            later, budget = [], float(seconds)
            for job in jobs:  # first pieces waiting, in order of arrival, take the time first
                if not job.started and job.leading and budget >= job.first:
                    budget -= job.first
                    job = replace(job, remaining=job.remaining - job.first, started=True)
                later.append(job)
            left = drained([job.remaining for job in later], budget, [job.client for job in later])
            later = [replace(job, remaining=r, audio=job.audio * r / job.remaining)
                     for job, r in zip(later, left, strict=True) if r > 0]
            shifted = replace(new, deadline=new.deadline + seconds,
                              leading=new.leading or all(job.client != new.client for job in later))
            if self._problem(later, shifted, now + seconds) is None:
                return seconds
        return MAX_RETRY_AFTER

    def _refuse(self, why: str, wait: float) -> None:
        self.refused += 1
        raise Overloaded(f"the server is at capacity: {why}; retry in {math.ceil(wait)} s",
                         retry_after=min(MAX_RETRY_AFTER, max(1, math.ceil(wait))))

    def _leave(self, ticket: Ticket) -> None:
        with self._lock:
            self._tickets.remove(ticket)

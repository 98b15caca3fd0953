"""Admission by work: a request is let in only if its first audio can start soon and every admitted request,
itself included, can still finish in time; otherwise it is refused at once with an honest Retry-After.

Work is counted in seconds of the whole machine ("machine-seconds"), learned from the model calls as they
run. Model calls take turns piece by piece (pipeline/scheduler.py), so the machine is shared like a
processor-sharing queue: with remaining works r₁ ≤ … ≤ rₙ, the k-th finishes after r₁ + … + rₖ₋₁ + (n−k+1)·rₖ.
A request that finds the server idle is always admitted: there is nothing it could wait for.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from kokoro_speech.errors import Overloaded

# Priors, replaced by what the model calls measure (exponential moving averages)
SECONDS_PER_FRAME = 0.010  # machine-seconds per 25 ms frame: the int8 model on 2 cores runs ~2.8x real time
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


def finish_times(remaining: list[float]) -> list[float]:
    """When each job finishes under processor sharing, in machine-seconds from now, in the input's order."""
    order = sorted(range(len(remaining)), key=remaining.__getitem__)
    done_before, out = 0.0, [0.0] * len(remaining)
    for rank, index in enumerate(order):
        out[index] = done_before + (len(remaining) - rank) * remaining[index]
        done_before += remaining[index]
    return out


def drained(remaining: list[float], seconds: float) -> list[float]:
    """What is left of each job after `seconds` of processor sharing (finished jobs at 0)."""
    left = list(remaining)
    active = [i for i, r in enumerate(left) if r > 0]
    while seconds > 0 and active:
        step = min(left[i] for i in active)  # until the smallest finishes, each gets 1/n of the machine
        share = min(step, seconds / len(active))
        for i in active:
            left[i] -= share
        seconds -= share * len(active)
        active = [i for i in active if left[i] > 1e-9]
    return [max(0.0, r) for r in left]


@dataclass
class Ticket:
    """One admitted request's place in the backlog; `release` is idempotent so every exit path may call it."""

    frames: float  # the audio frames it is expected to make in all
    first_frames: float  # those of its first piece
    piece_frames: float  # those of its longest piece
    deadline: float  # clock time by which it should be done
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
    """A ticket as the admission rule sees it, in machine-seconds."""

    remaining: float
    first: float
    piece: float
    started: bool
    deadline: float


class Admission:
    """The backlog of admitted requests and the rule that lets new ones in (thread-safe)."""

    def __init__(self, *, max_requests: int, first_audio_seconds: float = 10.0, finish_seconds: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_requests = max_requests
        self.first_audio_seconds = first_audio_seconds
        self.finish_seconds = finish_seconds
        self.seconds_per_frame = SECONDS_PER_FRAME
        self.clock = clock
        self._lock = threading.Lock()
        self._tickets: list[Ticket] = []
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

    def admit(self, frames: float, first_frames: float, piece_frames: float | None = None) -> Ticket:
        """A ticket for a request expected to make `frames` audio frames, `first_frames` of them in its first
        piece and at most `piece_frames` in any; raises Overloaded (429, Retry-After) when it cannot be
        served in time."""
        spf = self.seconds_per_frame * OVERHEAD
        with self._lock:
            now = self.clock()
            if len(self._tickets) >= self.max_requests:
                self._refuse(f"the server is busy with {len(self._tickets)} requests", 1.0)
            own = frames * spf
            # each must finish within the bound, or, one too long for it, about as soon as it could alone
            deadline = now + max(self.finish_seconds, PLANNING_MARGIN * own + self.first_audio_seconds)
            ticket = Ticket(frames, first_frames, piece_frames or first_frames, deadline)
            jobs = [_Job(t.remaining_frames * spf, t.first_frames * spf, t.piece_frames * spf, t.started, t.deadline)
                    for t in self._tickets]
            new = _Job(own, first_frames * spf, ticket.piece_frames * spf, False, deadline)
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

    def _problem(self, jobs: list[_Job], new: _Job, now: float) -> str | None:
        """Why `new` cannot be admitted beside `jobs` at `now`, or None."""
        if not jobs:
            return None
        # its first piece waits for the first pieces queued before it and for the rest of the call running now
        # (on average half a piece)
        waiting = sum(job.first for job in jobs if not job.started)
        running = max((min(job.remaining, job.piece) / 2 for job in jobs if job.started), default=0.0)
        first_audio = waiting + running + new.first
        if first_audio > self.first_audio_seconds:
            return f"its first audio could start only in about {first_audio:.0f} s"
        before = [PLANNING_MARGIN * t for t in finish_times([job.remaining for job in jobs])]
        after = [PLANNING_MARGIN * t for t in finish_times([job.remaining for job in [*jobs, new]])]
        if now + after[-1] > new.deadline:
            return f"it could not finish within {new.deadline - now:.0f} s beside {len(jobs)} other requests"
        for job, was, will in zip(jobs, before, after, strict=False):
            # a request already running late may be made a little later, not much
            if now + will > max(job.deadline, now + was + LATE_TOLERANCE):
                backlog = sum(j.remaining for j in jobs)
                return f"{len(jobs)} requests hold {backlog:.0f} s of work: one of them would finish late"
        return None

    def _wait(self, jobs: list[_Job], new: _Job, now: float) -> int:
        """Whole seconds until `new` would be admitted, as the work drains (at most a minute): first pieces
        go first, then the machine is shared."""
        for seconds in range(1, MAX_RETRY_AFTER):
            later, budget = [], float(seconds)
            for job in jobs:  # first pieces waiting, in order of arrival, take the time first
                if not job.started and budget >= job.first:
                    budget -= job.first
                    job = _Job(job.remaining - job.first, job.first, job.piece, True, job.deadline)
                later.append(job)
            left = drained([job.remaining for job in later], budget)
            later = [_Job(r, job.first, job.piece, job.started, job.deadline)
                     for job, r in zip(later, left, strict=True) if r > 0]
            shifted = _Job(new.remaining, new.first, new.piece, False, new.deadline + seconds)
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

"""Where book jobs live between requests and restarts, behind one small Protocol: SQLite in the jobs folder
(one machine, the default) or Redis (a fleet sharing one queue). Chapters are the unit of work: any replica
claims the next queued chapter atomically, and a claim not renewed within its lease goes back to the queue,
so a replica that dies loses nothing."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal, Protocol

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
ChapterStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
FINISHED: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})
LEASE_SECONDS = 120.0  # a running chapter whose worker has not been heard of for this long is queued again


@dataclass
class ChapterState:
    title: str
    characters: int
    status: ChapterStatus = "queued"
    audio_seconds: float = 0.0
    characters_done: int = 0
    worker: str | None = None  # the replica that read (or reads) it


@dataclass
class Job:
    """A book to read: who asked, with what options, and how far it is."""

    owner: str  # the API key's identity (a hash, never the key)
    request: dict  # source name, voice, speed, lang_code, response_format, chapters, …
    chapters: list[ChapterState]
    id: str = field(default_factory=lambda: "job_" + uuid.uuid4().hex[:24])
    status: JobStatus = "queued"
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    error: str | None = None
    output_bytes: int = 0

    @property
    def characters(self) -> int:
        return sum(c.characters for c in self.chapters)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Job:
        return cls(**{**data, "chapters": [ChapterState(**c) for c in data["chapters"]]})


@dataclass(frozen=True)
class Claim:
    job_id: str
    chapter: int


class JobStore(Protocol):
    """What the runner and the routes need of a store; both implementations behave alike (tests run both)."""

    def create(self, job: Job) -> None: ...
    def get(self, job_id: str) -> Job | None: ...
    def list(self, owner: str) -> list[Job]: ...
    def set_status(self, job_id: str, status: JobStatus, *, error: str | None = None,
                   output_bytes: int | None = None) -> None: ...
    def claim(self, worker: str, *, lease: float = LEASE_SECONDS) -> Claim | None: ...
    def renew(self, claim: Claim, worker: str, *, characters_done: int, audio_seconds: float) -> bool: ...
    # the chapters still to read; at 0 the claim stays held for the assembly (renewed like a reading) until the
    # job's status is set to a finished one, which takes everything of the job off the queue
    def finish_chapter(self, claim: Claim, worker: str, status: ChapterStatus, *, audio_seconds: float) -> int: ...
    def cancel(self, job_id: str) -> bool: ...
    def delete(self, job_id: str) -> None: ...
    def expired(self, before: float) -> list[str]: ...
    def release(self, worker: str) -> int: ...
    def owner(self, name: str) -> str | None | Literal[False]: ...
    def close(self) -> None: ...


def _owner_of(job: Job | None) -> str | None | Literal[False]:
    """A job's owner as api/policy.py's Owners protocol says it: False for no such job, None for no key's."""
    if job is None:
        return False
    return job.owner or None


def _requeue(job: Job, index: int) -> bool:
    """A released chapter shown as queued again (it is no longer being read); True when that changed it."""
    chapter = job.chapters[index]
    if chapter.status != "running":
        return False
    chapter.status, job.updated = "queued", time.time()
    return True


def _take(job: Job, index: int, worker: str) -> None:
    """A claimed chapter shown as read by `worker`; a chapter already read stays so (what its claim holds then
    is the job's assembly, taken over from a replica that stopped while writing the audiobook)."""
    job.status, job.updated = "running", time.time()
    chapter = job.chapters[index]
    if chapter.status != "succeeded":
        chapter.status, chapter.worker = "running", worker


def _assembles(left: int, status: ChapterStatus) -> bool:
    """Whether the end of a chapter leaves its claim held: the last chapter read, its reader writes the
    audiobook under the same claim, so a replica stopped meanwhile leaves it to be taken over, never lost."""
    return left == 0 and status == "succeeded"


def _mark(job: Job, index: int, status: ChapterStatus, worker: str, audio_seconds: float) -> int:
    """A chapter's end recorded in `job`; returns the chapters still to read (0: the job can be assembled)."""
    chapter = job.chapters[index]
    chapter.status, chapter.worker, chapter.audio_seconds = status, worker, audio_seconds
    if status == "succeeded":
        chapter.characters_done = chapter.characters
    job.updated = time.time()
    if status == "failed":
        job.status = "failed"
    return sum(c.status not in FINISHED for c in job.chapters)


class SQLiteJobStore:
    """Jobs as JSON documents in one SQLite file, claims as a queue table changed in IMMEDIATE transactions
    (one writer at a time across threads and processes sharing the file)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript("""
            CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, owner TEXT NOT NULL, updated REAL NOT NULL,
                                             doc TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS jobs_owner ON jobs (owner);
            CREATE TABLE IF NOT EXISTS queue (job_id TEXT NOT NULL, chapter INTEGER NOT NULL, seq INTEGER NOT NULL,
                                              worker TEXT, lease_until REAL, PRIMARY KEY (job_id, chapter));
        """)

    def _transaction(self, work):
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                result = work()
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return result

    def _load(self, job_id: str) -> Job | None:
        row = self._db.execute("SELECT doc FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return Job.from_dict(json.loads(row[0])) if row else None

    def _save(self, job: Job) -> None:
        self._db.execute("INSERT OR REPLACE INTO jobs (id, owner, updated, doc) VALUES (?, ?, ?, ?)",
                         (job.id, job.owner, job.updated, json.dumps(job.as_dict())))

    def create(self, job: Job) -> None:
        def work() -> None:
            self._save(job)
            seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM queue").fetchone()[0]
            self._db.executemany("INSERT INTO queue (job_id, chapter, seq) VALUES (?, ?, ?)",
                                 [(job.id, i, seq + 1 + i) for i in range(len(job.chapters))])
        self._transaction(work)

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._load(job_id)

    def list(self, owner: str) -> list[Job]:
        with self._lock:
            rows = self._db.execute("SELECT doc FROM jobs WHERE owner = ? ORDER BY rowid", (owner,)).fetchall()
        return [Job.from_dict(json.loads(row[0])) for row in rows]

    def set_status(self, job_id: str, status: JobStatus, *, error: str | None = None,
                   output_bytes: int | None = None) -> None:
        def work() -> None:
            job = self._load(job_id)
            if job is None:
                return
            job.status, job.updated = status, time.time()
            job.error = error if error is not None else job.error
            job.output_bytes = output_bytes if output_bytes is not None else job.output_bytes
            self._save(job)
            if status in FINISHED:
                self._db.execute("DELETE FROM queue WHERE job_id = ?", (job_id,))
        self._transaction(work)

    def claim(self, worker: str, *, lease: float = LEASE_SECONDS) -> Claim | None:
        def work() -> Claim | None:
            now = time.time()
            row = self._db.execute(
                "SELECT job_id, chapter FROM queue WHERE worker IS NULL OR lease_until < ? ORDER BY seq LIMIT 1",
                (now,)).fetchone()
            if row is None:
                return None
            job = self._load(row[0])
            if job is None or job.status in FINISHED:
                self._db.execute("DELETE FROM queue WHERE job_id = ?", (row[0],))
                return work()
            self._db.execute("UPDATE queue SET worker = ?, lease_until = ? WHERE job_id = ? AND chapter = ?",
                             (worker, now + lease, row[0], row[1]))
            _take(job, row[1], worker)
            self._save(job)
            return Claim(row[0], row[1])
        return self._transaction(work)

    def renew(self, claim: Claim, worker: str, *, characters_done: int, audio_seconds: float,
              lease: float = LEASE_SECONDS) -> bool:
        def work() -> bool:
            changed = self._db.execute(
                "UPDATE queue SET lease_until = ? WHERE job_id = ? AND chapter = ? AND worker = ?",
                (time.time() + lease, claim.job_id, claim.chapter, worker)).rowcount
            job = self._load(claim.job_id)
            if not changed or job is None or job.status in FINISHED:
                return False
            chapter = job.chapters[claim.chapter]
            chapter.characters_done, chapter.audio_seconds = characters_done, audio_seconds
            job.updated = time.time()
            self._save(job)
            return True
        return self._transaction(work)

    def finish_chapter(self, claim: Claim, worker: str, status: ChapterStatus, *, audio_seconds: float) -> int:
        def work() -> int:
            job = self._load(claim.job_id)
            left = -1 if job is None else _mark(job, claim.chapter, status, worker, audio_seconds)
            if not _assembles(left, status):
                self._db.execute("DELETE FROM queue WHERE job_id = ? AND chapter = ?", (claim.job_id, claim.chapter))
            if job is not None:
                self._save(job)
            return left
        return self._transaction(work)

    def cancel(self, job_id: str) -> bool:
        def work() -> bool:
            job = self._load(job_id)
            if job is None or job.status in FINISHED:
                return False
            job.status, job.updated = "cancelled", time.time()
            for chapter in job.chapters:
                if chapter.status not in FINISHED:
                    chapter.status = "cancelled"
            self._save(job)
            self._db.execute("DELETE FROM queue WHERE job_id = ?", (job_id,))
            return True
        return self._transaction(work)

    def delete(self, job_id: str) -> None:
        def work() -> None:
            self._db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
            self._db.execute("DELETE FROM queue WHERE job_id = ?", (job_id,))
        self._transaction(work)

    def expired(self, before: float) -> list[str]:
        with self._lock:
            rows = self._db.execute("SELECT id, doc FROM jobs WHERE updated < ?", (before,)).fetchall()
        return [job_id for job_id, doc in rows if json.loads(doc)["status"] in FINISHED]

    def release(self, worker: str) -> int:
        """This worker's claims back to the queue (a restarted replica: its chapters go on at once, from
        their finished pieces, instead of after their lease)."""
        def work() -> int:
            rows = self._db.execute("SELECT job_id, chapter FROM queue WHERE worker = ?", (worker,)).fetchall()
            self._db.execute("UPDATE queue SET worker = NULL, lease_until = NULL WHERE worker = ?", (worker,))
            for job_id, chapter in rows:
                job = self._load(job_id)
                if job is not None and _requeue(job, chapter):
                    self._save(job)
            return len(rows)
        return self._transaction(work)

    def owner(self, name: str) -> str | None | Literal[False]:
        return _owner_of(self.get(name))

    def close(self) -> None:
        with self._lock:  # not under a call still running on a thread (expiry, at shutdown)
            self._db.close()


class RedisJobStore:
    """Jobs as JSON under `<prefix>job:<id>`, each owner's ids in a sorted set, the queue as a sorted set of
    `<id>:<chapter>` by order of arrival, and claims as `<prefix>claim:<id>:<chapter>` keys that expire with
    their lease. Changes to a job are WATCH/MULTI transactions (optimistic, retried), so replicas never lose
    one another's updates."""

    def __init__(self, url: str, *, prefix: str = "kokoro:jobs:") -> None:
        import redis

        self._redis = redis.Redis.from_url(url, decode_responses=True)
        self._errors = redis.WatchError
        self.prefix = prefix

    def _key(self, *parts: str | int) -> str:
        return self.prefix + ":".join(str(p) for p in parts)

    def _change(self, job_id: str, change) -> object:
        """Apply `change(job, pipe)` to the stored job atomically; returns what `change` returns."""
        key = self._key("job", job_id)
        with self._redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    job = Job.from_dict(json.loads(raw)) if raw else None
                    pipe.multi()
                    result = change(job, pipe)
                    if job is not None:
                        pipe.set(key, json.dumps(job.as_dict()))
                    pipe.execute()
                    return result
                except self._errors:
                    continue

    def create(self, job: Job) -> None:
        with self._redis.pipeline() as pipe:
            pipe.set(self._key("job", job.id), json.dumps(job.as_dict()))
            pipe.zadd(self._key("owner", job.owner), {job.id: job.created})
            seq = self._redis.incrby(self._key("seq"), len(job.chapters))
            pipe.zadd(self._key("queue"), {f"{job.id}:{i}": seq - len(job.chapters) + i
                                           for i in range(len(job.chapters))})
            pipe.execute()

    def get(self, job_id: str) -> Job | None:
        raw = self._redis.get(self._key("job", job_id))
        return Job.from_dict(json.loads(raw)) if raw else None

    def list(self, owner: str) -> list[Job]:
        jobs = [self.get(job_id) for job_id in self._redis.zrange(self._key("owner", owner), 0, -1)]
        return [job for job in jobs if job is not None]

    def set_status(self, job_id: str, status: JobStatus, *, error: str | None = None,
                   output_bytes: int | None = None) -> None:
        def change(job: Job | None, pipe) -> None:
            if job is not None:
                job.status, job.updated = status, time.time()
                job.error = error if error is not None else job.error
                job.output_bytes = output_bytes if output_bytes is not None else job.output_bytes
                if status in FINISHED:
                    self._unqueue(job, pipe)
        self._change(job_id, change)

    def _unqueue(self, job: Job, pipe) -> None:
        """Every chapter of `job` off the queue and unclaimed (queued on `pipe`)."""
        pipe.zrem(self._key("queue"), *[f"{job.id}:{i}" for i in range(len(job.chapters))])
        pipe.delete(*[self._key("claim", job.id, i) for i in range(len(job.chapters))])

    def claim(self, worker: str, *, lease: float = LEASE_SECONDS) -> Claim | None:
        for entry in self._redis.zrange(self._key("queue"), 0, -1):
            job_id, chapter = entry.rsplit(":", 1)
            # a claim is a key that only one replica can create, and that expires unless renewed
            if not self._redis.set(self._key("claim", job_id, chapter), worker, nx=True, px=int(lease * 1000)):
                continue

            def change(job: Job | None, pipe, job_id: str = job_id, chapter: int = int(chapter)) -> bool:
                if job is None or job.status in FINISHED:
                    pipe.zrem(self._key("queue"), f"{job_id}:{chapter}")
                    return False
                _take(job, chapter, worker)
                return True

            if self._change(job_id, change):
                return Claim(job_id, int(chapter))
            self._redis.delete(self._key("claim", job_id, chapter))
        return None

    def renew(self, claim: Claim, worker: str, *, characters_done: int, audio_seconds: float,
              lease: float = LEASE_SECONDS) -> bool:
        key = self._key("claim", claim.job_id, claim.chapter)
        if self._redis.get(key) != worker:
            return False
        self._redis.pexpire(key, int(lease * 1000))

        def change(job: Job | None, pipe) -> bool:
            if job is None or job.status in FINISHED:
                return False
            chapter = job.chapters[claim.chapter]
            chapter.characters_done, chapter.audio_seconds = characters_done, audio_seconds
            job.updated = time.time()
            return True
        return bool(self._change(claim.job_id, change))

    def finish_chapter(self, claim: Claim, worker: str, status: ChapterStatus, *, audio_seconds: float) -> int:
        def change(job: Job | None, pipe) -> int:
            left = -1 if job is None else _mark(job, claim.chapter, status, worker, audio_seconds)
            if not _assembles(left, status):
                pipe.zrem(self._key("queue"), f"{claim.job_id}:{claim.chapter}")
                pipe.delete(self._key("claim", claim.job_id, claim.chapter))
            return left
        return int(self._change(claim.job_id, change))

    def cancel(self, job_id: str) -> bool:
        def change(job: Job | None, pipe) -> bool:
            if job is None or job.status in FINISHED:
                return False
            job.status, job.updated = "cancelled", time.time()
            for chapter in job.chapters:
                if chapter.status not in FINISHED:
                    chapter.status = "cancelled"
            self._unqueue(job, pipe)
            return True
        return bool(self._change(job_id, change))

    def delete(self, job_id: str) -> None:
        job = self.get(job_id)
        with self._redis.pipeline() as pipe:
            pipe.delete(self._key("job", job_id))
            if job is not None:
                pipe.zrem(self._key("owner", job.owner), job_id)
                pipe.zrem(self._key("queue"), *[f"{job_id}:{i}" for i in range(len(job.chapters))])
            pipe.execute()

    def expired(self, before: float) -> list[str]:
        found = []
        for key in self._redis.scan_iter(self._key("job", "*")):
            job = self.get(key.rsplit(":", 1)[-1])
            if job is not None and job.status in FINISHED and job.updated < before:
                found.append(job.id)
        return found

    def release(self, worker: str) -> int:
        """This worker's claims back to the queue (see SQLiteJobStore.release)."""
        released = 0
        for key in self._redis.scan_iter(self._key("claim", "*")):
            if self._redis.get(key) == worker and self._redis.delete(key):
                released += 1
                job_id, chapter = key.removeprefix(self._key("claim", "")).rsplit(":", 1)
                self._change(job_id, lambda job, pipe, chapter=int(chapter): job and _requeue(job, chapter))
        return released

    def owner(self, name: str) -> str | None | Literal[False]:
        return _owner_of(self.get(name))

    def close(self) -> None:
        self._redis.close()

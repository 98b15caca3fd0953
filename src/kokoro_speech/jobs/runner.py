"""Book jobs read chapter by chapter: `submit` checks a document and queues its chapters, `run_once` claims
the next queued chapter from the store (any replica may), reads it into the job's work folder and, for the
chapter that finishes a job, writes the audiobook. Route handlers call these and nothing else."""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import time
import uuid
from contextlib import suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from kokoro_speech.audio.book import BookTags
from kokoro_speech.errors import ApiError, DocumentTooLarge, RateLimited
from kokoro_speech.jobs.audiobook import (
    ENCODED_ALONG, Audiobook, Progress, RunningEncode, manifest, write_audio, write_manifest, write_subtitles,
)
from kokoro_speech.jobs.book import BookOptions, PreparedBook, prepare
from kokoro_speech.jobs.narration import Narration
from kokoro_speech.jobs.speakers import Speaker
from kokoro_speech.jobs.store import FINISHED, LEASE_SECONDS, ChapterState, Claim, Job, JobStatus, JobStore
from kokoro_speech.jobs.work import PieceStore, atomic_write
from kokoro_speech.text.documents import Limits, detect

log = logging.getLogger(__name__)

SOURCE_SUFFIXES = {"epub": ".epub", "markdown": ".md", "text": ".txt", "pdf": ".pdf", "srt": ".srt", "vtt": ".vtt"}
IDLE_SECONDS = 1.0
CANCEL_POLL_SECONDS = 1.0  # how often a job being read is checked for a cancellation
QUOTA_RETRY_SECONDS = 60  # a key over its job limits: about when a job of its own may have finished


@dataclass(frozen=True)
class JobOptions:
    """What a job request may ask (the jobs API's form fields)."""

    voice: str | None = None
    speed: float = 1.0
    lang_code: str | None = None
    response_format: str = "m4b"
    chapters: str | None = None
    subtitles: str | None = None  # "vtt" or "srt"


class Stopped(Exception):
    """The job was cancelled, this replica's claim on the chapter lapsed (another replica may take it), or this
    replica is stopping (the chapter goes back to the queue with its finished pieces)."""


class JobRunner:
    """One replica's reader of jobs from a shared store and jobs folder."""

    def __init__(self, store: JobStore, folder: Path, speaker_for: Callable[[PreparedBook], Speaker], *,
                 worker: str | None = None, limits: Limits | None = None, parallel: int = 1,
                 max_jobs_per_key: int = 0, max_bytes_per_key: int = 0, narration: Narration | None = None) -> None:
        self.store, self.folder, self.speaker_for = store, folder, speaker_for
        self.narration = narration or Narration()
        self._wake: asyncio.Event | None = None  # set by `notify`: a job was queued here, claim it at once
        self._changed: asyncio.Event | None = None  # set by `notify`: a job changed here (cancelled, say)
        self.worker = worker or f"worker-{uuid.uuid4().hex[:8]}"
        self.limits = limits or Limits()
        self.parallel = parallel
        self.max_jobs_per_key = max_jobs_per_key  # queued or running at once (0: no limit)
        self.max_bytes_per_key = max_bytes_per_key  # uploads and audiobooks kept (0: no limit)
        self._along: tuple[str, RunningEncode] | None = None  # the last job read here, its audiobook encoded along

    def _check_quota(self, owner: str, incoming: int) -> None:
        """A key's limits: unfinished jobs at once, and the bytes its jobs keep (429 beyond either)."""
        jobs = self.store.list(owner)
        if self.max_jobs_per_key and sum(j.status not in FINISHED for j in jobs) >= self.max_jobs_per_key:
            raise RateLimited(f"this key has {self.max_jobs_per_key} jobs queued or running, its limit; submit "
                              "another when one has finished", retry_after=QUOTA_RETRY_SECONDS)
        # an upload is kept until its job ends (then removed: `_end`), an audiobook until it is deleted or expires
        kept = sum(j.output_bytes + (j.request.get("source_bytes", 0) if j.status not in FINISHED else 0)
                   for j in jobs)
        if self.max_bytes_per_key and kept + incoming > self.max_bytes_per_key:
            raise RateLimited(f"this key's jobs keep {kept:,} bytes and this upload is {incoming:,}; the limit is "
                              f"{self.max_bytes_per_key:,} (delete finished jobs, or wait for them to expire)",
                              retry_after=QUOTA_RETRY_SECONDS)

    def _book_options(self, job_folder: Path, options: JobOptions) -> BookOptions:
        return BookOptions(voice=options.voice, speed=options.speed, lang_code=options.lang_code,
                           chapters=options.chapters, narration=self.narration, limits=self.limits,
                           subtitles=job_folder / f"book.{options.subtitles}" if options.subtitles else None)

    def _prepare(self, job_folder: Path, source: Path, options: JobOptions) -> PreparedBook:
        return prepare(source, job_folder / f"book.{options.response_format}", self._book_options(job_folder, options))

    def submit(self, data: bytes, name: str | None, owner: str, options: JobOptions,
               check: Callable[[PreparedBook], None] | None = None) -> Job:
        """Check the document and the options (raising their 4xx ApiError; `check` adds the caller's, e.g.
        that the voice exists) and queue the job's chapters. The upload is stored under a name of our own:
        nothing from the request names a path."""
        if len(data) > self.limits.max_bytes:
            raise DocumentTooLarge(f"the document is {len(data):,} bytes; the limit is {self.limits.max_bytes:,}")
        self._check_quota(owner, len(data))
        kind = detect(name, data)
        job_id = "job_" + uuid.uuid4().hex[:24]
        job_folder = self.folder / job_id
        job_folder.mkdir(parents=True)
        source = job_folder / ("source" + SOURCE_SUFFIXES[kind])
        try:
            atomic_write(source, data)
            prepared = self._prepare(job_folder, source, options)
            if check is not None:
                check(prepared)
        except BaseException:
            shutil.rmtree(job_folder, ignore_errors=True)
            raise
        request = {**asdict(options), "source": source.name, "name": (name or "")[:200], "voice": prepared.voice,
                   "source_bytes": len(data)}
        job = Job(owner, request, [ChapterState(c.label, c.characters) for c in prepared.chapters], id=job_id)
        self.store.create(job)
        return job

    def _prepared(self, job: Job) -> PreparedBook:
        job_folder = self.folder / job.id
        fields = {k: v for k, v in job.request.items() if k in JobOptions.__dataclass_fields__}
        return self._prepare(job_folder, job_folder / job.request["source"], JobOptions(**fields))

    async def run_once(self, stop: asyncio.Event | None = None) -> bool:
        """Read one queued chapter, if there is one; False when the queue is empty. Once `stop` is set, no
        piece is begun and the reading returns when those in flight are saved, its chapter still claimed (see
        `run`)."""
        claim = self.store.claim(self.worker)
        if claim is None:
            return False
        job = self.store.get(claim.job_id)
        if job is None:
            return True
        try:
            prepared = await asyncio.to_thread(self._prepared, job)
            if all(c.status == "succeeded" for c in job.chapters):  # a stopped replica's assembly, taken over
                await self._assemble(claim, prepared)
                return True
            seconds = await self._read_chapter(prepared, claim, stop)
        except Stopped:
            log.info("%s: chapter %d of %s stopped (cancelled, its claim lapsed, or stopping)", self.worker,
                     claim.chapter, claim.job_id)
            await asyncio.to_thread(self._tidy_if_cancelled, claim.job_id)
            return True
        except Exception as exc:
            if await asyncio.to_thread(self._tidy_if_cancelled, claim.job_id):
                return True  # its pieces were removed under it: cancelled, not failed
            message = exc.message if isinstance(exc, ApiError) else f"{type(exc).__name__}: {exc}"
            log.warning("%s: chapter %d of %s failed: %s", self.worker, claim.chapter, claim.job_id, message)
            self.store.finish_chapter(claim, self.worker, "failed", audio_seconds=0.0)
            self._end(job, "failed", error=message)
            return True
        left = self.store.finish_chapter(claim, self.worker, "succeeded", audio_seconds=seconds)
        if left == 0:
            await self._assemble(claim, prepared)
        return True

    async def _read_chapter(self, prepared: PreparedBook, claim: Claim, stop: asyncio.Event | None) -> float:
        chapter = prepared.chapters[claim.chapter]
        reading = Audiobook(prepared.document, [chapter], PieceStore(prepared.folder), speed=prepared.options.speed)

        along = self._encode_along(prepared, claim.job_id)

        def report(progress: Progress) -> None:
            if along is not None:
                along.saved()
            if not self.store.renew(claim, self.worker, characters_done=progress.characters_done,
                                    audio_seconds=progress.audio_seconds):
                raise Stopped()

        speaker = self.speaker_for(prepared)
        read = asyncio.ensure_future(reading.read(speaker, parallel=self.parallel, on_progress=report, stop=stop))
        watch = asyncio.ensure_future(self._watch(claim.job_id))
        try:
            await asyncio.wait([read, watch], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (read, watch):
                task.cancel()
            # the reading's synthesis closed before this returns: the engine is free, no piece is saved after
            await asyncio.gather(read, watch, return_exceptions=True)
        if read.cancelled():
            raise Stopped()  # cancelled meanwhile: the pieces in flight are dropped at once
        progress = read.result()
        if not reading.complete:
            raise Stopped()  # stopping: the pieces in flight are saved, the rest wait for the next reader
        return progress.audio_seconds

    def _encode_along(self, prepared: PreparedBook, job_id: str) -> RunningEncode | None:
        """The job's audiobook encoded while its chapters are read here (one job's at a time: another job's,
        read here before, is dropped); None for a format that is written at the end."""
        if self._along is not None and self._along[0] == job_id:
            return self._along[1]
        self._drop_along()
        if prepared.format not in ENCODED_ALONG:
            return None
        book = Audiobook(prepared.document, prepared.chapters, PieceStore(prepared.folder),
                         speed=prepared.options.speed)
        mine = re.sub(r"[^\w.-]", "_", self.worker)  # a file of this replica's in the shared work folder
        path = prepared.folder / f".along.{mine}.{ENCODED_ALONG[prepared.format]}"
        encode = RunningEncode(book, prepared.format, path)
        encode.start()
        self._along = (job_id, encode)
        return encode

    def _drop_along(self, job_id: str | None = None) -> None:
        """The encode along stopped and its file removed (of `job_id` only, when given); from any thread (a
        cancellation comes on one)."""
        along = self._along
        if along is None or job_id not in (None, along[0]):
            return
        self._along = None
        along[1].abort()

    async def _watch(self, job_id: str) -> None:
        """Returns once the job is cancelled (or gone): at once when it was cancelled through this replica
        (`notify`), within CANCEL_POLL_SECONDS through another, not at the end of the pieces in flight."""
        while True:
            if self._changed is not None:
                with suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), CANCEL_POLL_SECONDS)
                self._changed.clear()
            else:
                await asyncio.sleep(CANCEL_POLL_SECONDS)
            job = await asyncio.to_thread(self.store.get, job_id)
            if job is None or job.status in FINISHED:
                return

    def _remove_pieces(self, job_id: str) -> None:
        for parts in (self.folder / job_id).glob(".*.parts"):
            shutil.rmtree(parts, ignore_errors=True)

    def _tidy_if_cancelled(self, job_id: str) -> bool:
        """When the job was cancelled (or deleted), its read pieces removed; True then."""
        job = self.store.get(job_id)
        if job is not None and job.status != "cancelled":
            return False
        self._drop_along(job_id)
        self._remove_pieces(job_id)
        return True

    def cancel(self, job_id: str) -> bool:
        """A queued or running job cancelled: no chapter of it is claimed again, every replica reading it stops
        (this one at once after `notify`, others within CANCEL_POLL_SECONDS, each dropping its pieces in
        flight) and the pieces read so far are removed. The job stays, as cancelled, until deleted or expired."""
        cancelled = self.store.cancel(job_id)
        if cancelled:
            self._drop_along(job_id)
            self._remove_pieces(job_id)
            self._remove_source(self.store.get(job_id))
        return cancelled

    def _remove_source(self, job: Job | None) -> None:
        if job is not None:
            (self.folder / job.id / job.request["source"]).unlink(missing_ok=True)

    def _end(self, job: Job, status: JobStatus, **fields) -> None:
        """The job finished (succeeded or failed): its status set, which ends its claims, and its upload
        removed (nothing reads it again)."""
        self.store.set_status(job.id, status, **fields)
        self._drop_along(job.id)
        self._remove_source(job)

    async def _assemble(self, claim: Claim, prepared: PreparedBook) -> None:
        """The audiobook written from the pieces, under the claim of the chapter read last, renewed meanwhile: a
        replica stopped or killed while writing gives it back (or lets it lapse), and the next taker writes it."""
        job = self.store.get(claim.job_id)
        if job is None or job.status in FINISHED:
            return
        chapter = job.chapters[claim.chapter]
        along = self._along[1] if self._along is not None and self._along[0] == job.id else None
        writing = asyncio.ensure_future(asyncio.to_thread(self._write, prepared, along))
        while not (await asyncio.wait([writing], timeout=LEASE_SECONDS / 4))[0]:
            self.store.renew(claim, self.worker, characters_done=chapter.characters,
                             audio_seconds=chapter.audio_seconds)
        now = self.store.get(claim.job_id)
        if now is None or now.status == "cancelled":  # cancelled while it was written
            self._remove_source(job)
            prepared.output.unlink(missing_ok=True)
        elif writing.exception() is not None:
            self._end(job, "failed", error=f"writing the audiobook failed: {writing.exception()}")
        else:
            self._end(job, "succeeded", output_bytes=prepared.output.stat().st_size)

    def _write(self, prepared: PreparedBook, along: RunningEncode | None) -> None:
        """The audiobook (from what `along` encoded while the book was read), the subtitles and the manifest."""
        store = PieceStore(prepared.folder)
        reading = Audiobook(prepared.document, prepared.chapters, store, speed=prepared.options.speed)
        layout = reading.layout()
        document = prepared.document
        tags = BookTags(title=document.title, author=document.author, language=document.language,
                        cover=document.cover)
        write_audio(reading, layout, prepared.output, prepared.format, tags, along=along)
        if prepared.options.subtitles is not None:
            write_subtitles(reading, layout, prepared.options.subtitles, prepared.options.subtitles.suffix[1:])
        write_manifest(prepared.output.with_name("manifest.json"),
                       manifest(reading, layout, voice=prepared.voice, speed=prepared.options.speed,
                                format=prepared.format, files=[prepared.output.name]))
        store.remove()

    async def run(self, stop: asyncio.Event) -> None:
        """Read chapters until `stop` is set, waiting a moment whenever the queue is empty. The chapters this
        worker held when it last stopped (a restart under the same name, after a kill) go back to the queue
        first. Once `stop` is set, the pieces in flight are finished and saved, and the chapter being read
        goes back to the queue at once, for this replica's next start or another replica; cancelled
        meanwhile (a deadline passed), the pieces in flight are dropped and the chapter goes back all the same.
        """
        released = await asyncio.to_thread(self.store.release, self.worker)
        if released:
            log.info("%s: %d chapters held before a restart are queued again", self.worker, released)
        self._wake, self._changed = asyncio.Event(), asyncio.Event()
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    worked = await self.run_once(stop)
                except Exception:  # the store unreachable, say: log it and try again, never stop reading
                    log.exception("%s: reading the job queue failed", self.worker)
                    worked = False
                if not worked:  # the queue is empty: look again in a moment (other replicas queue jobs too)
                    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
                    await asyncio.wait(waits, timeout=IDLE_SECONDS, return_when=asyncio.FIRST_COMPLETED)
                    for waiting in waits:
                        waiting.cancel()
        finally:
            self._drop_along()
            try:  # nothing of ours is in flight now (a store call of a moment: no thread, no await to cancel)
                if released := self.store.release(self.worker):
                    log.info("%s: stopping; %d chapters back in the queue", self.worker, released)
            except Exception:
                log.exception("%s: the chapters held could not be given back (their lease will lapse)",
                              self.worker)

    def notify(self) -> None:
        """A job was queued or cancelled through this replica (call it on the runner's event loop)."""
        for event in (self._wake, self._changed):
            if event is not None:
                event.set()

    def close(self) -> None:
        """The store's connection closed (after `run` has returned)."""
        self.store.close()

    def expire(self, max_age_seconds: float) -> list[str]:
        """Finished jobs older than `max_age_seconds` removed, with their files."""
        removed = self.store.expired(time.time() - max_age_seconds)
        for job_id in removed:
            self.store.delete(job_id)
            shutil.rmtree(self.folder / job_id, ignore_errors=True)
        return removed

    def remove(self, job_id: str) -> None:
        """A job and its files gone (a finished job deleted by its owner)."""
        self.store.delete(job_id)
        shutil.rmtree(self.folder / job_id, ignore_errors=True)

    def output(self, job: Job) -> Path:
        return self.folder / job.id / f"book.{job.request['response_format']}"

    def subtitles(self, job: Job) -> Path | None:
        fmt = job.request.get("subtitles")
        return self.folder / job.id / f"book.{fmt}" if fmt else None


def describe(job: Job, now: float | None = None) -> dict:
    """A job as the jobs API shows it: status, progress (characters and chapters done of total, audio seconds,
    an ETA from the rate so far) and each chapter's title, status, audio seconds and the replica that read it."""
    now = time.time() if now is None else now
    done = sum(c.characters_done for c in job.chapters)
    total = job.characters
    elapsed = (job.updated if job.status in FINISHED else now) - job.created
    eta = None
    if job.status == "running" and done:
        eta = round(elapsed / done * (total - done), 1)
    return {
        "id": job.id, "object": "audio.job", "status": job.status, "created_at": int(job.created),
        "error": job.error, "name": job.request.get("name") or None, "voice": job.request.get("voice"),
        "speed": job.request.get("speed"), "response_format": job.request.get("response_format"),
        "subtitles": job.request.get("subtitles"), "bytes": job.output_bytes,
        "progress": {"characters_done": done, "characters_total": total,
                     "chapters_done": sum(c.status == "succeeded" for c in job.chapters),
                     "chapters_total": len(job.chapters),
                     "audio_seconds": round(sum(c.audio_seconds for c in job.chapters), 2), "eta_seconds": eta},
        "chapters": [{"title": c.title, "status": c.status, "audio_seconds": round(c.audio_seconds, 2),
                      "worker": c.worker} for c in job.chapters],
    }

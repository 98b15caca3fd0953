"""The jobs API: books and long texts read in the background into audiobooks (jobs/), each job its key's own.
POST /v1/audio/jobs queues one; GET shows it (as JSON, or as server-sent events); /content and /subtitles
serve the results with Range requests; DELETE cancels. Also the runner's start and stop in the app's lifespan.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from contextlib import suppress
from dataclasses import dataclass
from typing import Annotated, AsyncIterator, Callable, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kokoro_speech.api.downloads import save_as
from kokoro_speech.api.policy import SYNTHESIS, Owned, RoutePolicy, policy
from kokoro_speech.api.state import KeyDep, ServerState, StateDep
from kokoro_speech.audio.encode import FORMATS
from kokoro_speech.config import Settings
from kokoro_speech.errors import DocumentTooLarge, InvalidParameter, JobNotFinished, NotFound, NotReady
from kokoro_speech.jobs.book import PreparedBook
from kokoro_speech.jobs.narration import Narration
from kokoro_speech.jobs.runner import JobOptions, JobRunner, describe
from kokoro_speech.jobs.speakers import EngineSpeaker
from kokoro_speech.jobs.store import FINISHED, Job, JobStore, RedisJobStore, SQLiteJobStore
from kokoro_speech.pipeline.engine import Engine
from kokoro_speech.text.documents import Limits

log = logging.getLogger(__name__)

router = APIRouter(tags=["jobs"])
PER_JOB = RoutePolicy(owned=Owned("job", "job_id"))  # another key's job answers 404, as one that does not exist
CONTENT_TYPES = {"m4b": "audio/mp4", "mp3": FORMATS["mp3"].content_type, "opus": FORMATS["opus"].content_type,
                 "wav": FORMATS["wav"].content_type, "vtt": "text/vtt; charset=utf-8",
                 "srt": "application/x-subrip; charset=utf-8"}
EVENT_POLL_SECONDS = 0.5  # how often /events looks at the store (any replica may be reading the job)
EXPIRY_SECONDS = 600.0  # how often finished jobs past --jobs-ttl-seconds are removed
# A job's pieces: two in flight (one is opened, its text read, while the model speaks the other, so the model
# never waits between pieces), of about 20 s of audio each: progress moves every few seconds, and a kill or a
# restart loses at most the two in flight
PARALLEL_PIECES = 2
PIECE_CHARACTERS = 300


class JobRequest(BaseModel):
    """A job's options, as JSON fields or multipart form fields beside the `file`."""

    model_config = ConfigDict(extra="forbid")

    input: str | None = Field(None, description="The text to read (JSON requests; multipart sends a `file`). "
                              "Plain text: blank lines part paragraphs; Markdown headings make chapters.")
    name: str | None = Field(None, max_length=200, description="The book's name, for its save-as file name.")
    voice: str | None = Field(None, description="A voice or a blend; default: the book's language's voice.")
    speed: float = Field(1.0, description="0.25 to 4.0.")
    lang_code: str | None = Field(None, description="Read in this language instead of the book's or voice's.")
    response_format: Literal["m4b", "mp3", "opus", "wav"] = "m4b"
    chapters: str | None = Field(None, description="Only these chapters, e.g. 1-3,7.")
    subtitles: Literal["vtt", "srt"] | None = Field(None, description="Also write subtitles from word times.")


@dataclass(frozen=True)
class Upload:
    data: bytes
    name: str | None
    options: JobRequest


def open_store(settings: Settings) -> JobStore:
    if settings.jobs_redis_url:
        return RedisJobStore(settings.jobs_redis_url)
    return SQLiteJobStore(settings.jobs_folder() / "jobs.sqlite3")


def runner_for(settings: Settings, engine: Callable[[], Engine | None]) -> JobRunner:
    """This replica's runner; its pieces go to the engine as background work (pipeline/scheduler.py)."""

    def speaker_for(book: PreparedBook) -> EngineSpeaker:
        loaded = engine()
        if loaded is None:
            raise NotReady()
        return EngineSpeaker(loaded, book.voice, book.language, words=book.options.subtitles is not None,
                             background=True)

    return JobRunner(open_store(settings), settings.jobs_folder(), speaker_for,
                     worker=settings.jobs_worker or socket.gethostname(), parallel=PARALLEL_PIECES,
                     limits=Limits(max_bytes=settings.jobs_max_upload_bytes),
                     narration=Narration(piece_characters=PIECE_CHARACTERS),
                     max_jobs_per_key=settings.jobs_per_key, max_bytes_per_key=settings.jobs_max_bytes_per_key)


class Reading:
    """The runner and the expiry of old jobs as background tasks of the app (started in its lifespan)."""

    def __init__(self, state: ServerState, ttl_seconds: float, grace_seconds: float) -> None:
        self.state, self.ttl_seconds, self.grace_seconds = state, ttl_seconds, grace_seconds
        self.stop = asyncio.Event()
        self.tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._expire())]

    async def _read(self) -> None:
        while self.state.engine is None:  # chapters wait for the model, in the store, not in memory
            if self.state.load_error or self.stop.is_set():
                return
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.stop.wait(), 0.5)
        await self.state.jobs.run(self.stop)

    async def _expire(self) -> None:
        while not self.stop.is_set():
            try:
                removed = await asyncio.to_thread(self.state.jobs.expire, self.ttl_seconds)
                if removed:
                    log.info("%d finished jobs expired", len(removed))
            except Exception:
                log.exception("expiring finished jobs failed")
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.stop.wait(), EXPIRY_SECONDS)

    async def close(self) -> None:
        """Stop: no piece is begun, those in flight are finished and saved (for up to --shutdown-grace
        seconds; past that they are dropped), the chapter goes back to the queue for the next start or another
        replica, and the job store is closed."""
        self.stop.set()
        reader, expiry = self.tasks
        expiry.cancel()
        _, late = await asyncio.wait([reader], timeout=self.grace_seconds)
        if late:
            log.warning("a book's pieces in flight did not finish within %g s: dropped, to be read again",
                        self.grace_seconds)
            reader.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await asyncio.to_thread(self.state.jobs.close)


def start(state: ServerState, settings: Settings) -> Reading | None:
    if state.jobs is None:
        return None
    return Reading(state, settings.jobs_ttl_seconds, settings.shutdown_grace)


def _runner(state: ServerState) -> JobRunner:
    if state.jobs is None:
        raise NotFound("book jobs are not served here", param=None)
    return state.jobs


def _options(values: dict) -> JobRequest:
    try:
        return JobRequest.model_validate(values)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None


async def _upload(request: Request, max_bytes: int) -> Upload:
    """The book from a multipart `file` (with options as form fields) or JSON `input`."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        async with request.form(max_files=1, max_fields=20) as form:
            fields = {k: v for k, v in form.items() if isinstance(v, str) and k != "file"}
            file = form.get("file")
            if file is None or isinstance(file, str):
                raise InvalidParameter("send the book as the multipart field 'file' (EPUB, PDF, Markdown, text, "
                                       "SRT or VTT), or JSON with 'input'", param="file")
            options = _options(fields)
            if options.input is not None:
                raise InvalidParameter("send either a 'file' or an 'input', not both", param="input")
            data = await file.read(max_bytes + 1)
            name = file.filename
    else:
        try:
            body = await request.json()
        except ValueError:
            raise InvalidParameter("send JSON with 'input', or multipart/form-data with a 'file'",
                                   param="input") from None
        options = _options(body if isinstance(body, dict) else {"input": body})
        if not options.input or not options.input.strip():
            raise InvalidParameter("'input' is empty: give the text to read", param="input")
        data, name = options.input.encode("utf-8"), "input.txt"
    if len(data) > max_bytes:
        raise DocumentTooLarge(f"the book is over {max_bytes:,} bytes, the limit (--jobs-max-upload-bytes)",
                               param="input" if name == "input.txt" else "file")
    return Upload(data, options.name or name, options)


@router.post("/v1/audio/jobs", status_code=202, responses={202: {"description": "The job, queued."}})
@policy(SYNTHESIS)
async def create_job(request: Request, state: StateDep, key: KeyDep) -> JSONResponse:
    """Queue a book (multipart `file`: EPUB, PDF with a text layer, Markdown, plain text, SRT or VTT) or a long
    text (JSON `input`) to be read into an audiobook; up to --jobs-max-upload-bytes. Poll the job, or follow
    its events, then fetch its content."""
    runner = _runner(state)
    upload = await _upload(request, runner.limits.max_bytes)
    fields = upload.options.model_dump(exclude={"input", "name"})
    engine = state.engine

    def check(book: PreparedBook) -> None:  # an unknown voice is refused now, not when the job runs
        if engine is not None:
            engine.resolve_voice(book.voice, book.language, caller=key)

    job = await asyncio.to_thread(runner.submit, upload.data, upload.name, key or "", JobOptions(**fields), check)
    runner.notify()
    return JSONResponse(describe(job), 202, headers={"Location": f"/v1/audio/jobs/{job.id}"})


@router.get("/v1/audio/jobs")
@policy(RoutePolicy())
async def list_jobs(state: StateDep, key: KeyDep) -> dict:
    """The caller's jobs, oldest first."""
    jobs = await asyncio.to_thread(_runner(state).store.list, key or "")
    return {"object": "list", "data": [describe(job) for job in jobs]}


def job_view(runner: JobRunner, job: Job) -> dict:
    """describe(job), with each chapter's start and end in the audiobook (seconds) once it has succeeded."""
    view = describe(job)
    if job.status == "succeeded":
        try:
            marks = json.loads(runner.output(job).with_name("manifest.json").read_text(encoding="utf-8"))["chapters"]
        except (OSError, ValueError, KeyError):
            marks = []
        for chapter, mark in zip(view["chapters"], marks, strict=False):
            chapter["start"], chapter["end"] = mark["start"], mark["end"]
    return view


def _job(state: ServerState, job_id: str) -> Job:
    job = _runner(state).store.get(job_id)
    if job is None:
        raise NotFound(f"there is no job '{job_id}' (finished jobs expire after a while)", param="job_id")
    return job


async def existing_job(job_id: str, state: StateDep) -> Job:
    """The job the path names (404 before any response starts, events included)."""
    return await asyncio.to_thread(_job, state, job_id)


JobDep = Annotated[Job, Depends(existing_job)]


@router.get("/v1/audio/jobs/{job_id}")
@policy(PER_JOB)
async def get_job(job: JobDep, state: StateDep) -> dict:
    """The job's status, progress (characters and chapters done of total, audio seconds, ETA) and chapters
    (title, status, audio seconds, the replica that read it; once it has succeeded, where each starts and
    ends in the audiobook)."""
    return await asyncio.to_thread(job_view, _runner(state), job)


@router.get("/v1/audio/jobs/{job_id}/events", response_class=EventSourceResponse)
@policy(PER_JOB)
async def job_events(job: JobDep, state: StateDep) -> AsyncIterator[ServerSentEvent]:
    """The job as server-sent events: one `job` event at once and at every change, until it has finished."""
    shown = None
    store = _runner(state).store
    while True:
        current = await asyncio.to_thread(job_view, _runner(state), job)
        progress = {k: v for k, v in current.items()}
        progress["progress"] = {k: v for k, v in current["progress"].items() if k != "eta_seconds"}
        if progress != shown:  # the ETA alone ticking is no news
            shown = progress
            yield ServerSentEvent(event="job", data=current)
        if job.status in FINISHED:
            return
        await asyncio.sleep(EVENT_POLL_SECONDS)
        job = await asyncio.to_thread(store.get, job.id)
        if job is None:  # deleted meanwhile
            return


def _finished_file(state: ServerState, job: Job, which: Literal["content", "subtitles"]) -> FileResponse:
    job_id = job.id
    runner = _runner(state)
    if job.status != "succeeded":
        raise JobNotFinished(f"job '{job_id}' is {job.status}: its {which} is there once it has succeeded",
                             param="job_id")
    path = runner.output(job) if which == "content" else runner.subtitles(job)
    if path is None or not path.is_file():
        raise NotFound(f"job '{job_id}' has no subtitles (ask for them with subtitles=vtt or srt)", param="job_id")
    stem = (job.request.get("name") or "").rsplit(".", 1)[0] or job.id
    return FileResponse(path, media_type=CONTENT_TYPES[path.suffix[1:]],
                        filename=save_as(stem + path.suffix, path.name), headers={"Cache-Control": "no-store"})


@router.get("/v1/audio/jobs/{job_id}/content", response_class=FileResponse,
            responses={200: {"description": "The audiobook (Range requests work)."}})
@policy(PER_JOB)
async def job_content(job: JobDep, state: StateDep) -> FileResponse:
    """The finished audiobook (M4B with chapters, MP3, Opus or WAV); Range requests work."""
    return _finished_file(state, job, "content")


@router.get("/v1/audio/jobs/{job_id}/subtitles", response_class=FileResponse)
@policy(PER_JOB)
async def job_subtitles(job: JobDep, state: StateDep) -> FileResponse:
    """The finished book's subtitles (WebVTT or SRT, from the word times), when the job asked for them."""
    return _finished_file(state, job, "subtitles")


@router.delete("/v1/audio/jobs/{job_id}")
@policy(PER_JOB)
async def delete_job(job: JobDep, state: StateDep) -> dict:
    """Cancel a queued or running job: its reading stops at once (the model call running then ends first), and
    the audio read so far is removed; the job stays, as cancelled, until deleted. A finished job is deleted with
    its files."""
    runner, job_id = _runner(state), job.id
    if job.status in FINISHED:
        await asyncio.to_thread(runner.remove, job_id)
        return {"id": job_id, "object": "audio.job.deleted", "deleted": True}
    await asyncio.to_thread(runner.cancel, job_id)
    runner.notify()  # this replica's reading of it stops now; others' within a second
    return describe(await asyncio.to_thread(_job, state, job_id))


__all__ = ["router", "runner_for", "start", "JobRequest"]

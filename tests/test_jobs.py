"""Book jobs: both stores (SQLite in the jobs folder, Redis for a fleet) behave alike, chapters are claimed by
one replica at a time and go back to the queue when a claim lapses; two runners on one store read one book
with the real model."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from books import CHAPTERS, make_epub
from support import chapters
from kokoro_speech.errors import UnsafeDocument, UnsupportedDocument
from kokoro_speech.jobs.runner import JobOptions, JobRunner, describe
from kokoro_speech.jobs.speakers import EngineSpeaker
from kokoro_speech.jobs.store import ChapterState, Job, RedisJobStore, SQLiteJobStore


@pytest.fixture(params=["sqlite", "redis"])
def store(request, tmp_path):
    if request.param == "sqlite":
        made = SQLiteJobStore(tmp_path / "jobs.sqlite3")
    else:
        made = RedisJobStore(request.getfixturevalue("redis_url"), prefix=f"test:{time.time_ns()}:")
    yield made
    made.close()


def job(owner: str = "key-a", chapters: int = 3) -> Job:
    return Job(owner, {"voice": "af_heart"}, [ChapterState(f"Chapter {i}", 100) for i in range(1, chapters + 1)])


@pytest.mark.unit
def test_jobs_belong_to_their_owner(store):
    mine, theirs = job("key-a"), job("key-b")
    store.create(mine)
    store.create(theirs)
    assert [j.id for j in store.list("key-a")] == [mine.id]
    assert store.get(mine.id).chapters[1].title == "Chapter 2" and store.get("job_missing") is None


@pytest.mark.unit
def test_each_chapter_is_claimed_once_across_replicas(store):
    first, second = job(chapters=4), job(chapters=2)
    store.create(first)
    store.create(second)
    claims: list = []
    lock = threading.Lock()

    def replica(name: str) -> None:
        while (claim := store.claim(name)) is not None:
            with lock:
                claims.append((claim.job_id, claim.chapter, name))

    threads = [threading.Thread(target=replica, args=(f"replica-{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted((j, c) for j, c, _ in claims) == sorted(
        [(first.id, i) for i in range(4)] + [(second.id, i) for i in range(2)])
    assert store.get(first.id).status == "running"
    assert {c.worker for c in store.get(first.id).chapters} <= {"replica-0", "replica-1", "replica-2"}


@pytest.mark.unit
def test_chapters_finish_in_any_order_and_the_last_one_says_so(store):
    book = job(chapters=2)
    store.create(book)
    claims = [store.claim("a"), store.claim("b")]
    assert store.renew(claims[0], "a", characters_done=40, audio_seconds=3.5)
    assert not store.renew(claims[0], "b", characters_done=40, audio_seconds=3.5), "b holds no claim on it"
    assert store.get(book.id).chapters[0].characters_done == 40
    assert store.finish_chapter(claims[1], "b", "succeeded", audio_seconds=9.0) == 1
    assert store.finish_chapter(claims[0], "a", "succeeded", audio_seconds=8.0) == 0
    done = store.get(book.id)
    assert [(c.status, c.worker, c.audio_seconds) for c in done.chapters] == [("succeeded", "a", 8.0),
                                                                              ("succeeded", "b", 9.0)]
    assert store.claim("c") is None


@pytest.mark.unit
def test_a_lapsed_claim_goes_back_to_the_queue(store):
    book = job(chapters=1)
    store.create(book)
    lost = store.claim("dies", lease=0.2)
    assert lost is not None and store.claim("other") is None
    time.sleep(0.3)
    again = store.claim("other")
    assert again is not None and (again.job_id, again.chapter) == (lost.job_id, lost.chapter)
    assert not store.renew(lost, "dies", characters_done=1, audio_seconds=1.0)


@pytest.mark.unit
def test_a_released_chapter_is_queued_again_at_once(store):
    """A replica that stops gives its chapter back: shown as queued, and claimed by the next replica without
    waiting for the lease to lapse."""
    book = job(chapters=1)
    store.create(book)
    held = store.claim("stopping")
    assert store.get(book.id).chapters[0].status == "running" and store.claim("other") is None
    assert store.release("stopping") == 1 and store.release("stopping") == 0
    assert store.get(book.id).chapters[0].status == "queued"
    again = store.claim("other")
    assert again == held and store.get(book.id).chapters[0].worker == "other"


@pytest.mark.unit
def test_the_last_chapter_s_claim_holds_the_assembly_until_the_job_ends(store):
    """The replica that reads the last chapter writes the audiobook under that chapter's claim: stopped (or
    killed, its lease lapsing) while writing, it leaves the claim to the next taker, which finds every chapter
    read and still shown so; once the job has ended nothing of it is queued or claimed."""
    book = job(chapters=1)
    store.create(book)
    claim = store.claim("writer")
    assert store.finish_chapter(claim, "writer", "succeeded", audio_seconds=5.0) == 0
    assert store.claim("other") is None, "the writer holds it"
    assert store.renew(claim, "writer", characters_done=100, audio_seconds=5.0), "renewed while writing"
    assert store.release("writer") == 1
    assert store.claim("other") == claim
    shown = store.get(book.id)
    assert shown.status == "running" and (shown.chapters[0].status, shown.chapters[0].worker) == ("succeeded",
                                                                                                   "writer")
    store.set_status(book.id, "succeeded")
    assert store.release("other") == 0 and store.claim("third") is None
    assert not store.renew(claim, "other", characters_done=100, audio_seconds=5.0)


@pytest.mark.unit
def test_cancel_and_expiry(store):
    book, other = job(), job()
    store.create(book)
    store.create(other)
    assert store.cancel(book.id) and not store.cancel(book.id)
    assert store.get(book.id).status == "cancelled"
    assert {c.status for c in store.get(book.id).chapters} == {"cancelled"}
    assert {store.claim("w").job_id for _ in range(3)} == {other.id}, "a cancelled job's chapters are not read"
    assert store.expired(time.time() + 1) == [book.id]
    store.delete(book.id)
    assert store.get(book.id) is None and store.list("key-a") == [store.get(other.id)]


@pytest.mark.unit
def test_a_running_job_shows_its_progress_and_eta(store):
    book = job(chapters=2)
    book.created = 1000.0
    store.create(book)
    claim = store.claim("replica-a")
    store.renew(claim, "replica-a", characters_done=50, audio_seconds=4.0)
    shown = describe(store.get(book.id), now=1010.0)
    assert shown["status"] == "running" and shown["progress"]["characters_done"] == 50
    assert shown["progress"]["eta_seconds"] == pytest.approx(30.0)  # 50 of 200 characters in 10 s
    assert shown["chapters"][0] == {"title": "Chapter 1", "status": "running", "audio_seconds": 4.0,
                                    "worker": "replica-a"}


@pytest.mark.unit
def test_a_bad_upload_is_refused_before_it_is_queued(tmp_path):
    runner = JobRunner(SQLiteJobStore(tmp_path / "jobs.sqlite3"), tmp_path / "jobs", speaker_for=None)
    with pytest.raises(UnsupportedDocument):
        runner.submit(b"\x00\x01", "book.docx", "key-a", JobOptions())
    from books import rezip

    source = make_epub(tmp_path / "b.epub", cover=False)
    bad = rezip(source, tmp_path / "bad.epub", add={"../../../etc/cron.d/x": b"* * * * * root true"})
    with pytest.raises(UnsafeDocument):
        runner.submit(bad.read_bytes(), "../../bad.epub", "key-a", JobOptions())
    assert runner.store.list("key-a") == [] and not any((tmp_path / "jobs").iterdir())
    assert not (tmp_path / "etc").exists()


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_two_replicas_read_one_book(engine, tmp_path, kind, request, monkeypatch):
    shared = tmp_path / "jobs"
    if kind == "sqlite":
        stores = [SQLiteJobStore(shared / "jobs.sqlite3") for _ in range(2)]
    else:
        url = request.getfixturevalue("redis_url")
        stores = [RedisJobStore(url, prefix=f"two:{time.time_ns()}:")] * 2
    runners = [JobRunner(store, shared, lambda book: EngineSpeaker(engine, book.voice, book.language, words=True),
                         worker=f"replica-{i}") for i, store in enumerate(stores)]
    source = make_epub(tmp_path / "keeper.epub")
    submitted = runners[0].submit(source.read_bytes(), "keeper.epub", "key-a", JobOptions(subtitles="vtt"))

    def encoded_again(*args, **kwargs):
        raise AssertionError("the M4B was encoded at the end, not along the reading")

    monkeypatch.setattr("kokoro_speech.jobs.audiobook.Audiobook.audio", encoded_again)  # whichever one assembles
    assert submitted.status == "queued" and [c.title for c in submitted.chapters][0] == "The Lighthouse"

    async def both() -> None:
        stop = asyncio.Event()

        async def watch() -> None:
            while runners[1].store.get(submitted.id).status not in ("succeeded", "failed"):
                await asyncio.sleep(0.1)
            stop.set()

        await asyncio.wait_for(asyncio.gather(watch(), *(r.run(stop) for r in runners)), timeout=240)

    asyncio.run(both())
    done = runners[1].store.get(submitted.id)  # any replica answers
    for store in set(stores):
        store.close()
    assert done.status == "succeeded", done.error
    assert {c.worker for c in done.chapters} == {"replica-0", "replica-1"}, "both replicas read chapters"
    assert all(c.audio_seconds > 1 and c.status == "succeeded" for c in done.chapters)
    output = runners[1].output(done)
    assert done.output_bytes == output.stat().st_size
    assert chapters(output) == ["The Lighthouse", "The Storm", "Morning"]
    assert "Rain came sideways" in (output.parent / "book.vtt").read_text()
    assert (output.parent / "manifest.json").exists()
    shown = describe(done)
    assert shown["object"] == "audio.job" and shown["status"] == "succeeded"
    assert shown["progress"]["chapters_done"] == shown["progress"]["chapters_total"] == 3
    assert shown["progress"]["characters_done"] == shown["progress"]["characters_total"] == done.characters
    assert [c["worker"] for c in shown["chapters"]] == [c.worker for c in done.chapters]


def test_a_replica_stopped_while_writing_the_audiobook_leaves_it_to_the_next(engine, tmp_path):
    """Every chapter read, the first replica stops while writing the audiobook (its stop's grace ran out): the
    job stays running, its claim goes back, and the next replica writes the book from the saved pieces without
    reading a chapter again; the job's upload is removed once it has ended."""
    store = SQLiteJobStore(tmp_path / "jobs" / "jobs.sqlite3")
    speaker = lambda book: EngineSpeaker(engine, book.voice, book.language, words=False)  # noqa: E731
    first, second = (JobRunner(store, tmp_path / "jobs", speaker, worker=name) for name in ("first", "second"))
    source = make_epub(tmp_path / "keeper.epub", CHAPTERS[:1])
    submitted = first.submit(source.read_bytes(), "keeper.epub", "key-a", JobOptions())
    writing, stopped = threading.Event(), threading.Event()
    first._write = lambda *_: (writing.set(), stopped.wait(60))  # writes nothing, and not before the stop

    async def stopped_while_writing() -> None:
        reading = asyncio.ensure_future(first.run(asyncio.Event()))
        while not writing.is_set():
            await asyncio.sleep(0.05)
        reading.cancel()  # the lifespan's end after its grace: run() gives the claims back on its way out
        await asyncio.gather(reading, return_exceptions=True)
        stopped.set()

    asyncio.run(stopped_while_writing())
    held = store.get(submitted.id)
    assert held.status == "running" and held.chapters[0].status == "succeeded"
    calls = engine.scheduler.calls_done

    async def next_replica() -> None:
        stop = asyncio.Event()
        reading = asyncio.ensure_future(second.run(stop))
        while store.get(submitted.id).status == "running":
            await asyncio.sleep(0.05)
        stop.set()
        await reading

    asyncio.run(asyncio.wait_for(next_replica(), timeout=60))
    done = store.get(submitted.id)
    store.close()
    assert done.status == "succeeded", done.error
    assert engine.scheduler.calls_done == calls, "no chapter was read again"
    assert chapters(second.output(done)) == ["The Lighthouse"]
    assert not (tmp_path / "jobs" / submitted.id / submitted.request["source"]).exists(), "its upload is removed"

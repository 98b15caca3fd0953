"""The jobs API (api/jobs.py): a book uploaded, followed by its events and downloaded with Range, read by the real
model on the server's own engine; jobs belong to their key; limits and bad input refused before anything queues;
a restarted server finishes what the stopped one began."""

from __future__ import annotations

import gc
import json
import sqlite3
import time
import warnings

import httpx
import pytest
import redis
from fastapi.testclient import TestClient

from books import CHAPTERS, make_epub
from conftest import API_KEY, LiveServer
from support import Server, chapters, saved_pieces, wait_until
from kokoro_speech.api.app import create_app
from kokoro_speech.config import Settings
from kokoro_speech.jobs.store import RedisJobStore, SQLiteJobStore

AUTH = {"authorization": f"Bearer {API_KEY}"}
OTHER = {"authorization": "Bearer other-key"}


def keyed(settings: Settings, tmp_path, **more) -> Settings:
    return settings.model_copy(update={"api_keys": f"other-key,{API_KEY}", "jobs_dir": tmp_path / "jobs",
                                       "jobs_worker": "replica-a", **more})


def events(url: str, headers: dict, timeout: float = 240) -> list[dict]:
    """The job's server-sent events until the stream ends (the job finished)."""
    seen = []
    with httpx.stream("GET", url, headers=headers, timeout=timeout) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                seen.append(json.loads(line.removeprefix("data: ")))
    return seen


def wait_for(client: httpx.Client, job_id: str, statuses: set[str], timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        shown = client.get(f"/v1/audio/jobs/{job_id}").json()
        if shown["status"] in statuses:
            return shown
        assert time.monotonic() < deadline, shown
        time.sleep(0.2)


def test_a_book_is_uploaded_followed_and_downloaded(settings, engine, tmp_path):
    book = make_epub(tmp_path / "keeper.epub")
    with LiveServer(create_app(keyed(settings, tmp_path), engine=engine)) as live:
        client = httpx.Client(base_url=live.url, headers=AUTH, timeout=60)
        created = client.post("/v1/audio/jobs", files={"file": ("keeper.epub", book.read_bytes())},
                              data={"voice": "af_heart", "response_format": "m4b", "subtitles": "vtt"})
        assert created.status_code == 202, created.text
        job = created.json()
        assert job["object"] == "audio.job" and job["status"] == "queued" and job["id"].startswith("job_")
        assert created.headers["location"] == f"/v1/audio/jobs/{job['id']}"
        assert [c["title"] for c in job["chapters"]] == ["The Lighthouse", "The Storm", "Morning"]
        # another key: as if there were no such job
        assert client.get(f"/v1/audio/jobs/{job['id']}", headers=OTHER).status_code == 404
        assert client.get("/v1/audio/jobs", headers=OTHER).json()["data"] == []
        assert client.get(f"/v1/audio/jobs/{job['id']}/content").status_code == 409  # not read yet

        seen = events(f"{live.url}/v1/audio/jobs/{job['id']}/events", AUTH)
        assert seen[-1]["status"] == "succeeded", seen[-1]
        done = [e["progress"]["characters_done"] for e in seen]
        assert done == sorted(done) and len(set(done)) >= 3, "progress is reported as it grows"
        final = seen[-1]
        assert final["progress"]["chapters_done"] == final["progress"]["chapters_total"] == 3
        assert final["progress"]["audio_seconds"] > 5
        assert {c["worker"] for c in final["chapters"]} == {"replica-a"}
        starts = [c["start"] for c in client.get(f"/v1/audio/jobs/{job['id']}").json()["chapters"]]
        assert starts[0] == 0 and starts == sorted(starts) and len(set(starts)) == 3, "where each chapter starts"

        content = client.get(f"/v1/audio/jobs/{job['id']}/content")
        assert content.status_code == 200 and content.headers["content-type"] == "audio/mp4"
        assert 'filename="keeper.m4b"' in content.headers["content-disposition"]
        assert chapters(content.content) == ["The Lighthouse", "The Storm", "Morning"]
        part = client.get(f"/v1/audio/jobs/{job['id']}/content", headers={"range": "bytes=100-199"})
        assert part.status_code == 206 and part.content == content.content[100:200]
        subtitles = client.get(f"/v1/audio/jobs/{job['id']}/subtitles")
        assert subtitles.status_code == 200 and "Rain came sideways" in subtitles.text
        assert subtitles.text.startswith("WEBVTT")

        listed = client.get("/v1/audio/jobs").json()["data"]
        assert [j["id"] for j in listed] == [job["id"]]
        assert client.delete(f"/v1/audio/jobs/{job['id']}", headers=OTHER).status_code == 404
        assert client.delete(f"/v1/audio/jobs/{job['id']}").json()["deleted"] is True
        assert client.get(f"/v1/audio/jobs/{job['id']}").status_code == 404
        assert not (tmp_path / "jobs" / job["id"]).exists()


def test_long_text_as_json_and_a_cancelled_job(settings, engine, tmp_path):
    text = "\n\n".join(f"Paragraph {n} of a long letter, read in the background while people are served."
                       for n in range(1, 40))
    with LiveServer(create_app(keyed(settings, tmp_path), engine=engine)) as live:
        client = httpx.Client(base_url=live.url, headers=AUTH, timeout=60)
        short = client.post("/v1/audio/jobs", json={"input": "A short note.\n\nIt has two paragraphs.",
                                                    "response_format": "mp3", "voice": "am_michael"})
        assert short.status_code == 202, short.text
        cancelled = client.post("/v1/audio/jobs", json={"input": text, "response_format": "opus"}).json()
        assert client.delete(f"/v1/audio/jobs/{cancelled['id']}").json()["status"] == "cancelled"
        finished = wait_for(client, short.json()["id"], {"succeeded", "failed"})
        assert finished["status"] == "succeeded" and finished["voice"] == "am_michael"
        audio = client.get(f"/v1/audio/jobs/{finished['id']}/content")
        assert audio.headers["content-type"] == "audio/mpeg" and len(audio.content) > 1000
        assert client.get(f"/v1/audio/jobs/{finished['id']}/subtitles").status_code == 404  # none asked for
        assert client.get(f"/v1/audio/jobs/{cancelled['id']}").json()["status"] == "cancelled"


# a first chapter of six pieces (300 characters each at most), then two short ones
NIGHT = [("The Long Night", [f"Sentence {n} of the long night goes on, slowly, while the keeper watches the sea and "
                             "counts the ships." for n in range(1, 13)]),
         ("Dawn", ["The light came up over the water.", "She slept at last."]),
         ("Noon", ["Gulls argued on the rail.", "The kettle sang."])]


def store_settings(kind: str, request, database: int) -> dict:
    """The jobs store to use: SQLite in the jobs folder, or a database of its own on the tests' redis-server."""
    if kind == "sqlite":
        return {}
    return {"jobs_redis_url": request.getfixturevalue("redis_url").rsplit("/", 1)[0] + f"/{database}"}


def redis_clients(url: str) -> int:
    """Connections to the Redis database at `url`, other than this one."""
    with redis.Redis.from_url(url) as client:
        database = client.connection_pool.connection_kwargs.get("db", 0)
        return sum(int(c["db"]) == database for c in client.client_list()) - 1


def closed_store(state, url: str | None) -> bool:
    """Whether the app's job store let go of its connection (SQLite refuses a closed one; Redis counts clients)."""
    if url:
        wait_until(lambda: redis_clients(url) == 0, "the store's Redis connections are closed", timeout=5)
        return True
    with pytest.raises(sqlite3.ProgrammingError):
        state.jobs.store.get("job_x")
    return True


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_a_server_stopped_mid_book_saves_its_pieces_in_flight_and_the_next_start_redoes_none(
        settings, engine, tmp_path, kind, request):
    """Stopped (the lifespan's end, as SIGTERM makes it) with pieces of the first chapter in flight: they are
    finished and saved, so less than one piece's work is lost (what a resume redoes), the chapter goes back to
    the queue and the store is closed, with no ResourceWarning; the next start finishes the book."""
    configured = keyed(settings, tmp_path, **store_settings(kind, request, 1))
    url = configured.jobs_redis_url or None
    book = make_epub(tmp_path / "night.epub", NIGHT)
    made = engine.scheduler.samples_done
    gc.collect()  # what earlier tests left for the collector warns now, not inside this test's record
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        app = create_app(configured, engine=engine)
        with LiveServer(app) as live, httpx.Client(base_url=live.url, headers=AUTH, timeout=60) as client:
            job = client.post("/v1/audio/jobs", files={"file": ("night.epub", book.read_bytes())}).json()
            folder = tmp_path / "jobs" / job["id"]
            wait_until(lambda: saved_pieces(folder), "a piece is saved")
            at_stop = saved_pieces(folder)
        first_run = engine.scheduler.samples_done - made
        saved = saved_pieces(folder)
        assert closed_store(app.state.server, url)
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)], [str(w.message) for w in caught]
    assert saved.keys() > at_stop.keys(), "the pieces in flight at the stop were finished and saved"
    assert len(saved) < 6, "it stopped in the first chapter, not at its end"
    left = SQLiteJobStore(folder.parent / "jobs.sqlite3") if url is None else RedisJobStore(url)
    held = left.get(job["id"])
    assert held.status == "running" and held.chapters[0].status == "queued", "the chapter was given back"
    left.close()

    # what the first run made beyond what it saved would be made again by the next: less than one piece
    # (the model's audio is a little longer than a saved piece's, which has its edges trimmed)
    unsaved = first_run - sum(saved.values())
    assert unsaved < min(saved.values()), f"{unsaved / 24000:.1f} s of audio made and not saved"

    app = create_app(configured, engine=engine)
    with LiveServer(app) as live, httpx.Client(base_url=live.url, headers=AUTH, timeout=60) as client:
        finished = wait_for(client, job["id"], {"succeeded", "failed"}, timeout=180)
        assert finished["status"] == "succeeded", finished
        assert [c["worker"] for c in finished["chapters"]] == ["replica-a"] * 3
    assert closed_store(app.state.server, url)
    assert chapters(folder / "book.m4b") == ["The Long Night", "Dawn", "Noon"]


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_cancelling_a_running_job_frees_the_engine_at_once_and_removes_its_audio(
        settings, engine, tmp_path, kind, request):
    configured = keyed(settings, tmp_path, **store_settings(kind, request, 2))
    book = make_epub(tmp_path / "night.epub", NIGHT)
    scheduler = engine.scheduler
    with LiveServer(create_app(configured, engine=engine)) as live, \
            httpx.Client(base_url=live.url, headers=AUTH, timeout=60) as client:
        job = client.post("/v1/audio/jobs", files={"file": ("night.epub", book.read_bytes())}).json()
        folder = tmp_path / "jobs" / job["id"]
        wait_until(lambda: scheduler.running_calls, "the job's first model call starts")
        began = time.monotonic()
        wait_until(lambda: saved_pieces(folder), "a piece is saved")
        piece_seconds = time.monotonic() - began  # two pieces at once: about the time of one
        cancelled = time.monotonic()
        shown = client.delete(f"/v1/audio/jobs/{job['id']}").json()
        assert shown["status"] == "cancelled" and {c["status"] for c in shown["chapters"]} == {"cancelled"}
        wait_until(lambda: not scheduler.running_calls and not scheduler.queued_calls, "the engine is freed")
        freed = time.monotonic() - cancelled
        assert freed < piece_seconds + 1, f"freed {freed:.1f} s after the cancel; a piece takes {piece_seconds:.1f} s"
        calls = scheduler.calls_done
        wait_until(lambda: not list(folder.glob(".*.parts")), "its audio is removed", timeout=10)
        spoken = client.post("/v1/audio/speech", json={"model": "tts-1", "input": "Still here.", "voice": "af_heart",
                                                      "response_format": "pcm"})
        assert spoken.status_code == 200
        wait_until(lambda: scheduler.calls_done > calls, "the person's call is counted", timeout=5)
        assert scheduler.calls_done - calls == 1, "only the person's call ran after the cancel"
        after = client.get(f"/v1/audio/jobs/{job['id']}").json()
        assert after["status"] == "cancelled" and client.get(f"/v1/audio/jobs/{job['id']}/content").status_code == 409
        assert not list(folder.glob(".*.parts")), "no piece of it was saved after the cancel"
        assert client.delete(f"/v1/audio/jobs/{job['id']}").json()["deleted"] is True
        assert not folder.exists()


@pytest.mark.unit
def test_limits_and_bad_input_are_refused_before_anything_queues(tmp_path):
    settings = Settings(offline=True, _env_file=None, api_keys=f"other-key,{API_KEY}", jobs_dir=tmp_path / "jobs",
                        jobs_per_key=1, jobs_max_upload_bytes=4096)
    client = TestClient(create_app(settings))  # no lifespan: nothing is read, jobs stay queued
    assert client.post("/v1/audio/jobs", json={"input": "Hi."}).status_code == 401
    refused = client.post("/v1/audio/jobs", files={"file": ("book.docx", b"\x00\x01PK")}, headers=AUTH)
    assert refused.status_code == 415 and refused.json()["error"]["param"] == "file"
    too_big = client.post("/v1/audio/jobs", json={"input": "word " * 1000}, headers=AUTH)
    assert too_big.status_code == 413 and "--jobs-max-upload-bytes" in too_big.json()["error"]["message"]
    way_too_big = client.post("/v1/audio/jobs", files={"file": ("a.txt", b"a" * 200_000)}, headers=AUTH)
    assert way_too_big.status_code == 413
    wrong = client.post("/v1/audio/jobs", json={"input": "Hi.", "response_format": "flac"}, headers=AUTH)
    assert wrong.status_code == 400 and wrong.json()["error"]["param"] == "response_format"
    assert client.post("/v1/audio/jobs", json={"input": "  "}, headers=AUTH).status_code == 400
    assert client.get("/v1/audio/jobs", headers=AUTH).json()["data"] == []
    assert client.post("/v1/audio/jobs", json={"input": "Hi."}, headers=AUTH).status_code == 202
    second = client.post("/v1/audio/jobs", json={"input": "Hi again."}, headers=AUTH)
    assert second.status_code == 429 and "retry-after" in second.headers
    assert client.post("/v1/audio/jobs", json={"input": "Mine."}, headers=OTHER).status_code == 202
    assert client.get("/v1/audio/jobs/job_nonexistent", headers=AUTH).status_code == 404
    assert client.get("/v1/audio/jobs/job_nonexistent/events", headers=AUTH).status_code == 404


def test_two_server_processes_on_one_redis_read_one_book_and_either_answers(redis_url, tmp_path):
    """Fleet mode over HTTP: two `serve` processes with --jobs-redis-url and one jobs folder. A book submitted to
    one is read by both (a chapter each at least), and either answers its status, events and download; each
    stops on SIGTERM with its store closed and no ResourceWarning."""
    url = redis_url.rsplit("/", 1)[0] + "/3"
    book = make_epub(tmp_path / "keeper.epub", [*CHAPTERS, ("Evening", ["The lamp was lit again at dusk."])])
    servers = [Server(None, "--jobs-dir", str(tmp_path / "jobs"), "--jobs-redis-url", url, "--threads", "1",
                      "--jobs-worker", f"replica-{n}", env={"PYTHONWARNINGS": "always::ResourceWarning"},
                      start=False) for n in (1, 2)]
    try:
        for server in servers:
            server.start()
        for server in servers:
            server.wait_healthy()
        first, second = (httpx.Client(base_url=s.url, timeout=60) for s in servers)
        created = first.post("/v1/audio/jobs", files={"file": ("keeper.epub", book.read_bytes())},
                             data={"response_format": "mp3"})
        assert created.status_code == 202, created.text
        job_id = created.json()["id"]
        seen = events(f"{servers[1].url}/v1/audio/jobs/{job_id}/events", {})
        assert seen[-1]["status"] == "succeeded", seen[-1]
        views = [client.get(f"/v1/audio/jobs/{job_id}").json() for client in (first, second)]
        assert views[0] == views[1]
        assert {c["worker"] for c in views[0]["chapters"]} == {"replica-1", "replica-2"}, views[0]["chapters"]
        contents = [client.get(f"/v1/audio/jobs/{job_id}/content").content for client in (first, second)]
        assert contents[0] == contents[1] and len(contents[0]) > 10_000
        part = second.get(f"/v1/audio/jobs/{job_id}/content", headers={"range": "bytes=0-99"})
        assert part.status_code == 206 and part.content == contents[0][:100]
        assert [j["id"] for j in second.get("/v1/audio/jobs").json()["data"]] == [job_id]
        first.close()
        second.close()
    finally:
        codes = [server.stop() if server.running() else None for server in servers]
    assert codes == [0, 0]
    for server in servers:
        log = server.log.read_text(errors="replace")
        assert "ResourceWarning" not in log and "unclosed" not in log, log[-2000:]
    wait_until(lambda: redis_clients(url) == 0, "both servers closed their Redis connections", timeout=5)

"""The jobs API (api/jobs.py): a book uploaded, followed by its events and downloaded with Range, read by the real
model on the server's own engine; jobs belong to their key; limits and bad input refused before anything queues;
a restarted server finishes what the stopped one began."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from books import make_epub
from conftest import API_KEY, LiveServer
from support import chapters
from kokoro_speech.api.app import create_app
from kokoro_speech.config import Settings

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


def test_a_restarted_server_finishes_the_job_without_redoing_finished_pieces(settings, engine, tmp_path):
    parts = [(f"Part {n}", [f"Sentence {s} of part {n} is here to be read aloud." for s in range(1, 5)])
             for n in range(1, 4)]
    book = make_epub(tmp_path / "parts.epub", parts)
    configured = keyed(settings, tmp_path)
    with LiveServer(create_app(configured, engine=engine)) as live:
        client = httpx.Client(base_url=live.url, headers=AUTH, timeout=60)
        job = client.post("/v1/audio/jobs", files={"file": ("parts.epub", book.read_bytes())}).json()
        wait_for(client, job["id"], {"running"})
        deadline = time.monotonic() + 120
        while not any(p.suffix == ".json" for p in (tmp_path / "jobs" / job["id"]).rglob("*.json")):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    # stopped in mid-book: the next start (same jobs folder, same worker) goes on at once
    before = {p.name for p in (tmp_path / "jobs" / job["id"]).rglob("0*.json")}
    with LiveServer(create_app(configured, engine=engine)) as live:
        client = httpx.Client(base_url=live.url, headers=AUTH, timeout=60)
        assert client.get(f"/v1/audio/jobs/{job['id']}").json()["status"] in ("queued", "running", "succeeded")
        finished = wait_for(client, job["id"], {"succeeded", "failed"}, timeout=60)
        assert finished["status"] == "succeeded", finished
    assert before, "the first server finished some pieces before it stopped"
    assert chapters(tmp_path / "jobs" / job["id"] / "book.m4b") == ["Part 1", "Part 2", "Part 3"]


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

"""Whole files and kept files (Kokoro-FastAPI's stream: false, return_download_link, download_format,
return_timing and GET /v1/download), on the real model: the same audio, only to the key that made it, never
outside its folder, gone when it expires."""

from __future__ import annotations

import time

import httpx
import pytest

from conftest import API_KEY
from support import LiveServer, decode
from kokoro_speech.api.app import create_app

TEXT = "The library opens at nine. Please return your books on time."
MINE, THEIRS = ({"authorization": f"Bearer {key}"} for key in (API_KEY, "second-key"))


@pytest.fixture
def keyed(settings, engine, tmp_path):
    """A server with two keys and its own downloads folder."""
    own = settings.model_copy(update={"api_keys": f"{API_KEY},second-key", "downloads_dir": tmp_path / "kept"})
    with LiveServer(create_app(own, engine=engine)) as live:
        yield live


def speak(server, headers=MINE, **fields) -> httpx.Response:
    response = httpx.post(f"{server.url}/v1/audio/speech", headers=headers, timeout=120,
                          json={"input": TEXT, "voice": "af_heart", **fields})
    assert response.status_code == 200, response.text
    return response


def fetch(server, path: str, headers=MINE, **kwargs) -> httpx.Response:
    return httpx.get(f"{server.url}/v1{path}", headers=headers, timeout=30, **kwargs)


@pytest.mark.parametrize("response_format", ["wav", "mp3"])
def test_stream_false_answers_the_whole_file_with_its_length(keyed, response_format):
    response = speak(keyed, response_format=response_format, stream=False)
    assert int(response.headers["content-length"]) == len(response.content)
    assert decode(response.content, response_format).duration > 2.5


def test_a_kept_file_is_the_streamed_audio_served_with_a_name_and_ranges(keyed):
    streamed = speak(keyed, response_format="mp3", return_download_link=True)
    path = streamed.headers["x-download-path"]
    assert path.startswith("/download/") and path.endswith(".mp3")
    kept = fetch(keyed, path, params={"name": "my book/../chapter 1"})
    assert kept.status_code == 200 and kept.content == streamed.content
    assert kept.headers["content-type"] == "audio/mpeg"
    assert 'filename="my_book_.._chapter_1.mp3"' in kept.headers["content-disposition"]
    part = fetch(keyed, path, headers={**MINE, "range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == streamed.content[100:200]


def test_download_format_keeps_another_format_and_timing_has_the_chunks(keyed):
    streamed = speak(keyed, response_format="pcm", return_download_link=True, download_format="flac",
                     return_timing=True)
    path, timing_path = streamed.headers["x-download-path"], streamed.headers["x-timing-path"]
    assert path.endswith(".flac") and timing_path == f"{path}.json"
    pcm = decode(streamed.content, "pcm")
    flac = decode(fetch(keyed, path).content, "flac")
    assert flac.sample_rate == 24_000 and abs(flac.duration - pcm.duration) < 0.01
    chunks = fetch(keyed, timing_path).json()["chunks"]
    assert chunks and chunks[0]["start"] == 0
    assert all(a["end"] == b["start"] for a, b in zip(chunks, chunks[1:], strict=False))
    assert abs(chunks[-1]["end"] - pcm.duration) < 0.01
    spoken = " ".join(c["text"] for c in chunks).split()
    assert spoken[:3] == ["The", "library", "opens"] and "books" in spoken


def test_a_dialogue_keeps_its_file_and_timing_as_speech_does(keyed):
    turns = [{"voice": "af_heart", "text": "The library opens at nine."},
             {"voice": "am_adam", "text": "Please return your books on time."}]
    streamed = httpx.post(f"{keyed.url}/dev/dialogue", headers=MINE, timeout=120, json={
        "turns": turns, "response_format": "pcm", "return_download_link": True, "download_format": "wav",
        "return_timing": True})
    assert streamed.status_code == 200, streamed.text
    path, timing_path = streamed.headers["x-download-path"], streamed.headers["x-timing-path"]
    assert path.endswith(".wav") and timing_path == f"{path}.json"
    assert abs(decode(fetch(keyed, path).content, "wav").duration - decode(streamed.content, "pcm").duration) < 0.01
    spoken = " ".join(c["text"] for c in fetch(keyed, timing_path).json()["chunks"]).split()
    assert "library" in spoken and "books" in spoken
    assert fetch(keyed, path, headers=THEIRS).status_code == 404  # the key's own, as speech's


def test_stream_false_with_a_download_link(keyed):
    whole = speak(keyed, response_format="wav", stream=False, return_download_link=True)
    assert fetch(keyed, whole.headers["x-download-path"]).content == whole.content


def test_a_kept_file_is_its_keys_alone_and_names_cannot_leave_the_folder(keyed, tmp_path):
    path = speak(keyed, response_format="mp3", return_download_link=True).headers["x-download-path"]
    assert fetch(keyed, path, headers=THEIRS).status_code == 404  # another key: as if there were none
    assert fetch(keyed, path, headers={}).status_code == 401
    (tmp_path / "secret.txt").write_text("not yours")
    for name in ("..%2Fsecret.txt", "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "nothing-here-at-all.mp3",
                 path.split("/")[-1].replace(".mp3", ".wav")):
        response = fetch(keyed, f"/download/{name}")
        assert response.status_code == 404, (name, response.text)
        assert response.json()["error"]["type"] == "invalid_request_error"
    hidden = [p.name for p in (tmp_path / "kept").iterdir() if p.name.startswith(".")]
    for name in hidden:  # the owner records beside the files are never served
        assert fetch(keyed, f"/download/{name}").status_code == 404


def test_kept_files_expire_by_age_and_by_the_size_budget(settings, engine, tmp_path):
    own = settings.model_copy(update={"downloads_dir": tmp_path / "kept", "download_ttl_seconds": 1.0})
    with LiveServer(create_app(own, engine=engine)) as live:
        path = speak(live, headers={}, response_format="mp3", return_download_link=True).headers["x-download-path"]
        assert fetch(live, path, headers={}).status_code == 200
        time.sleep(1.5)
        assert fetch(live, path, headers={}).status_code == 404
    small = settings.model_copy(update={"downloads_dir": tmp_path / "small", "downloads_max_bytes": 30_000})
    with LiveServer(create_app(small, engine=engine)) as live:
        paths = [speak(live, headers={}, response_format="wav", return_download_link=True).headers["x-download-path"]
                 for _ in range(3)]  # each wav is ~200 kB: over the budget, so only the newest stays
        assert [fetch(live, p, headers={}).status_code for p in paths] == [404, 404, 200]
        assert len([p for p in (tmp_path / "small").iterdir()]) == 2


@pytest.mark.parametrize(("fields", "param"), [
    ({"download_format": "m4a", "return_download_link": True}, "download_format"),
    ({"stream": "yes"}, "stream"),
    ({"return_download_link": 1}, "return_download_link"),
    ({"stream": False, "stream_format": "sse"}, "stream"),
])
def test_bad_fields_are_a_400_naming_them(keyed, fields, param):
    response = httpx.post(f"{keyed.url}/v1/audio/speech", headers=MINE, timeout=60,
                          json={"input": "Hi.", "voice": "af_heart", **fields})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param

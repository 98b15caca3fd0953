"""Voices of one's own, on the real model: saved blends (survive a restart), dropped-in packs, the API's rules.

Each test builds its own registry over temporary folders and an engine that shares the session's model, so a
"restart" is a new registry and app reading the same folders.
"""

from __future__ import annotations

import logging
import shutil

import httpx
import numpy as np
import pytest

from conftest import API_KEY
from support import LiveServer
from kokoro_speech.api.app import create_app
from kokoro_speech.model.voices import load_voices
from kokoro_speech.model.packs import embedded_voices_dir, read_voice
from kokoro_speech.pipeline.engine import Engine

BLEND = "af_heart(2)+bm_george(1)"


def sharing(engine: Engine, registry) -> Engine:
    """An engine with its own voices and the session's model, G2P and scheduler."""
    return Engine(engine.model, registry, engine.phonemizers, engine.scheduler,
                  max_piece_frames=engine.max_piece_frames)


@pytest.fixture
def own_settings(settings, tmp_path):
    return settings.model_copy(update={"saved_voices_dir": tmp_path / "saved", "voices_dir": None,
                                       "voices_rescan_seconds": 0.0})


def serve(settings, engine):
    return LiveServer(create_app(settings, engine=sharing(engine, load_voices(settings))))


def pcm(server, voice: str) -> bytes:
    response = httpx.post(f"{server.url}/v1/audio/speech", timeout=120, json={
        "input": "Hello there.", "voice": voice, "response_format": "pcm"})
    assert response.status_code == 200, response.text
    return response.content


def test_a_saved_blend_is_a_voice_everywhere_and_survives_a_restart(own_settings, engine):
    with serve(own_settings, engine) as live:
        response = httpx.post(f"{live.url}/v1/audio/voices", json={"name": "narrator", "voice": BLEND})
        assert response.status_code == 201, response.text
        body = response.json()
        assert (body["object"], body["id"], body["name"], body["voice"]) == ("audio.voice", "narrator", "narrator",
                                                                           BLEND)
        assert isinstance(body["created_at"], int) and body["language"] == "en-us"
        # the saved voice speaks exactly as the blend it was made from, alone or in a new blend
        assert pcm(live, "narrator") == pcm(live, BLEND)
        assert pcm(live, "narrator(1)+af_sky(1)")
        listed = {v["id"]: v for v in httpx.get(f"{live.url}/v1/audio/voices").json()["voices"]}
        assert listed["narrator"]["saved"] and listed["narrator"]["blend"] == BLEND
        assert not listed["af_heart"]["saved"]
    pack = own_settings.saved_voices_dir / "narrator.npy"
    expected = (2 * read_voice(embedded_voices_dir() / "af_heart.pt")
                + read_voice(embedded_voices_dir() / "bm_george.pt")) / 3
    assert np.allclose(read_voice(pack), expected, atol=1e-6)  # a plain voice pack any Kokoro tool reads
    assert not [p for p in pack.parent.iterdir() if p.suffix == ".tmp"], "a temporary file was left behind"

    with serve(own_settings, engine) as restarted:  # a new process would read the same folder
        assert pcm(restarted, "narrator") == pcm(restarted, BLEND)
        deleted = httpx.delete(f"{restarted.url}/v1/audio/voices/narrator")
        assert deleted.json() == {"object": "audio.voice.deleted", "id": "narrator", "deleted": True}
        gone = httpx.post(f"{restarted.url}/v1/audio/speech", json={"input": "Hi.", "voice": "narrator"})
        assert gone.status_code == 400 and gone.json()["error"]["param"] == "voice"
        assert httpx.delete(f"{restarted.url}/v1/audio/voices/narrator").status_code == 404
    assert not pack.exists()


def test_a_british_blend_keeps_its_language(own_settings, engine):
    registry = load_voices(own_settings)
    registry.save("storyteller", "bm_george+bf_emma")
    assert load_voices(own_settings).resolve("storyteller").language == "b"


@pytest.mark.parametrize(("name", "status", "code"), [
    ("../evil", 400, "invalid_name"), ("a/b", 400, "invalid_name"), (".hidden", 400, "invalid_name"),
    ("x" * 65, 400, "invalid_name"), ("", 400, "invalid_name"), ("name with space", 400, "invalid_name"),
    ("af_heart", 409, "voice_exists"), ("AF_HEART", 409, "voice_exists"), ("alloy", 409, "voice_exists"),
])
def test_names_are_validated(own_settings, engine, name, status, code):
    with serve(own_settings, engine) as live:
        response = httpx.post(f"{live.url}/v1/audio/voices", json={"name": name, "voice": "af_heart"})
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code and response.json()["error"]["param"] == "name"
    assert not list(own_settings.saved_voices_dir.glob("*")) if own_settings.saved_voices_dir.exists() else True


def test_saving_twice_deleting_a_builtin_and_bad_blends_are_refused(own_settings, engine):
    with serve(own_settings, engine) as live:
        url = f"{live.url}/v1/audio/voices"
        assert httpx.post(url, json={"name": "duo", "voice": "af_bella+af_sky"}).status_code == 201
        again = httpx.post(url, json={"name": "duo", "voice": "af_heart"})
        assert again.status_code == 409 and "DELETE" in again.json()["error"]["message"]
        builtin = httpx.delete(f"{url}/af_heart")
        assert builtin.status_code == 400 and builtin.json()["error"]["code"] == "not_a_saved_voice"
        unknown = httpx.post(url, json={"name": "solo", "voice": "nobody(1)"})
        assert unknown.status_code == 400 and unknown.json()["error"]["param"] == "voice"
        missing = httpx.post(url, json={"name": "solo"})
        assert missing.status_code == 400 and missing.json()["error"]["param"] == "voice"


def test_openai_cloning_form_is_a_clear_400(own_settings, engine):
    with serve(own_settings, engine) as live:
        url = f"{live.url}/v1/audio/voices"
        form = httpx.post(url, data={"name": "me", "consent": "yes"}, files={"audio_sample": ("me.wav", b"RIFF")})
        assert form.status_code == 400
        error = form.json()["error"]
        assert (error["param"], error["code"]) == ("audio_sample", "voice_cloning_unsupported")
        assert "blend" in error["message"]
        prompt = httpx.post(url, json={"name": "me", "voice": "af_heart", "prompt": "a pirate"})
        assert prompt.status_code == 400 and prompt.json()["error"]["param"] == "prompt"


def test_the_openai_sdk_deletes_and_is_refused_cloning(own_settings, engine):
    from openai import BadRequestError, OpenAI

    with serve(own_settings, engine) as live:
        client = OpenAI(base_url=f"{live.url}/v1", api_key="unused")
        with pytest.raises(BadRequestError, match="blend"):
            client.audio.voices.create(name="me", audio_sample=("me.wav", b"RIFF"), consent="yes")
        httpx.post(f"{live.url}/v1/audio/voices", json={"name": "sdk_voice", "voice": "af_heart"})
        assert client.audio.voices.delete("sdk_voice").deleted
        # OpenAI's consent recordings for cloned voices: refused alike, saying what is offered instead
        for call in (lambda: client.audio.voice_consents.create(language="en-US", name="me",
                                                               recording=("me.wav", b"RIFF")),
                     client.audio.voice_consents.list, lambda: client.audio.voice_consents.retrieve("c1"),
                     lambda: client.audio.voice_consents.delete("c1")):
            with pytest.raises(BadRequestError, match="blend"):
                call()


def test_saving_needs_a_key_when_keys_are_configured(own_settings, engine):
    keyed = own_settings.model_copy(update={"api_keys": API_KEY})
    with serve(keyed, engine) as live:
        url = f"{live.url}/v1/audio/voices"
        assert httpx.post(url, json={"name": "mine", "voice": "af_heart"}).status_code == 401
        assert httpx.delete(f"{url}/mine").status_code == 401
        ok = httpx.post(url, json={"name": "mine", "voice": "af_heart"}, headers={"Authorization": f"Bearer {API_KEY}"})
        assert ok.status_code == 201
    assert (own_settings.saved_voices_dir / "mine.npy").exists()


def test_voice_files_dropped_in_are_picked_up_and_corrupt_ones_skipped(own_settings, engine, tmp_path, caplog):
    folder = tmp_path / "voices"
    folder.mkdir()
    settings = own_settings.model_copy(update={"voices_dir": folder})
    with serve(settings, engine) as live:
        def ids() -> set[str]:
            return {v["id"] for v in httpx.get(f"{live.url}/v1/audio/voices").json()["voices"]}

        assert "my_bella" not in ids()
        shutil.copy(embedded_voices_dir() / "af_bella.pt", folder / "my_bella.pt")
        assert "my_bella" in ids()  # no restart
        assert pcm(live, "my_bella") == pcm(live, "af_bella")
        np.save(folder / "my_npy.npy", read_voice(embedded_voices_dir() / "bm_george.pt"))
        (folder / "broken.pt").write_bytes(b"not a zip")
        (folder / "short.bin").write_bytes(b"\0" * 400)
        with caplog.at_level(logging.WARNING, logger="kokoro_speech.model.saved_voices"):
            listed = ids()
            assert httpx.get(f"{live.url}/health").status_code == 200
        assert "my_npy" in listed and "broken" not in listed and "short" not in listed
        warned = " ".join(r.getMessage() for r in caplog.records)
        assert "broken.pt" in warned and "short.bin" in warned
        bad = httpx.post(f"{live.url}/v1/audio/speech", json={"input": "Hi.", "voice": "broken"})
        assert bad.status_code == 400
        (folder / "my_bella.pt").unlink()
        assert "my_bella" not in ids()


@pytest.mark.parametrize("shared", [False, True])
def test_a_saved_voice_belongs_to_the_key_that_saved_it(own_settings, engine, shared):
    """Another key may not delete it (404, as if it did not exist), nor use or list it unless
    --share-saved-voices says so."""
    keyed = own_settings.model_copy(update={"api_keys": f"{API_KEY},second-key", "share_saved_voices": shared})
    mine, theirs = ({"authorization": f"Bearer {key}"} for key in (API_KEY, "second-key"))
    with serve(keyed, engine) as live:
        saved = httpx.post(f"{live.url}/v1/audio/voices", headers=mine, json={"name": "mine", "voice": BLEND})
        assert saved.status_code == 201, saved.text

        def listed(headers) -> set[str]:
            return {v["id"] for v in httpx.get(f"{live.url}/v1/audio/voices", headers=headers).json()["voices"]}

        assert "mine" in listed(mine) and ("mine" in listed(theirs)) == shared
        speech = {"input": "Hello there.", "voice": "mine", "response_format": "pcm"}
        used = httpx.post(f"{live.url}/v1/audio/speech", headers=theirs, json=speech, timeout=120)
        assert used.status_code == (200 if shared else 400), used.text
        if not shared:
            assert used.json()["error"]["param"] == "voice"
        refused = httpx.delete(f"{live.url}/v1/audio/voices/mine", headers=theirs)
        assert refused.status_code == 404 and refused.json()["error"]["param"] == "voice_id"
        assert httpx.post(f"{live.url}/v1/audio/speech", headers=mine, json=speech, timeout=120).status_code == 200
        assert httpx.delete(f"{live.url}/v1/audio/voices/mine", headers=mine).status_code == 200

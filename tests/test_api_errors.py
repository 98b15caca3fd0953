"""The request contract: every error case gets its status and OpenAI's error body naming the parameter."""

from __future__ import annotations

import httpx
import pytest

from conftest import API_KEY

GOOD = {"model": "kokoro-82m", "input": "Hello there.", "voice": "af_heart", "response_format": "wav"}


def post(server, body=None, **kwargs) -> httpx.Response:
    return httpx.post(f"{server.url}/v1/audio/speech", json=body, timeout=60, **kwargs)


def assert_error(response: httpx.Response, status: int, param: str | None, type_: str = "invalid_request_error"):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == type_
    assert error["param"] == param, error
    assert error["message"]
    return error


@pytest.mark.parametrize(
    "change, param",
    [
        ({"model": "whisper-1"}, "model"),
        ({"model": 3}, "model"),
        ({"response_format": "ogg"}, "response_format"),
        ({"response_format": None}, "response_format"),
        ({"speed": 0.2}, "speed"),
        ({"speed": 4.01}, "speed"),
        ({"speed": "fast"}, "speed"),
        ({"input": ""}, "input"),
        ({"input": "x" * 4097}, "input"),
        ({"input": 42}, "input"),
        ({"input": ["a", "b"]}, "input"),
        ({"voice": "af_nobody"}, "voice"),
        ({"voice": 7}, "voice"),
        ({"voice": {"name": "alloy"}}, "voice"),
        ({"voice": "af_heart+"}, "voice"),
        ({"voice": "af_heart(0)+bf_emma"}, "voice"),
        ({"voice": "af_heart+jf_alpha"}, "voice"),  # languages mixed, and no lang_code to say which to read
        ({"lang_code": "xx"}, "lang_code"),
        ({"instructions": 5}, "instructions"),
        ({"stream_format": "chunks"}, "stream_format"),
        ({"input": "🙂 🙂 … !!!"}, "input"),  # nothing speakable
        ({"input": "9" * 4096}, "input"),  # 4,096 digits read one by one: far too much speech
        ({"input": "Hello", "lexicon": {"Hello": "h<>"}}, "lexicon"),
    ],
)
def test_bad_parameter_is_400_naming_it(server, change, param):
    assert_error(post(server, {**GOOD, **change}), 400, param)


@pytest.mark.parametrize("missing", ["input", "voice"])
def test_missing_required_parameter(server, missing):
    body = {k: v for k, v in GOOD.items() if k != missing}
    error = assert_error(post(server, body), 400, missing)
    assert missing in error["message"]


def test_defaults_model_and_mp3_and_ignores_extras(server):
    response = post(server, {"input": "Hi.", "voice": "alloy", "instructions": "Speak calmly.", "foo": {"bar": 1}})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/mpeg"
    for model in ("tts-1", "tts-1-hd", "gpt-4o-mini-tts"):
        assert post(server, {**GOOD, "model": model}).status_code == 200


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b"null", b'"text"', b"\xff\xfe"])
def test_malformed_body_is_400(server, content):
    response = httpx.post(f"{server.url}/v1/audio/speech", content=content,
                          headers={"content-type": "application/json"}, timeout=30)
    assert_error(response, 400, None)


def test_huge_body_is_413(server):
    response = httpx.post(f"{server.url}/v1/audio/speech", content=b"x" * (2 * 1024 * 1024),
                          headers={"content-type": "application/json"}, timeout=30)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


def test_huge_chunked_body_is_413(server):
    def chunks():
        for _ in range(40):
            yield b"x" * 65536

    response = httpx.post(f"{server.url}/v1/audio/speech", content=chunks(),
                          headers={"content-type": "application/json"}, timeout=30)
    assert response.status_code == 413


def test_unknown_route_is_404_and_wrong_method_405(server):
    response = httpx.get(f"{server.url}/v1/nothing-here")
    assert_error(response, 404, None)
    response = httpx.get(f"{server.url}/v1/audio/speech")
    assert_error(response, 405, None)


def test_models_list_in_openai_shape(server):
    body = httpx.get(f"{server.url}/v1/models").json()
    assert body["object"] == "list"
    ids = [m["id"] for m in body["data"]]
    assert ids[0] == "kokoro-82m" and {"tts-1", "tts-1-hd", "gpt-4o-mini-tts"} <= set(ids)
    assert all(m["object"] == "model" and "created" in m and "owned_by" in m for m in body["data"])
    assert httpx.get(f"{server.url}/v1/models/tts-1").json()["id"] == "tts-1"
    assert_error(httpx.get(f"{server.url}/v1/models/nope"), 404, "model")


def test_voices_list_has_languages_genders_and_aliases(server):
    voices = {v["id"]: v for v in httpx.get(f"{server.url}/v1/audio/voices").json()["voices"]}
    assert len(voices) == 54
    assert voices["bm_george"]["language"] == "en-gb" and voices["bm_george"]["gender"] == "male"
    assert voices["af_heart"]["gender"] == "female" and "coral" in voices["af_heart"]["openai_aliases"]
    aliases = {a for v in voices.values() for a in v["openai_aliases"]}
    assert aliases == {"alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer",
                       "verse", "marin", "cedar"}


def test_health_and_security_headers(server):
    response = httpx.get(f"{server.url}/health")
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-request-id"]
    assert "access-control-allow-origin" not in response.headers  # CORS is off unless configured
    assert httpx.get(f"{server.url}/health", headers={"x-request-id": "abc-123"}).headers["x-request-id"] == "abc-123"


def test_auth_missing_wrong_and_right_key(keyed_server):
    assert_error(post(keyed_server, GOOD), 401, None)
    assert_error(post(keyed_server, GOOD, headers={"authorization": "Bearer wrong"}), 401, None)
    assert_error(post(keyed_server, GOOD, headers={"authorization": API_KEY}), 401, None)
    assert_error(httpx.get(f"{keyed_server.url}/v1/models"), 401, None)
    ok = post(keyed_server, GOOD, headers={"authorization": f"Bearer {API_KEY}"})
    assert ok.status_code == 200 and ok.content[:4] == b"RIFF"
    assert httpx.get(f"{keyed_server.url}/health").status_code == 200  # probes need no key


def test_openapi_schema_and_docs_page_work_offline(server):
    schema = httpx.get(f"{server.url}/openapi.json").json()
    assert "/v1/audio/speech" in schema["paths"] and "/v1/audio/phonemize" in schema["paths"]
    page = httpx.get(f"{server.url}/docs").text
    assert "/docs-assets/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    assert httpx.get(f"{server.url}/docs-assets/swagger-ui-bundle.js").status_code == 200

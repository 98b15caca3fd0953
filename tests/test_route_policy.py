"""Route policy (api/policy.py): every route declares one, and auth, the per-key limits and ownership follow it.

No model: the app is built without loading one (its routes answer 503 until a model is warm), which is enough to
see the guard that runs before every route.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse
from starlette.routing import WebSocketRoute

from conftest import API_KEY
from kokoro_speech.api.app import create_app
from kokoro_speech.api.policy import SYNTHESIS, every_route, policy, policy_of, undeclared
from kokoro_speech.config import Settings
from kokoro_speech.errors import NothingToSay
from kokoro_speech.text.normalize import DEFAULT as DEFAULT_READING

pytestmark = pytest.mark.unit

AUTH = {"authorization": f"Bearer {API_KEY}"}


def build(**settings) -> TestClient:
    """The app with keys, without its lifespan (no model is loaded: the engine stays None)."""
    return TestClient(create_app(Settings(offline=True, _env_file=None, api_keys=f"{API_KEY},second-key",
                                          **settings)))


def routes(client: TestClient):
    return list(every_route(client.app.routes))


def synthesizing(client: TestClient):
    return [r for r in routes(client) if policy_of(r).synthesizes]


def test_every_route_declares_a_policy_and_one_without_is_found():
    client = build()
    assert undeclared(client.app.routes) == []
    # the routes that synthesize today: the next one added must say so too (this list only grows)
    assert {r.path for r in synthesizing(client)} >= {
        "/v1/audio/speech", "/dev/captioned_speech", "/v1/audio/speech/stream", "/dev/generate_from_phonemes",
        "/v1/text-to-speech/{voice_id}/stream-input"}

    async def forgotten() -> dict:
        return {}

    client.app.add_api_route("/v1/forgotten", forgotten, methods=["POST"])
    assert undeclared(client.app.routes) == ["/v1/forgotten"]


def test_a_route_added_without_a_policy_is_refused_at_request_time_too():
    client = build()

    async def forgotten() -> dict:
        return {}

    client.app.add_api_route("/v1/forgotten", forgotten, methods=["GET"])
    with pytest.raises(RuntimeError, match="declares no policy"):
        client.get("/v1/forgotten", headers=AUTH)


def _call(client: TestClient, route, headers: dict) -> int:
    """One request to `route` (a WebSocket: one connection attempt): its status."""
    path = route.path.replace("{voice_id}", "af_heart")
    if isinstance(route, WebSocketRoute) or type(route).__name__ == "APIWebSocketRoute":
        try:
            with client.websocket_connect(path, headers=headers):
                return 101
        except WebSocketDenialResponse as denial:
            return denial.status_code
    method = sorted(route.methods - {"HEAD"})[0]
    return client.request(method, path, json={}, headers=headers).status_code


def test_every_synthesizing_route_needs_a_key_and_refuses_past_the_per_minute_limit():
    client = build(requests_per_minute_per_key=2)
    for route in synthesizing(client):
        assert _call(client, route, {}) == 401, route.path
        first = [_call(client, route, AUTH) for _ in range(2)]
        assert 429 not in first, (route.path, first)  # 503 (no model yet) or 400: counted all the same
        assert _call(client, route, AUTH) == 429, route.path
        assert _call(client, route, {"authorization": "Bearer second-key"}) != 429  # another key is not affected
        client = build(requests_per_minute_per_key=2)  # a fresh minute for the next route


def test_a_refusal_says_when_to_come_back():
    client = build(requests_per_minute_per_key=1)
    client.post("/dev/captioned_speech", json={}, headers=AUTH)
    refused = client.post("/dev/captioned_speech", json={}, headers=AUTH)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["error"]["type"] == "rate_limit_error"


def test_reads_are_not_limited_and_public_routes_need_no_key():
    client = build(requests_per_minute_per_key=1)
    for _ in range(3):
        assert client.get("/v1/models", headers=AUTH).status_code == 200
    assert client.get("/v1/models").status_code == 401
    assert client.get("/health").status_code == 503  # no model: loading, but answered without a key
    assert client.get("/metrics").status_code == 200


def test_metrics_label_requests_by_their_route_template():
    client = build()
    client.get("/v1/models/tts-1", headers=AUTH)
    client.post("/dev/captioned_speech", json={}, headers=AUTH)
    client.get("/no/such/page")
    page = client.get("/metrics").text
    assert 'route="/v1/models/{model_id}"' in page
    assert 'route="/dev/captioned_speech"' in page
    assert 'route="other"' in page


def test_a_synthesizing_policy_needs_a_key():
    with pytest.raises(ValueError):
        policy(type(SYNTHESIS)(key=False, synthesizes=True))


class RecordingEngine:
    """Plumbing only: an engine that notes which of its methods a route called, and synthesizes nothing (its
    `open` finds nothing to say), so that each route's policy can be compared with what the route does."""

    has_timestamps = True
    reading = DEFAULT_READING
    max_pause_seconds = 10.0
    scheduler = SimpleNamespace(active_requests=0, queued_calls=0, max_requests=1, samples_done=0, admission=
                                SimpleNamespace(backlog_seconds=lambda: 0.0, refused=0, seconds_per_frame=0.0))

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.voices = self

    allow_voice_tags = False

    def resolve_voice(self, spec, language=None, *, caller=None):
        self.calls.append("resolve_voice")
        return SimpleNamespace(language="a", name=spec, styles=np.zeros((510, 256), np.float32))

    def cast(self, voice, *, aliases=None, language=None, caller=None):
        return SimpleNamespace(default=SimpleNamespace(voice=self.resolve_voice(voice, language, caller=caller)))

    async def open(self, *args, **kwargs):
        self.calls.append("open")
        raise NothingToSay()

    def describe_voices(self, caller=None):
        return []

    def phonemize(self, *args, **kwargs):
        return "", "", 0, []

    def ssml_as_tags(self, text, voice):
        return text

    def owner(self, name):
        return None

    def save(self, name, spec, language=None, *, owner=None):
        return {"name": name, "voice": spec, "language": "a", "created_at": 0}

    def delete(self, name):
        pass


# A request for each route that takes one (the others are called plain); a WebSocket's: the messages to send
# and the key of the message that ends the exchange. A new such route needs a line here.
EXAMPLES = {
    ("POST", "/v1/audio/speech"): {"input": "Hi.", "voice": "af_heart"},
    ("POST", "/dev/captioned_speech"): {"input": "Hi."},
    ("POST", "/v1/audio/phonemize"): {"input": "Hi.", "voice": "af_heart"},
    ("POST", "/v1/audio/voices"): {"name": "narrator", "voice": "af_heart"},
    ("DELETE", "/v1/audio/voices/{voice_id}"): None,
    ("POST", "/dev/phonemize"): {"text": "Hi."},
    ("POST", "/v1/audio/voices/combine"): "af_heart+af_sky",
    ("DELETE", "/v1/audio/voice_consents/{consent_id}"): None,
    ("POST", "/dev/generate_from_phonemes"): {"phonemes": "hˈI.", "voice": "af_heart"},
    ("POST", "/dev/dialogue"): {"turns": [{"voice": "af_heart", "text": "Hi."}, {"voice": "am_adam", "text": "Yo."}]},
    ("POST", "/dev/ssml"): {"text": "<speak>Hi.</speak>", "voice": "af_heart"},
    ("POST", "/v1/audio/jobs"): {"input": "Hi.", "voice": "af_heart"},
    ("DELETE", "/v1/audio/jobs/{job_id}"): None,
    ("WS", "/v1/audio/speech/stream"): ([{"type": "input_text.append", "text": "Hi."}, {"type": "input_text.end"}],
                                        "type"),
    ("WS", "/v1/text-to-speech/{voice_id}/stream-input"): ([{"text": " "}, {"text": "Hi."}, {"text": ""}],
                                                          "isFinal"),
}
# routes that queue synthesis for later (book jobs, read by the runner): the per-key limits apply to the request,
# which checks the voice and answers 202 without opening a synthesis itself
QUEUED = {("POST", "/v1/audio/jobs")}


def test_a_route_that_synthesizes_is_declared_so():
    """Each route is called as a client would; one that opened a synthesis must be declared as synthesizing (so
    that the per-key limits apply to it), and one declared so must synthesize."""
    engine = RecordingEngine()
    app = create_app(Settings(offline=True, _env_file=None), engine=engine)
    client = TestClient(app)
    for route in every_route(app.routes):
        methods = sorted(getattr(route, "methods", None) or {"WS" if hasattr(route, "endpoint") else "GET"})
        method = [m for m in methods if m != "HEAD"][0]
        path = route.path
        concrete = path.replace("{voice_id}", "af_heart").replace("{model_id}", "tts-1").replace("{consent_id}", "c1")
        engine.calls.clear()
        if method == "WS":
            assert (method, path) in EXAMPLES, f"add an example request for WS {path}"
            messages, final = EXAMPLES[(method, path)]
            with client.websocket_connect(concrete) as websocket:
                for message in messages:
                    websocket.send_json(message)
                while final not in (reply := websocket.receive_json()) or reply[final] in ("error", False):
                    assert reply.get("type") != "error", reply
        elif method == "GET":
            client.get(concrete if path not in ("/static", "/docs-assets") else f"{path}/nothing")
        else:
            assert (method, path) in EXAMPLES, f"add an example request for {method} {path}"
            response = client.request(method, concrete, json=EXAMPLES[(method, path)])
            assert response.status_code < 500, (path, response.text)
        if (method, path) in QUEUED:
            assert policy_of(route).synthesizes and response.status_code == 202, (path, response.text)
            assert "resolve_voice" in engine.calls and "open" not in engine.calls, (method, path, engine.calls)
            continue
        assert ("open" in engine.calls) == policy_of(route).synthesizes, (method, path, engine.calls)


def test_a_synthesizing_route_reaches_the_engine_without_a_thread_hop():
    """Every dependency of a synthesizing route runs in the event loop: FastAPI runs a plain `def` dependency on a
    worker thread, and those hops let requests that arrive together reach the engine in any order, so one
    client's sentences sent at once would be admitted, and served, out of order (pipeline/scheduler.py)."""
    import inspect

    def calls(dependant):
        for dependency in dependant.dependencies:
            yield dependency.call
            yield from calls(dependency)

    for route in synthesizing(build()):
        if hasattr(route, "dependant"):
            hops = [getattr(c, "__name__", c) for c in calls(route.dependant)
                    if not (inspect.iscoroutinefunction(c) or inspect.isasyncgenfunction(c))]
            assert not hops, f"{route.path} runs {hops} on a worker thread"

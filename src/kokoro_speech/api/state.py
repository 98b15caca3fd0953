"""What the transports share, and the typed dependencies that hand it to a route.

One `ServerState` per app, built by the app factory; routes ask for what they need (`EngineDep`, `KeyDep`)
instead of reading an untyped `app.state`. `route_guard`, run before every route, applies the route's declared
policy (api/policy.py): its key, the owner of what it names, the per-key limits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, AsyncIterator

from fastapi import Depends
from starlette.requests import HTTPConnection

from kokoro_speech.api.auth import KeyChecker, credentials
from kokoro_speech.api.kept import Downloads
from kokoro_speech.api.limits import KeyLimits
from kokoro_speech.api.metrics import Metrics
from kokoro_speech.api.policy import OwnedKind, Owners, policy_of, route_of
from kokoro_speech.errors import NotFound, NotReady
from kokoro_speech.jobs.runner import JobRunner
from kokoro_speech.pipeline.engine import Engine


@dataclass
class ServerState:
    keys: KeyChecker
    metrics: Metrics
    limits: KeyLimits
    downloads: Downloads
    engine: Engine | None = None  # None while it loads in the background
    load_error: str | None = None  # why it failed to load, for /health and 503s
    cors_origins: tuple[str, ...] = ()  # --cors-origins: pages from these may also open the WebSockets
    owners: dict[OwnedKind, Owners] = field(default_factory=dict)  # the stores of what keys own, by kind
    jobs: JobRunner | None = None  # book jobs (api/jobs.py): this replica's runner and the shared store

    def owners_of(self, kind: OwnedKind) -> Owners | None:
        if kind == "voice" and self.engine is not None:
            return self.engine.voices
        if kind == "file":
            return self.downloads
        if kind == "job" and self.jobs is not None:
            return self.jobs.store
        return self.owners.get(kind)


# The dependencies are async although none waits: FastAPI runs a plain `def` dependency on a worker thread, and
# those hops let requests that arrive together reach the engine in any order (a reply's sentences sent at once
# would be admitted, and so served, out of order: pipeline/scheduler.py serves one client's in admission order).
async def server_state(connection: HTTPConnection) -> ServerState:
    return connection.app.state.server


StateDep = Annotated[ServerState, Depends(server_state)]


async def route_guard(connection: HTTPConnection, state: StateDep) -> AsyncIterator[str | None]:
    """The caller's key id (None when keys are off or the route needs none), once the route's policy holds: 401
    without a valid key (a WebSocket's upgrade is refused), 404 for what another key owns, 429 past a per-key
    limit (the request, or the open WebSocket, counts until its response ends)."""
    route = route_of(connection.scope)
    declared = policy_of(route) if route is not None else None
    if declared is None:  # create_app checks every route at start-up; this is a bug, not a client error
        raise RuntimeError(f"route {getattr(route, 'path', connection.url.path)} declares no policy")
    key = state.keys.check(credentials(connection.scope)) if declared.key else None
    if declared.owned is not None:
        name = connection.path_params.get(declared.owned.param)
        owners = state.owners_of(declared.owned.kind)
        if name is not None and owners is not None:
            owner = owners.owner(name)
            if owner is not False and owner is not None and owner != key:
                raise NotFound(f"there is no {declared.owned.kind} '{name}'", param=declared.owned.param)
    if not declared.synthesizes or key is None:
        yield key
        return
    async with state.limits.hold(key):
        yield key


def ready_engine(state: StateDep) -> Engine:
    """The loaded engine; 503 with Retry-After while it loads or when it failed to."""
    if state.engine is None:
        if state.load_error:
            raise NotReady(f"the model failed to load: {state.load_error}", retry_after=60)
        raise NotReady()
    return state.engine


async def _ready_engine(state: StateDep) -> Engine:
    return ready_engine(state)


KeyDep = Annotated[str | None, Depends(route_guard)]
EngineDep = Annotated[Engine, Depends(_ready_engine)]


async def client_of(connection: HTTPConnection, key: KeyDep) -> str:
    """Whose turn a request's model calls take (pipeline/scheduler.py): its API key, or without keys its address
    (behind a proxy, the one its X-Forwarded-For names when uvicorn trusts it: FORWARDED_ALLOW_IPS, loopback by
    default)."""
    if key is not None:
        return f"key {key}"
    return f"address {connection.client.host if connection.client else 'unknown'}"


ClientDep = Annotated[str, Depends(client_of)]

"""What the transports share, and the typed dependencies that hand it to a route.

One `ServerState` per app, built by the app factory; routes ask for what they need (`EngineDep`, `KeyDep`)
instead of reading an untyped `app.state`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from kokoro_speech.api.auth import KeyChecker, credentials
from kokoro_speech.api.metrics import Metrics
from kokoro_speech.errors import NotReady
from kokoro_speech.pipeline.engine import Engine


@dataclass
class ServerState:
    keys: KeyChecker
    metrics: Metrics
    engine: Engine | None = None  # None while it loads in the background
    load_error: str | None = None  # why it failed to load, for /health and 503s
    cors_origins: tuple[str, ...] = ()  # --cors-origins: pages from these may also open the WebSockets


def server_state(connection: HTTPConnection) -> ServerState:
    return connection.app.state.server


StateDep = Annotated[ServerState, Depends(server_state)]


async def require_key(connection: HTTPConnection, state: StateDep) -> str | None:
    """The caller's key id (None when keys are off); 401 without a valid key (a WebSocket's upgrade is refused)."""
    return state.keys.check(credentials(connection.scope))


def ready_engine(state: StateDep) -> Engine:
    """The loaded engine; 503 with Retry-After while it loads or when it failed to."""
    if state.engine is None:
        if state.load_error:
            raise NotReady(f"the model failed to load: {state.load_error}", retry_after=60)
        raise NotReady()
    return state.engine


KeyDep = Annotated[str | None, Depends(require_key)]
EngineDep = Annotated[Engine, Depends(ready_engine)]

"""What each route is, declared once beside it: whether it needs a key, whether it synthesizes (so per-key limits
apply), and which of its path parameters names something a key owns. Auth, limits, ownership and metrics read it.

A route is declared with `@policy(...)` under its router decorator (a mount: `declared(app, ...)`); the app's
routes are walked at start-up and by tests/test_route_policy.py, so a route without a declaration cannot ship.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Literal, Protocol, TypeVar

from starlette.routing import BaseRoute
from starlette.types import Scope

T = TypeVar("T")

OwnedKind = Literal["voice", "file", "job"]


@dataclass(frozen=True)
class Owned:
    """The path parameter `param` names a `kind` of thing that belongs to the key that made it: another key gets
    404 for it, as if it did not exist."""

    kind: OwnedKind
    param: str


@dataclass(frozen=True)
class RoutePolicy:
    key: bool = True  # a valid API key is needed (when keys are configured)
    synthesizes: bool = False  # the per-key limits (at once, per minute) apply; admission applies in the engine
    owned: Owned | None = None

    def __post_init__(self) -> None:
        if self.synthesizes and not self.key:
            raise ValueError("a route that synthesizes needs a key: the per-key limits are counted per key")


PUBLIC = RoutePolicy(key=False)  # the playground, health, metrics, the API docs and their assets
KEYED = RoutePolicy()  # reads that cost no synthesis: models, voices, phonemize
SYNTHESIS = RoutePolicy(synthesizes=True)


def policy(declared: RoutePolicy) -> Callable[[T], T]:
    """Declares an endpoint's policy; put it under the router's decorator (`@v1.post(...)` then `@policy(...)`)."""

    def declare(endpoint: T) -> T:
        endpoint.route_policy = declared  # type: ignore[attr-defined]
        return endpoint

    return declare


def declared(app: T, declared_policy: RoutePolicy) -> T:
    """The same for a mounted ASGI app (static files)."""
    return policy(declared_policy)(app)


def policy_of(route: BaseRoute) -> RoutePolicy | None:
    target = getattr(route, "endpoint", None) or getattr(route, "app", None)
    return getattr(target, "route_policy", None)


def every_route(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """The routes an app serves, those of included routers too (newer FastAPI keeps those as one entry each)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from every_route(included.routes)
        else:
            yield route


def undeclared(routes: Iterable[BaseRoute]) -> list[str]:
    """The paths of routes that declare no policy (create_app refuses to build an app with any)."""
    return [getattr(route, "path", repr(route)) for route in every_route(routes) if policy_of(route) is None]


def route_of(scope: Scope) -> BaseRoute | None:
    """The route the router matched for this connection (set once routing has happened)."""
    return scope.get("route")


def label_of(scope: Scope) -> str:
    """The metrics label of a connection: its route's path template, or 'other' for a URL no route serves."""
    route = route_of(scope)
    return getattr(route, "path", None) or "other"


class Owners(Protocol):
    """A store of things that keys own (saved voices, kept files, jobs)."""

    def owner(self, name: str) -> str | None | Literal[False]:
        """The key id that owns `name`, None for something no key owns (made while keys were off), False when
        there is no such thing."""

"""API keys: constant-time checks, and short key ids so that logs never hold a key."""

from __future__ import annotations

import hashlib
import hmac

from starlette.datastructures import Headers, QueryParams
from starlette.types import Scope

from kokoro_speech.errors import Unauthorized

# Browsers cannot set headers on a WebSocket: they offer the key as this subprotocol (OpenAI's Realtime API's
# convention) or send it as ?api_key=
KEY_SUBPROTOCOL = "openai-insecure-api-key."


def credentials(scope: Scope) -> str | None:
    """The Authorization a connection carries: its header, or for a WebSocket the key as a subprotocol or in the
    query (as `Bearer <key>`, what KeyChecker.check reads)."""
    headers = Headers(scope=scope)
    if headers.get("authorization") or scope["type"] != "websocket":
        return headers.get("authorization")
    if headers.get("xi-api-key"):  # ElevenLabs' clients, on its stream-input route
        return f"Bearer {headers['xi-api-key']}"
    offered = [p[len(KEY_SUBPROTOCOL):] for p in scope.get("subprotocols", []) if p.startswith(KEY_SUBPROTOCOL)]
    key = offered[0] if offered else QueryParams(scope.get("query_string", b"")).get("api_key")
    return f"Bearer {key}" if key else None


def key_id(key: str) -> str:
    return "key-" + hashlib.sha256(key.encode()).hexdigest()[:8]


class KeyChecker:
    def __init__(self, keys: list[str]) -> None:
        self._keys = [k.encode() for k in keys]

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def check(self, authorization: str | None) -> str | None:
        """The key id of a valid `Bearer` header, None when auth is off; raises Unauthorized otherwise."""
        if not self._keys:
            return None
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.")
        given = token.strip().encode()
        # compare against every key so the time taken says nothing about which one nearly matched
        matched = [hmac.compare_digest(given, key) for key in self._keys]
        if not any(matched):
            raise Unauthorized("Incorrect API key provided.")
        return key_id(token.strip())

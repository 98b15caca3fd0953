"""API keys: constant-time checks, and short key ids so that logs never hold a key."""

from __future__ import annotations

import hashlib
import hmac

from kokoro_speech.errors import Unauthorized


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

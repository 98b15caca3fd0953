"""Typed errors raised where a problem is found.

Client errors carry what OpenAI's error body needs; `api/app.py` maps them to HTTP in one place.
"""

from __future__ import annotations


class ClientError(Exception):
    """A request the server will not serve, and why."""

    status = 400
    type = "invalid_request_error"
    code: str | None = None

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code


class InvalidParameter(ClientError):
    code = "invalid_parameter"


class UnknownVoice(ClientError):
    code = "voice_not_found"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message, param="voice", code=code)


class UnsupportedLanguage(ClientError):
    code = "unsupported_language"

    def __init__(self, message: str) -> None:
        super().__init__(message, param="voice")


class NothingToSay(ClientError):
    code = "empty_input"

    def __init__(self) -> None:
        super().__init__("input contains no speakable text", param="input")


class InvalidLexicon(ClientError):
    """A custom pronunciation table that is not a word → phonemes object in Kokoro's symbols."""

    code = "invalid_lexicon"

    def __init__(self, message: str) -> None:
        super().__init__(message, param="lexicon")


class ModelNotFound(ClientError):
    status = 404
    code = "model_not_found"


class Unauthorized(ClientError):
    status = 401
    code = "invalid_api_key"


class Overloaded(ClientError):
    """The server is full; the client should retry after `retry_after` seconds."""

    status = 429
    type = "rate_limit_error"
    code = "server_busy"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NotReady(ClientError):
    status = 503
    type = "server_error"
    code = "model_loading"

    def __init__(self, message: str = "the model is still loading", *, retry_after: int = 2) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SetupError(Exception):
    """A missing or corrupt model or voice at start-up; the message names the file and what to do."""

"""Typed errors raised where a problem is found.

Each API error carries its HTTP status, headers and what OpenAI's error body needs; `api/app.py` maps them
to responses in one place.
"""

from __future__ import annotations


class ApiError(Exception):
    """A request the server will not serve, and why."""

    status = 400
    type = "invalid_request_error"
    code: str | None = None
    retry_after: int | None = None  # seconds, sent as Retry-After (429, 503)

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code

    @property
    def headers(self) -> dict[str, str]:
        return {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}


class InvalidParameter(ApiError):
    code = "invalid_parameter"


class UnknownVoice(ApiError):
    code = "voice_not_found"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message, param="voice", code=code)


class UnsupportedLanguage(ApiError):
    code = "unsupported_language"

    def __init__(self, message: str, *, param: str = "voice") -> None:
        super().__init__(message, param=param)


class NothingToSay(ApiError):
    code = "empty_input"

    def __init__(self) -> None:
        super().__init__("input contains no speakable text", param="input")


class InvalidLexicon(ApiError):
    """A custom pronunciation table that is not a word → phonemes object in Kokoro's symbols."""

    code = "invalid_lexicon"

    def __init__(self, message: str) -> None:
        super().__init__(message, param="lexicon")


class InvalidSSML(ApiError):
    """SSML that is not well-formed, declares a DTD or entities, or goes past the reader's limits."""

    code = "invalid_ssml"

    def __init__(self, message: str) -> None:
        super().__init__(message, param="input")


class CloningUnsupported(ApiError):
    """OpenAI's voice-creation form (an audio sample to clone, or a text prompt): this model cannot do it."""

    code = "voice_cloning_unsupported"


class VoiceNotFound(ApiError):
    status = 404
    code = "voice_not_found"

    def __init__(self, message: str) -> None:
        super().__init__(message, param="voice_id")


class NotFound(ApiError):
    """Something a path names that does not exist, or that belongs to another API key (the same answer)."""

    status = 404
    code = "not_found"


class JobNotFinished(ApiError):
    """A job's audio or subtitles asked for before the job has succeeded."""

    status = 409
    code = "job_not_finished"


class VoiceExists(ApiError):
    status = 409
    code = "voice_exists"

    def __init__(self, message: str) -> None:
        super().__init__(message, param="name")
class TimestampsUnavailable(ApiError):
    """Word timestamps were asked of a model that does not output its durations."""

    code = "timestamps_unavailable"

    def __init__(self, *, param: str) -> None:
        super().__init__(
            "word timestamps need a model that outputs its phoneme durations, and this server's model does not "
            "(the bundled int8 model gets one automatically; for --model, use a Kokoro v1.0 export with a "
            "'durations' output or the tensor /encoder/Cast_output_0)", param=param)


class ModelNotFound(ApiError):
    status = 404
    code = "model_not_found"


class Unauthorized(ApiError):
    status = 401
    code = "invalid_api_key"


class OriginNotAllowed(ApiError):
    """A browser page from another origin opening a WebSocket (browsers send no CORS preflight for those)."""

    status = 403
    code = "origin_not_allowed"


class RequestTimeout(ApiError):
    status = 408
    code = "request_timeout"


class RequestTooLarge(ApiError):
    status = 413
    code = "request_too_large"


class Overloaded(ApiError):
    """The server is full; the client should retry after `retry_after` seconds."""

    status = 429
    type = "rate_limit_error"
    code = "server_busy"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(Overloaded):
    """One API key is over its own limits; other keys are served."""

    code = "rate_limit_exceeded"


class NotReady(ApiError):
    status = 503
    type = "server_error"
    code = "model_loading"

    def __init__(self, message: str = "the model is still loading", *, retry_after: int = 2) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DocumentError(ApiError):
    """A book or document that will not be read: found before any synthesis, named by its upload field."""

    status = 422
    code = "invalid_document"

    def __init__(self, message: str, *, param: str = "file") -> None:
        super().__init__(message, param=param)


class UnsupportedDocument(DocumentError):
    """Not a type this server reads (EPUB, Markdown, plain text, PDF, SRT, WebVTT)."""

    status = 415
    code = "unsupported_document"


class DocumentTooLarge(DocumentError):
    """Over the size limit, as uploaded or (for a zip container) once uncompressed."""

    status = 413
    code = "document_too_large"


class UnsafeDocument(DocumentError):
    """A zip bomb, an XML entity or DTD trick, or member names that point outside the book."""

    status = 400
    code = "unsafe_document"


class ProtectedDocument(DocumentError):
    """DRM: an EPUB whose content is encrypted (META-INF/encryption.xml), or an encrypted PDF."""

    code = "drm_protected"


class NoTextInDocument(DocumentError):
    """Nothing to read: a scanned PDF without a text layer, or a book whose chapters hold no words."""

    code = "no_text"


class SetupError(Exception):
    """A missing or corrupt model or voice at start-up; the message names the file and what to do."""

"""Who reads a piece: this process's engine, or a speech server (one replica or a fleet's balanced URL) over
ordinary `POST /v1/audio/speech` requests for raw PCM; both behind one small Protocol. A busy engine or
server (429, 503) is waited for as long as its Retry-After says."""

from __future__ import annotations

import asyncio
import base64
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import httpx
import numpy as np

from kokoro_speech.errors import Overloaded

if TYPE_CHECKING:
    from kokoro_speech.pipeline.engine import Engine

log = logging.getLogger(__name__)

RETRY_STATUSES = {429, 503}
SERVER_ERROR_TRIES = 5  # a 5xx or a dropped connection is tried this many times, backing off
DEFAULT_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 60.0
SPEECH_MODEL = "tts-1"  # the OpenAI name every compatible server accepts (this one, Kokoro-FastAPI)


@dataclass(frozen=True)
class Word:
    """A word and when it is said, in seconds from the start of its piece."""

    word: str
    start_time: float
    end_time: float


@dataclass
class Spoken:
    samples: np.ndarray  # float32 at 24 kHz
    words: list[Word] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.samples.size / 24_000


class SpeakerFailed(Exception):
    """A piece the engine or server would not read (its message says why); the book stops, resumable.
    `status` is the server's answer (a 4xx: the request itself was wrong, e.g. an unknown voice)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Speaker(Protocol):
    async def speak(self, text: str, speed: float) -> Spoken: ...


class EngineSpeaker:
    """Pieces read by this process's engine, through `Engine.open` like any request; `background` (the jobs
    API's runner, beside people) puts them behind every interactive request and outside admission."""

    def __init__(self, engine: Engine, voice: str, language: str | None, *, words: bool,
                 background: bool = False) -> None:
        self.engine, self.voice, self.language, self.words = engine, voice, language, words
        self.background = background
        self.waits = 0

    async def speak(self, text: str, speed: float) -> Spoken:
        while True:
            try:
                synthesis = await self.engine.open(text, self.voice, speed, language=self.language,
                                                   timestamps=self.words, background=self.background)
                break
            except Overloaded as busy:
                self.waits += 1
                await asyncio.sleep(busy.retry_after or DEFAULT_RETRY_SECONDS)
        chunks, words = [], []
        try:
            async for chunk in synthesis:
                chunks.append(chunk)
                words += synthesis.take_words()
        finally:
            await synthesis.aclose()
        words += synthesis.take_words()
        samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
        return Spoken(samples, [Word(w.word, w.start_time, w.end_time) for w in words])


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(MAX_RETRY_SECONDS, max(0.0, float(response.headers.get("Retry-After", DEFAULT_RETRY_SECONDS))))
    except ValueError:
        return DEFAULT_RETRY_SECONDS


def _message(response: httpx.Response) -> str:
    try:
        return response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return response.text[:200]


class ServerSpeaker:
    """Pieces sent to a speech server as raw-PCM speech requests; with words wanted, to its
    /dev/captioned_speech (the same synthesis, with word timestamps)."""

    def __init__(self, url: str, voice: str, lang_code: str | None, *, words: bool, api_key: str | None = None,
                 client: httpx.AsyncClient | None = None, timeout: float = 600.0) -> None:
        self.url = url.rstrip("/")
        self.voice, self.lang_code, self.words = voice, lang_code, words
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = client or httpx.AsyncClient(timeout=timeout, headers=headers)
        self.waits = 0  # 429s and 503s waited out, for the report

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _post(self, route: str, body: dict) -> httpx.Response:
        failures = 0
        while True:
            try:
                response = await self.client.post(self.url + route, json=body)
            except httpx.TransportError as exc:
                failures += 1
                if failures >= SERVER_ERROR_TRIES:
                    raise SpeakerFailed(f"{self.url} cannot be reached ({exc})") from None
                await asyncio.sleep(2.0 ** failures)
                continue
            if response.status_code in RETRY_STATUSES:
                self.waits += 1
                await asyncio.sleep(_retry_after(response))
                continue
            if response.status_code >= 500:
                failures += 1
                if failures >= SERVER_ERROR_TRIES:
                    raise SpeakerFailed(f"{self.url} failed {failures} times: {response.status_code} "
                                        f"{_message(response)}")
                await asyncio.sleep(2.0 ** failures)
                continue
            if response.status_code >= 400:
                raise SpeakerFailed(f"{self.url} refused a piece: {response.status_code} {_message(response)}",
                                    response.status_code)
            return response

    async def speak(self, text: str, speed: float) -> Spoken:
        body = {"model": SPEECH_MODEL, "input": text, "voice": self.voice, "speed": speed, "response_format": "pcm"}
        if self.lang_code:
            body["lang_code"] = self.lang_code
        if not self.words:
            response = await self._post("/v1/audio/speech", body)
            return Spoken(np.frombuffer(response.content, dtype="<i2").astype(np.float32) / 32768)
        response = await self._post("/dev/captioned_speech", body | {"stream": False, "return_timestamps": True})
        result = response.json()
        samples = np.frombuffer(base64.b64decode(result["audio"]), dtype="<i2").astype(np.float32) / 32768
        return Spoken(samples, [Word(w["word"], w["start_time"], w["end_time"]) for w in result["timestamps"]])


__all__ = ["EngineSpeaker", "ServerSpeaker", "Speaker", "SpeakerFailed", "Spoken", "Word"]

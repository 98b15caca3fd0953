"""The HTTP endpoints: speech, phonemize, models, voices, health."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from importlib.resources import files
from typing import AsyncIterator

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse

from kokoro_speech.api.captions import sse_with_timestamps
from kokoro_speech.api.schemas import (
    MODEL_ALIASES,
    MODEL_ID,
    ErrorBody,
    PhonemizeRequest,
    PhonemizeResponse,
    SpeechRequest,
)
from kokoro_speech.api.state import EngineDep, KeyDep, StateDep, require_key
from kokoro_speech.audio.encode import FORMATS, AudioFormat, Encoder
from kokoro_speech.errors import InvalidParameter, ModelNotFound
from kokoro_speech.kokoro import SAMPLE_RATE
from kokoro_speech.pipeline.engine import Synthesis

log = logging.getLogger(__name__)

CREATED = 1735689600  # 2025-01-01, a fixed "created" time for the model list


router = APIRouter()
v1 = APIRouter(prefix="/v1", dependencies=[Depends(require_key)], responses={
    400: {"model": ErrorBody}, 401: {"model": ErrorBody}, 429: {"model": ErrorBody}})


async def encoded(synthesis: Synthesis, fmt: AudioFormat) -> AsyncIterator[bytes]:
    """The synthesis as bytes of `fmt`, chunk by chunk; stops the synthesis when the client leaves."""
    encoder = Encoder(fmt)
    try:
        async for samples in synthesis:
            data = encoder.encode(samples)
            if data:
                yield data
        for tail in encoder.finish():
            if tail:
                yield tail
    finally:
        encoder.close()
        await synthesis.aclose()


def _sse(event: dict) -> bytes:
    return f"data: {json.dumps(event, separators=(',', ':'))}\n\n".encode()


async def sse_events(synthesis: Synthesis, fmt: AudioFormat) -> AsyncIterator[bytes]:
    """OpenAI's `stream_format: sse`: speech.audio.delta events, then speech.audio.done with usage."""
    async for data in encoded(synthesis, fmt):
        yield _sse({"type": "speech.audio.delta", "audio": base64.b64encode(data).decode()})
    stats = synthesis.stats
    output_tokens = stats.audio_samples // (SAMPLE_RATE // 50)  # one token per 20 ms of audio
    yield _sse({"type": "speech.audio.done", "usage": {
        "input_tokens": stats.phoneme_tokens, "output_tokens": output_tokens,
        "total_tokens": stats.phoneme_tokens + output_tokens}})


@v1.post("/audio/speech", response_class=StreamingResponse, responses={
    200: {"content": {f.content_type: {} for f in FORMATS.values()}, "description": "The audio."}})
async def create_speech(body: SpeechRequest, engine: EngineDep, key: KeyDep) -> StreamingResponse:
    fmt = FORMATS[body.response_format]
    if body.timestamps and body.stream_format != "sse":
        raise InvalidParameter("timestamps come as events of the SSE stream: set stream_format to 'sse' (or use "
                               "POST /dev/captioned_speech)", param="timestamps")
    started = time.perf_counter()
    synthesis = await engine.open(body.input, body.voice_id(), body.speed, lexicon=body.custom_lexicon(),
                                  input_is_phonemes=body.input_is_phonemes, language=body.language(),
                                  timestamps="timestamps" if body.timestamps else None)
    log.info("speech: %d chars, voice %s, %s, speed %g, first piece ready in %.3f s, %s", len(body.input),
             body.voice_id(), fmt.name, body.speed, time.perf_counter() - started, key or "no key")
    headers = {"X-Sample-Rate": str(SAMPLE_RATE), "Cache-Control": "no-store"}
    if body.stream_format == "sse" and body.timestamps:
        return StreamingResponse(sse_with_timestamps(synthesis, fmt), media_type="text/event-stream",
                                 headers=headers)
    if body.stream_format == "sse":
        return StreamingResponse(sse_events(synthesis, fmt), media_type="text/event-stream", headers=headers)
    headers["Content-Disposition"] = f'inline; filename="speech.{fmt.name}"'
    return StreamingResponse(encoded(synthesis, fmt), media_type=fmt.content_type, headers=headers)


@v1.post("/audio/phonemize")
async def phonemize(body: PhonemizeRequest, engine: EngineDep) -> PhonemizeResponse:
    """How the server reads a text: normalized words, phonemes and token count, without synthesizing."""
    normalized, phonemes, tokens = await asyncio.to_thread(
        engine.phonemize, body.input, body.voice_id(), body.custom_lexicon(), body.language())
    return PhonemizeResponse(normalized=normalized, phonemes=phonemes, tokens=tokens)


def _model_entry(model_id: str) -> dict:
    return {"id": model_id, "object": "model", "created": CREATED, "owned_by": "kokoro-speech"}


@v1.get("/models")
async def list_models() -> dict:
    return {"object": "list", "data": [_model_entry(m) for m in (MODEL_ID, *MODEL_ALIASES)]}


@v1.get("/models/{model_id}")
async def get_model(model_id: str) -> dict:
    if model_id != MODEL_ID and model_id not in MODEL_ALIASES:
        raise ModelNotFound(f"The model '{model_id}' does not exist", param="model")
    return _model_entry(model_id)


@v1.get("/audio/voices")
async def list_voices(engine: EngineDep) -> dict:
    return {"voices": engine.describe_voices()}


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def playground() -> HTMLResponse:
    """The web playground (static/index.html): type, pick a voice, hear it stream."""
    return HTMLResponse(files("kokoro_speech").joinpath("static/index.html").read_text(encoding="utf-8"))


@router.get("/health")
async def health(state: StateDep) -> JSONResponse:
    if state.engine is not None:
        return JSONResponse({"status": "ok"})
    status = "failed" if state.load_error else "loading"
    return JSONResponse({"status": status, "error": state.load_error}, status_code=503)


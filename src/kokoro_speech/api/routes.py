"""The HTTP endpoints: speech, phonemize, models, voices, health."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Annotated, Any
import time
from importlib.resources import files

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from kokoro_speech.api.schemas import (
    MODEL_ALIASES,
    MODEL_ID,
    ErrorBody,
    PhonemizeRequest,
    PhonemizeResponse,
    SaveVoiceRequest,
    SpeechRequest,
)
from kokoro_speech.api.policy import KEYED, PUBLIC, SYNTHESIS, Owned, RoutePolicy, policy
from kokoro_speech.api.state import ClientDep, EngineDep, KeyDep, StateDep
from kokoro_speech.api.streaming import encoded, sse_events, whole_file
from kokoro_speech.audio.encode import FORMATS, output_rate
from kokoro_speech.errors import CloningUnsupported, InvalidParameter, ModelNotFound
from kokoro_speech.kokoro import LANGUAGES
from kokoro_speech.model.packs import pack_bytes

log = logging.getLogger(__name__)

CREATED = 1735689600  # 2025-01-01, a fixed "created" time for the model list


router = APIRouter()
v1 = APIRouter(prefix="/v1", responses={
    400: {"model": ErrorBody}, 401: {"model": ErrorBody}, 429: {"model": ErrorBody}})


@v1.post("/audio/speech", response_class=StreamingResponse, responses={
    200: {"content": {f.content_type: {} for f in FORMATS.values()}, "description": "The audio."}})
@policy(SYNTHESIS)
async def create_speech(body: SpeechRequest, engine: EngineDep, key: KeyDep, state: StateDep,
                        client: ClientDep) -> Response:
    fmt = FORMATS[body.response_format]
    if body.timestamps and body.stream_format != "sse":
        raise InvalidParameter("timestamps come as events of the SSE stream: set stream_format to 'sse' (or use "
                               "POST /dev/captioned_speech)", param="timestamps")
    if not body.stream and body.stream_format == "sse":
        raise InvalidParameter("stream_format 'sse' is a stream: set stream to true, or stream_format to 'audio'",
                               param="stream")
    timing = body.return_timing and body.return_download_link  # Kokoro-FastAPI ignores it without a link
    started = time.perf_counter()
    synthesis = await engine.open(body.input, body.voice_id(), body.speed, lexicon=body.custom_lexicon(),
                                  input_is_phonemes=body.input_is_phonemes, language=body.language(),
                                  timestamps=body.timestamps or timing, caller=key, client=client,
                                  timestamps_param="timestamps" if body.timestamps else "return_timing",
                                  reading=body.reading(engine.reading), **body.cast_options())
    log.info("speech: %d chars, voice %s, %s, speed %g, first piece ready in %.3f s, %s", len(body.input),
             body.voice_id(), fmt.name, body.speed, time.perf_counter() - started, key or "no key")
    headers = {"X-Sample-Rate": str(output_rate(fmt, body.sample_rate)), "Cache-Control": "no-store"}
    output = {"sample_rate": body.sample_rate, "volume": body.volume_multiplier}
    if body.return_download_link:
        output["copy"] = await state.downloads.copy_for(fmt, FORMATS[body.download_format or body.response_format],
                                                        headers, owner=key, timing=timing, **output)
    if body.stream_format == "sse":
        return StreamingResponse(sse_events(synthesis, fmt, send_words=body.timestamps, **output),
                                 media_type="text/event-stream",
                                 headers=headers)
    headers["Content-Disposition"] = f'inline; filename="speech.{fmt.name}"'
    if not body.stream:  # the whole file, spooled to disk (a long request's wav is tens of MB), then sent
        return await whole_file(encoded(synthesis, fmt, **output), fmt.content_type, headers)
    return StreamingResponse(encoded(synthesis, fmt, **output), media_type=fmt.content_type, headers=headers)


@v1.post("/audio/phonemize")
@policy(KEYED)
async def phonemize(body: PhonemizeRequest, engine: EngineDep, key: KeyDep) -> PhonemizeResponse:
    """How the server reads a text: normalized words, phonemes and token count, without synthesizing."""
    normalized, phonemes, tokens, segments = await asyncio.to_thread(
        engine.phonemize, body.input, body.voice_id(), body.custom_lexicon(), body.language(), key,
        **body.cast_options())
    return PhonemizeResponse(normalized=normalized, phonemes=phonemes, tokens=tokens, segments=segments)


def _model_entry(model_id: str) -> dict:
    return {"id": model_id, "object": "model", "created": CREATED, "owned_by": "kokoro-speech"}


@v1.get("/models")
@policy(KEYED)
async def list_models() -> dict:
    return {"object": "list", "data": [_model_entry(m) for m in (MODEL_ID, *MODEL_ALIASES)]}


@v1.get("/models/{model_id}")
@policy(KEYED)
async def get_model(model_id: str) -> dict:
    if model_id != MODEL_ID and model_id not in MODEL_ALIASES:
        raise ModelNotFound(f"The model '{model_id}' does not exist", param="model")
    return _model_entry(model_id)


@v1.get("/audio/voices")
@policy(KEYED)
async def list_voices(engine: EngineDep, key: KeyDep, legacy: bool = False) -> dict:
    """Every voice this key may use, each with `id` and `name` (what Open WebUI reads) and what it is;
    `?legacy=true` gives the plain list of ids (Kokoro-FastAPI's older shape)."""
    voices = engine.describe_voices(caller=key)
    if legacy:
        return {"voices": [voice["id"] for voice in voices]}
    return {"voices": voices}


_CLONING = ("Kokoro cannot make a voice from an audio sample or a prompt (OpenAI's form of this route); save a "
            'blend of its voices instead, with a JSON body such as {"name": "narrator", "voice": '
            '"af_heart(2)+bm_george(1)"}')


async def _no_cloning(request: Request) -> None:
    """OpenAI's voice-creation form is multipart (an audio sample to clone): refused, saying what works."""
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith(("multipart/", "application/x-www-form-urlencoded")):
        raise CloningUnsupported(_CLONING, param="audio_sample")


@v1.post("/audio/voices", status_code=201, dependencies=[Depends(_no_cloning)])
@policy(KEYED)
async def save_voice(body: SaveVoiceRequest, engine: EngineDep, key: KeyDep) -> dict:
    """Save a blend under a name: from then on (and after restarts) it is a voice id like any other."""
    extra = set(body.model_extra or {}) & {"audio_sample", "prompt", "consent"}
    if extra:
        raise CloningUnsupported(_CLONING, param=sorted(extra)[0])
    info = await asyncio.to_thread(engine.voices.save, body.name, body.voice_id(), body.language(), owner=key)
    log.info("voice '%s' saved (%s), %s", body.name, info["voice"], key or "no key")
    return {"object": "audio.voice", "id": info["name"], "name": info["name"], "created_at": info["created_at"],
            "type": "blend", "voice": info["voice"], "language": LANGUAGES[info["language"]].tag}


@v1.api_route("/audio/voice_consents", methods=["GET", "POST"], include_in_schema=False)
@v1.api_route("/audio/voice_consents/{consent_id}", methods=["GET", "POST", "DELETE"], include_in_schema=False)
@policy(KEYED)
async def voice_consents() -> None:
    """OpenAI's consent records for cloned voices: there is nothing to consent to here, since nothing is cloned."""
    raise CloningUnsupported("this server makes no voices from recordings, so it keeps no voice consents; "
                             + _CLONING.split("; ", 1)[1], param=None)


_PACK_NAME = re.compile(r"[^A-Za-z0-9_().-]+")


@v1.post("/audio/voices/combine", response_class=Response,
         responses={200: {"content": {"application/octet-stream": {}}, "description": "The blend as a .pt pack."}})
@policy(KEYED)
async def combine_voices(engine: EngineDep, key: KeyDep,
                         voices: Annotated[Any, Body(description=(
                             'A blend ("af_bella(2)+af_sky", or with "-" to subtract) or a list of voices to mix '
                             "equally."))]) -> Response:
    """The blend of voices as a voice pack file (.pt, the official packs' layout), as Kokoro-FastAPI's route
    returns it; to use it here by name, save it with POST /v1/audio/voices instead."""
    if isinstance(voices, list) and all(isinstance(v, str) for v in voices):
        voices = "+".join(v.strip() for v in voices if v.strip())
    if not isinstance(voices, str) or not voices.strip():
        raise InvalidParameter('send a blend ("af_bella+af_sky") or a list of voice ids', param="voices")
    spec = voices
    blend = await asyncio.to_thread(engine.resolve_voice, spec, caller=key)
    name = _PACK_NAME.sub("_", blend.name)[:120]
    data = await asyncio.to_thread(pack_bytes, name, blend.styles)
    return Response(data, media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{name}.pt"'})


@v1.delete("/audio/voices/{voice_id}")
@policy(RoutePolicy(owned=Owned("voice", "voice_id")))
async def delete_voice(voice_id: str, engine: EngineDep, key: KeyDep) -> dict:
    await asyncio.to_thread(engine.voices.delete, voice_id)
    log.info("voice '%s' deleted, %s", voice_id, key or "no key")
    return {"object": "audio.voice.deleted", "id": voice_id, "deleted": True}


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
@policy(PUBLIC)
async def playground() -> HTMLResponse:
    """The web playground (static/index.html): type, pick a voice, hear it stream."""
    return HTMLResponse(files("kokoro_speech").joinpath("static/index.html").read_text(encoding="utf-8"))


@router.get("/health")
@policy(PUBLIC)
async def health(state: StateDep) -> JSONResponse:
    if state.engine is not None:
        return JSONResponse({"status": "ok"})
    status = "failed" if state.load_error else "loading"
    return JSONResponse({"status": status, "error": state.load_error}, status_code=503)


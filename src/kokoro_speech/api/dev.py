"""Kokoro-FastAPI's extra routes, in its shapes, for the clients written against it: `GET /v1/test` (how
wyoming_openai recognises a Kokoro server), `POST /dev/phonemize` and `POST /dev/generate_from_phonemes`."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator

from kokoro_speech.api.policy import KEYED, PUBLIC, SYNTHESIS, policy
from kokoro_speech.api.schemas import ErrorBody, _valid_lang_code
from kokoro_speech.api.state import EngineDep, KeyDep
from kokoro_speech.api.streaming import encoded
from kokoro_speech.audio.encode import FORMATS
from kokoro_speech.kokoro import MAX_INPUT_CHARACTERS, language_letter, to_token_ids

router = APIRouter(responses={400: {"model": ErrorBody}, 401: {"model": ErrorBody}, 429: {"model": ErrorBody}})

# A voice whose pack reads any language: the phonemes of /dev/phonemize depend on the language alone.
_ANY_VOICE = "af_heart"


class PhonemeRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    text: StrictStr = Field(min_length=1, max_length=MAX_INPUT_CHARACTERS)
    language: StrictStr = Field("a", description="A Kokoro language letter (a b e f h i j p z) or a tag (en-us, "
                                "es, ja, cmn...). Default: American English, as Kokoro-FastAPI's.")

    _language = field_validator("language")(_valid_lang_code)


class PhonemeResponse(BaseModel):
    phonemes: str = Field(description="Kokoro's phonemes for the text (usable with /dev/generate_from_phonemes).")
    tokens: list[int] = Field(description="Their token ids, as the model gets them.")


class GenerateFromPhonemesRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    phonemes: StrictStr = Field(min_length=1, max_length=MAX_INPUT_CHARACTERS,
                                description="Kokoro phonemes, as /dev/phonemize returns them.")
    voice: StrictStr = Field(description="A voice id, OpenAI name or blend.")


@router.get("/v1/test")
@policy(PUBLIC)
async def test() -> dict:
    """Kokoro-FastAPI's liveness probe; clients such as wyoming_openai call it to recognise a Kokoro server."""
    return {"status": "ok"}


@router.post("/dev/phonemize")
@policy(KEYED)
async def phonemize(body: PhonemeRequest, engine: EngineDep, key: KeyDep) -> PhonemeResponse:
    """The phonemes a text becomes in a language (Kokoro-FastAPI's shape; /v1/audio/phonemize tells more)."""
    _, phonemes, _, _ = await asyncio.to_thread(
        engine.phonemize, body.text, _ANY_VOICE, None, language_letter(body.language), key)
    return PhonemeResponse(phonemes=phonemes, tokens=to_token_ids(phonemes))


@router.post("/dev/generate_from_phonemes", response_class=StreamingResponse,
             responses={200: {"content": {"audio/wav": {}}, "description": "The audio, as WAV."}})
@policy(SYNTHESIS)
async def generate_from_phonemes(body: GenerateFromPhonemesRequest, engine: EngineDep,
                                 key: KeyDep) -> StreamingResponse:
    """Speech from phonemes, as WAV at 24 kHz (Kokoro-FastAPI's route; speech with `input_is_phonemes` does the
    same in any format)."""
    wav = FORMATS["wav"]
    synthesis = await engine.open(body.phonemes, body.voice, 1.0, input_is_phonemes=True, caller=key)
    return StreamingResponse(encoded(synthesis, wav), media_type=wav.content_type,
                             headers={"Content-Disposition": 'attachment; filename="speech.wav"',
                                      "Cache-Control": "no-cache"})

"""Speech with word timestamps: Kokoro-FastAPI's /dev/captioned_speech, and subtitles (WebVTT, SRT) from the same
items (the SSE stream's timestamp events are made in streaming.py)."""

from __future__ import annotations

import base64
import json
import logging
from typing import AsyncIterator, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import Field, StrictBool, StrictStr

from kokoro_speech.api.schemas import ErrorBody, SpeechRequest, VoiceReference
from kokoro_speech.api.policy import SYNTHESIS, policy
from kokoro_speech.api.state import ClientDep, EngineDep, KeyDep
from kokoro_speech.api.streaming import encoded_with_words
from kokoro_speech.audio.encode import FORMATS, AudioFormat, output_rate
from kokoro_speech.audio.subtitles import subtitles
from kokoro_speech.pipeline.synthesis import Synthesis
from kokoro_speech.pipeline.timestamps import WordTime

log = logging.getLogger(__name__)

router = APIRouter(responses={
    400: {"model": ErrorBody}, 401: {"model": ErrorBody}, 429: {"model": ErrorBody}})

SUBTITLES_DESCRIPTION = (
    "Also return subtitles made from the timestamps, as the string field `subtitles`: 'vtt' (WebVTT) or 'srt' "
    "(SubRip). Streamed, they come in one last line after the audio."
)


class CaptionedSpeechRequest(SpeechRequest):
    """The speech request and Kokoro-FastAPI's captioned-speech fields (its defaults: streamed, with times)."""

    voice: StrictStr | VoiceReference = Field("af_heart", description="As for speech; Kokoro-FastAPI's default.")
    stream: StrictBool = Field(True, description="Newline-delimited JSON chunks as the audio is made (default), "
                                                 "or one JSON object at the end.")
    return_timestamps: StrictBool = Field(True, description="Include the word timestamps (Kokoro-FastAPI's field).")
    subtitles: Literal["vtt", "srt"] | None = Field(None, description=SUBTITLES_DESCRIPTION)


def _output(body: CaptionedSpeechRequest) -> dict:
    return {"sample_rate": body.sample_rate, "volume": body.volume_multiplier}


def _chunk(data: bytes, fmt: AudioFormat, words: list[WordTime], timestamps: bool) -> dict:
    return {"audio": base64.b64encode(data).decode(), "audio_format": fmt.content_type,
            "timestamps": [w.as_dict() for w in words] if timestamps else []}


async def _lines(synthesis: Synthesis, fmt: AudioFormat, body: CaptionedSpeechRequest) -> AsyncIterator[bytes]:
    every: list[WordTime] = []
    async for data, words in encoded_with_words(synthesis, fmt, **_output(body)):
        every += words
        yield (json.dumps(_chunk(data, fmt, words, body.return_timestamps), ensure_ascii=False) + "\n").encode()
    if body.subtitles:
        last = _chunk(b"", fmt, [], False) | {"subtitles": subtitles(every, body.subtitles)}
        yield (json.dumps(last, ensure_ascii=False) + "\n").encode()


@router.post("/dev/captioned_speech", responses={200: {"description": (
        "JSON {audio (base64), audio_format, timestamps: [{word, start_time, end_time, start_index, end_index}]}; "
        "streamed as newline-delimited JSON chunks of that shape unless `stream` is false.")}})
@policy(SYNTHESIS)
async def captioned_speech(body: CaptionedSpeechRequest, engine: EngineDep, key: KeyDep, client: ClientDep):
    """Speech with word timestamps, compatible with Kokoro-FastAPI's route of the same name."""
    fmt = FORMATS[body.response_format]
    synthesis = await engine.open(body.input, body.voice_id(), body.speed, lexicon=body.custom_lexicon(),
                                  input_is_phonemes=body.input_is_phonemes, language=body.language(),
                                  timestamps=body.return_timestamps or bool(body.subtitles),
                                  timestamps_param="return_timestamps" if body.return_timestamps else "subtitles",
                                  caller=key, client=client, reading=body.reading(engine.reading),
                                  **body.cast_options())
    log.info("captioned speech: %d chars, voice %s, %s, stream %s", len(body.input), body.voice_id(), fmt.name,
             body.stream)
    headers = {"X-Sample-Rate": str(output_rate(fmt, body.sample_rate)), "Cache-Control": "no-store"}
    if body.stream:
        return StreamingResponse(_lines(synthesis, fmt, body), media_type="application/x-ndjson", headers=headers)
    audio, every = bytearray(), []
    async for data, words in encoded_with_words(synthesis, fmt, **_output(body)):
        audio += data
        every += words
    result = _chunk(bytes(audio), fmt, every, body.return_timestamps)
    if body.subtitles:
        result["subtitles"] = subtitles(every, body.subtitles)
    return JSONResponse(result, headers=headers)

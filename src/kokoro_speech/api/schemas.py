"""Request and response bodies, matching OpenAI's audio API (openai-python's types/audio)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator

MODEL_ID = "kokoro-82m"
MODEL_ALIASES = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts", "gpt-4o-mini-tts-2025-12-15")
MAX_INPUT_CHARACTERS = 4096

ResponseFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]


class VoiceReference(BaseModel):
    """OpenAI's custom-voice object form, `{"id": "..."}`."""

    id: StrictStr


class SpeechRequest(BaseModel):
    # Unknown fields are ignored: clients such as Open WebUI send extras.
    model_config = ConfigDict(extra="ignore")

    model: StrictStr = Field(MODEL_ID, description=f"'{MODEL_ID}', or an OpenAI alias: {', '.join(MODEL_ALIASES)}.")
    input: StrictStr = Field(min_length=1, max_length=MAX_INPUT_CHARACTERS, description="The text to speak.")
    voice: StrictStr | VoiceReference = Field(
        description="A Kokoro voice id (af_heart), an OpenAI voice name (alloy), or a blend (af_heart(2)+bf_emma(1))."
    )
    response_format: ResponseFormat = "mp3"
    speed: float = Field(1.0, ge=0.25, le=4.0)
    instructions: StrictStr | None = Field(None, description="Accepted for compatibility and ignored.")
    stream_format: Literal["audio", "sse"] = "audio"

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        if value != MODEL_ID and value not in MODEL_ALIASES:
            raise ValueError(f"model '{value}' does not exist; use '{MODEL_ID}' (or {', '.join(MODEL_ALIASES)})")
        return value

    def voice_id(self) -> str:
        return self.voice if isinstance(self.voice, str) else self.voice.id


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


def error_body(message: str, type: str, param: str | None = None, code: str | None = None) -> dict:
    return ErrorBody(error=ErrorDetail(message=message, type=type, param=param, code=code)).model_dump()

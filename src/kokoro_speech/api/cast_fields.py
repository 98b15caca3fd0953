"""The request fields that give one text several voices (Kokoro-FastAPI's names): `allow_voice_tags` and
`voice_aliases`, as a mixin of the speech, captioned-speech and dialogue bodies."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, field_validator

from kokoro_speech.text.ssml import MAX_RATE, MIN_RATE, VOICE_TAG_NAME

MAX_ALIASES = 64

ALLOW_VOICE_TAGS_DESCRIPTION = (
    "Read `[voice:NAME]` (switch speaker: a voice id, OpenAI name, blend, saved voice or alias) and `[rate:1.2]` "
    "(the current speaker's pace) tags in `input`. Default: the server's --allow-voice-tags (off: brackets are "
    "read as written)."
)
VOICE_ALIASES_DESCRIPTION = (
    "Short names for voices, usable as `voice`, in tags and in SSML <voice name>, matched in any case: "
    '{"narrator": "af_bella(2)+af_sky"} or {"narrator": {"voice": "bm_george", "rate": 0.8}} (a pace that tags '
    "scale). An alias names voices, never another alias."
)


class AliasTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    voice: StrictStr
    rate: float | None = Field(None, ge=MIN_RATE, le=MAX_RATE, description="The pace this alias speaks at.")


class VoiceCastFields(BaseModel):
    """Several voices in one text: inline tags and the request's names for voices."""

    allow_voice_tags: StrictBool | None = Field(None, description=ALLOW_VOICE_TAGS_DESCRIPTION)
    voice_aliases: dict[StrictStr, StrictStr | AliasTarget] | None = Field(None, description=VOICE_ALIASES_DESCRIPTION)

    @field_validator("voice_aliases")
    @classmethod
    def _valid_aliases(cls, value: dict | None) -> dict | None:
        if value is None:
            return value
        if len(value) > MAX_ALIASES:
            raise ValueError(f"at most {MAX_ALIASES} aliases per request")
        for name, target in value.items():
            voice = target if isinstance(target, str) else target.voice
            if not VOICE_TAG_NAME.fullmatch(name.strip()) or "+" in name or "(" in name:
                raise ValueError(f"alias '{name}': use letters, digits, '_', '-', '.' or spaces")
            if not VOICE_TAG_NAME.fullmatch(voice.strip()):
                raise ValueError(f"alias '{name}': '{voice}' is not a voice id or blend")
        return value

    def cast_options(self) -> dict:
        """What Engine.open takes of these fields."""
        return {"voice_tags": self.allow_voice_tags, "aliases": self.voice_aliases}

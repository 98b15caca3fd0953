"""Request and response bodies, matching OpenAI's audio API (openai-python's types/audio)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal, Sequence

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, field_validator

from kokoro_speech.api.cast_fields import VoiceCastFields
from kokoro_speech.audio.encode import FORMATS, STREAMED
from kokoro_speech.audio.resample import SAMPLE_RATES
from kokoro_speech.audio.volume import MAX_VOLUME, MIN_VOLUME
from kokoro_speech.errors import ApiError, InvalidLexicon
from kokoro_speech.kokoro import LANGUAGE_CODES, MAX_INPUT_CHARACTERS, language_letter
from kokoro_speech.text.lexicon import Lexicon
from kokoro_speech.text.normalize import OPTION_GROUPS
from kokoro_speech.text.normalize import Reading as TextReading

MODEL_ID = "kokoro-82m"
# OpenAI's model names, and Kokoro-FastAPI's ("kokoro", which its documented requests send)
MODEL_ALIASES = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts", "gpt-4o-mini-tts-2025-12-15", "kokoro")

ResponseFormat = Literal[tuple(FORMATS)]  # type: ignore[valid-type]


class VoiceReference(BaseModel):
    """OpenAI's custom-voice object form, `{"id": "..."}`."""

    id: StrictStr


LEXICON_DESCRIPTION = (
    "Custom pronunciations for this request: words (matched whole, any case) to phonemes in Kokoro/misaki "
    'notation, e.g. {"Kokoro": "kˈOkəɹO"}. They take precedence over the server\'s lexicon.'
)


LANG_CODE_DESCRIPTION = (
    "The reading language, independent of the voice (as Kokoro-FastAPI's lang_code): a Kokoro language letter "
    "(a b e f h i j p z) or a tag such as en-us, en-gb, es, fr-fr, hi, it, ja, pt-br, cmn. Default: the voice's."
)


TIMESTAMPS_DESCRIPTION = (
    "With stream_format 'sse': also send {\"type\": \"speech.audio.timestamps\", \"timestamps\": [{word, "
    "start_time, end_time, start_index, end_index}]} events, each before the audio of its words."
)


def _valid_lang_code(value: str | None) -> str | None:
    if value is not None and language_letter(value) is None:
        raise ValueError(f"unknown language '{value}'; use one of {', '.join(sorted(LANGUAGE_CODES))}")
    return value


INPUT_DESCRIPTION = (
    "The text to speak. `[pause:1.5s]` (or `500ms`) inserts exact silence. With allow_voice_tags, "
    "`[voice:NAME]` switches the speaker (a voice id, OpenAI name, blend, saved voice or one of voice_aliases; "
    "its language's reading follows it) and `[rate:1.2]` the current speaker's pace. Input starting with "
    "`<speak>` is read as SSML (break, say-as, sub, phoneme, prosody rate, p, s, voice name, lang; Azure's, "
    "Google's and Polly's own elements speak their content; GET /dev/ssml lists it all)."
)


def _valid_sample_rate(value: int | None) -> int | None:
    if value is not None and value not in SAMPLE_RATES:
        raise ValueError(f"{value} Hz is not offered; use one of {', '.join(map(str, SAMPLE_RATES))}")
    return value


def _valid_lexicon(value: dict[str, str] | None) -> dict[str, str] | None:
    if value is not None:
        try:
            Lexicon.parse(value)
        except InvalidLexicon as exc:
            raise ValueError(exc.message) from None
    return value


class NormalizationOptions(BaseModel):
    """Kokoro-FastAPI's normalization_options: each switches a group of the rules in text/normalize/ (all on by
    default here); `normalize: false` speaks the text as written. An unknown option is a 400 naming it."""

    model_config = ConfigDict(extra="forbid")

    normalize: StrictBool = Field(True, description="false: the text as written (characters tidied only).")
    unit_normalization: StrictBool = Field(True, description="Units read as words: 10 KB → ten kilobytes.")
    url_normalization: StrictBool = Field(True, description="Web addresses read aloud: x.io → x dot I O.")
    email_normalization: StrictBool = Field(True, description="E-mail addresses read aloud: a@b.com → a at b dot com.")
    optional_pluralization_normalization: StrictBool = Field(True, description="file(s) → files.")
    phone_normalization: StrictBool = Field(True, description="Phone numbers read digit group by group.")
    replace_remaining_symbols: StrictBool = Field(True, description="Symbols read as words: & → and, % → percent.")
    # ours, not Kokoro-FastAPI's: the server's --emoji for this request
    emoji: Literal["skip", "name"] | None = Field(None, description=(
        "Emoji skipped or read by name (🎉 → party popper); default: the server's --emoji."))

    def reading(self, server: TextReading) -> TextReading:
        """The server's reading settings with these switches applied."""
        off = frozenset(name for name in OPTION_GROUPS if not getattr(self, name))
        return replace(server, normalize=self.normalize, off=off, emoji=self.emoji or server.emoji)


class SpeechRequest(VoiceCastFields):
    # Unknown fields are ignored: clients such as Open WebUI send extras.
    model_config = ConfigDict(extra="ignore")

    model: StrictStr = Field(MODEL_ID, description=f"'{MODEL_ID}', or an alias: {', '.join(MODEL_ALIASES)}.")
    input: StrictStr = Field(min_length=1, max_length=MAX_INPUT_CHARACTERS, description=INPUT_DESCRIPTION)
    voice: StrictStr | VoiceReference = Field(
        description="A Kokoro voice id (af_heart), an OpenAI voice name (alloy), or a blend (af_heart(2)+bf_emma(1))."
    )
    response_format: ResponseFormat = "mp3"
    speed: float = Field(1.0, ge=0.25, le=4.0)
    instructions: StrictStr | None = Field(None, description="Accepted for compatibility and ignored.")
    stream_format: Literal["audio", "sse"] = "audio"
    lexicon: dict[StrictStr, StrictStr] | None = Field(None, description=LEXICON_DESCRIPTION)
    input_is_phonemes: StrictBool = Field(
        False, description="Read `input` as Kokoro phonemes (as /v1/audio/phonemize returns them), not text."
    )
    lang_code: StrictStr | None = Field(None, description=LANG_CODE_DESCRIPTION)
    volume_multiplier: float = Field(1.0, ge=MIN_VOLUME, le=MAX_VOLUME, description=(
        "Loudness, as Kokoro-FastAPI's volume_multiplier: the samples are scaled by it, peaks soft-limited "
        "below full scale (never clipped or wrapped)."))
    sample_rate: int | None = Field(None, description=(
        f"Output sample rate in Hz: {', '.join(map(str, SAMPLE_RATES))}. Default 24000 (8000 for ulaw and alaw). "
        "Opus always decodes at 48 kHz; X-Sample-Rate says the rate sent."))
    timestamps: StrictBool = Field(False, description=TIMESTAMPS_DESCRIPTION)
    # Kokoro-FastAPI's whole files and download links
    stream: StrictBool = Field(True, description="Stream the audio as it is made (default), or answer with the "
                               "whole file and its Content-Length once it is complete.")
    return_download_link: StrictBool = Field(False, description=(
        "Also keep the audio as a file, named in the X-Download-Path header (`/download/<file>`): GET "
        "/v1/download/<file> serves it to this key until it expires."))
    download_format: ResponseFormat | None = Field(None, description="The kept file's format (default: "
                                                   "response_format); only with return_download_link.")
    return_timing: StrictBool = Field(False, description=(
        "With return_download_link, also keep Kokoro-FastAPI's timing sidecar, {chunks: [{text, start, end}]}, "
        "named in X-Timing-Path."))

    normalization_options: NormalizationOptions | None = Field(None, description=(
        "Kokoro-FastAPI's switches for the text normalization: normalize, unit_normalization, url_normalization, "
        "email_normalization, optional_pluralization_normalization, phone_normalization, "
        "replace_remaining_symbols (all true by default here); also emoji: skip or name (default: the server's)."))

    _lexicon = field_validator("lexicon")(_valid_lexicon)
    _lang_code = field_validator("lang_code")(_valid_lang_code)
    _sample_rate = field_validator("sample_rate")(_valid_sample_rate)

    def reading(self, server: TextReading) -> TextReading | None:
        """This request's reading settings, when it sent normalization_options (None: the server's)."""
        return self.normalization_options.reading(server) if self.normalization_options is not None else None

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        if value != MODEL_ID and value not in MODEL_ALIASES:
            raise ValueError(f"model '{value}' does not exist; use '{MODEL_ID}' (or {', '.join(MODEL_ALIASES)})")
        return value

    def voice_id(self) -> str:
        return self.voice if isinstance(self.voice, str) else self.voice.id

    def custom_lexicon(self) -> Lexicon | None:
        return Lexicon.parse(self.lexicon) if self.lexicon else None

    def language(self) -> str | None:
        """The reading language's letter, when the request chose one."""
        return language_letter(self.lang_code) if self.lang_code is not None else None


StreamFormat = Literal[STREAMED]  # type: ignore[valid-type]  # those that stream


class StreamSession(VoiceCastFields):
    """A WebSocket session's settings (`session.update`), for the turns that follow."""

    model_config = ConfigDict(extra="ignore")

    voice: StrictStr | VoiceReference = "af_heart"
    response_format: StreamFormat = "pcm"
    speed: float = Field(1.0, ge=0.25, le=4.0)
    lang_code: StrictStr | None = Field(None, description=LANG_CODE_DESCRIPTION)
    timestamps: StrictBool = False
    volume_multiplier: float = Field(1.0, ge=MIN_VOLUME, le=MAX_VOLUME)
    sample_rate: int | None = None

    _lang_code = field_validator("lang_code")(_valid_lang_code)
    _sample_rate = field_validator("sample_rate")(_valid_sample_rate)
    voice_id = SpeechRequest.voice_id
    language = SpeechRequest.language


class PhonemizeRequest(VoiceCastFields):
    """The reading of a text, as speech would read it (voice tags and aliases too: each segment names its voice
    and language)."""

    model_config = ConfigDict(extra="ignore")

    input: StrictStr = Field(min_length=1, max_length=MAX_INPUT_CHARACTERS, description=INPUT_DESCRIPTION)
    voice: StrictStr | VoiceReference = Field(
        "af_heart", description="The voice whose language picks the reading (American, British or other)."
    )
    lexicon: dict[StrictStr, StrictStr] | None = Field(None, description=LEXICON_DESCRIPTION)
    lang_code: StrictStr | None = Field(None, description=LANG_CODE_DESCRIPTION)

    _lexicon = field_validator("lexicon")(_valid_lexicon)
    _lang_code = field_validator("lang_code")(_valid_lang_code)
    voice_id = SpeechRequest.voice_id
    custom_lexicon = SpeechRequest.custom_lexicon
    language = SpeechRequest.language


class PhonemizeResponse(BaseModel):
    normalized: str = Field(description="The text the G2P reads: normalized, custom pronunciations marked.")
    phonemes: str = Field(description="The phonemes the model would get; usable as input with input_is_phonemes.")
    tokens: int = Field(description="How many phoneme tokens that is.")
    segments: list[dict] = Field(default_factory=list, description=(
        "The reading span by span: {type: speech, text, phonemes, rate, voice, language} (voice: who says it, "
        "the alias or voice id; language: its reading language's letter) and {type: pause, seconds}, as SSML, "
        "voice tags and [pause:…] markers make them."))


class SaveVoiceRequest(BaseModel):
    """Save a voice (a blend, usually) under a name of one's own; OpenAI's form of this route clones a voice
    from an audio sample, which Kokoro cannot do."""

    model_config = ConfigDict(extra="allow")

    name: StrictStr = Field(description="The new voice id: 1-64 letters, digits, '_' or '-'.")
    voice: StrictStr | VoiceReference = Field(description="What it sounds like: a voice id or a blend such as "
                                              "af_heart(2)+bm_george(1).")
    lang_code: StrictStr | None = Field(None, description="The language it reads (needed for a blend of "
                                        "several languages). Default: the first voice's.")

    _lang_code = field_validator("lang_code")(_valid_lang_code)
    voice_id = SpeechRequest.voice_id
    language = SpeechRequest.language


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


def error_body(message: str, type: str, param: str | None = None, code: str | None = None) -> dict:
    return ErrorBody(error=ErrorDetail(message=message, type=type, param=param, code=code)).model_dump()


def validation_error_body(errors: Sequence[Any]) -> dict:
    """OpenAI's error body for a body (or a WebSocket message) that fails validation: its first problem, named."""
    first = errors[0] if errors else {"loc": (), "msg": "invalid request", "type": ""}
    loc = [str(part) for part in first.get("loc", ()) if part != "body"]
    if first.get("type") == "json_invalid":
        message, param = "We could not parse the JSON body of your request: it is not valid JSON.", None
    elif first.get("type") == "missing":
        message, param = f"Missing required parameter: '{loc[0]}'.", loc[0]
    elif not loc:
        message, param = f"The request body must be a JSON object ({first.get('msg')}).", None
    else:
        param = loc[0]
        detail = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        message = f"Invalid value for '{'.'.join(loc)}': {detail}"
    return error_body(message, "invalid_request_error", param, "invalid_value" if param else None)


def error_response(exc: ApiError) -> JSONResponse:
    """The HTTP response for a typed error: its status, headers and OpenAI's error body."""
    return JSONResponse(error_body(exc.message, exc.type, exc.param, exc.code), exc.status, headers=exc.headers)

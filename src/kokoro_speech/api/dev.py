"""Kokoro-FastAPI's extra routes, in its shapes, for the clients written against it: `GET /v1/test` (how
wyoming_openai recognises a Kokoro server), `POST /dev/phonemize`, `POST /dev/generate_from_phonemes`,
`POST /dev/dialogue` (turns of several voices, as one speech), `POST /dev/ssml` (SSML as tagged text) and
`GET /dev/ssml` (what the SSML reader reads)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import Response, StreamingResponse
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StrictBool, StrictStr, field_validator

from kokoro_speech.api.cast_fields import VOICE_ALIASES_DESCRIPTION, AliasTarget, VoiceCastFields
from kokoro_speech.api.policy import KEYED, PUBLIC, SYNTHESIS, policy
from kokoro_speech.api.schemas import (
    LANG_CODE_DESCRIPTION, MODEL_ID, ErrorBody, NormalizationOptions, ResponseFormat, _valid_lang_code,
)
from kokoro_speech.api.state import ClientDep, EngineDep, KeyDep, StateDep
from kokoro_speech.api.streaming import encoded
from kokoro_speech.audio.encode import FORMATS, output_rate
from kokoro_speech.audio.volume import MAX_VOLUME, MIN_VOLUME
from kokoro_speech.errors import ApiError, InvalidParameter
from kokoro_speech.kokoro import MAX_INPUT_CHARACTERS, language_letter, to_token_ids
from kokoro_speech.text import ssml as ssml_reader
from kokoro_speech.text.ssml import VOICE_TAG_NAME

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
                                 key: KeyDep, client: ClientDep) -> StreamingResponse:
    """Speech from phonemes, as WAV at 24 kHz (Kokoro-FastAPI's route; speech with `input_is_phonemes` does the
    same in any format)."""
    wav = FORMATS["wav"]
    synthesis = await engine.open(body.phonemes, body.voice, 1.0, input_is_phonemes=True, caller=key,
                                  client=client)
    return StreamingResponse(encoded(synthesis, wav), media_type=wav.content_type,
                             headers={"Content-Disposition": 'attachment; filename="speech.wav"',
                                      "Cache-Control": "no-cache"})


# --- dialogue: turns of several voices, read as one text with [voice:…] tags -----------------------------------

MAX_TURNS = 256  # each turn may switch voices (pipeline/cast.py: MAX_SWITCHES)


class DialogueTurn(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    voice: StrictStr = Field(validation_alias=AliasChoices("voice", "voice_id"), description=(
        "Who says it: a voice id, OpenAI name, blend, saved voice or alias (`voice_id` is accepted too)."))
    text: StrictStr = Field(min_length=1, max_length=MAX_INPUT_CHARACTERS)

    @field_validator("voice")
    @classmethod
    def _voice_name(cls, value: str) -> str:
        if not VOICE_TAG_NAME.fullmatch(value.strip()):
            raise ValueError(f"'{value}' is not a voice id, blend or alias")
        return value.strip()

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a turn must say something")
        return value


class DialogueRequest(BaseModel):
    """Kokoro-FastAPI's /dev/dialogue body: turns in order (`inputs` accepted for `turns`)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    model: StrictStr = MODEL_ID
    turns: list[DialogueTurn] = Field(min_length=1, max_length=MAX_TURNS,
                                      validation_alias=AliasChoices("turns", "inputs"), description=(
        "The speakers' turns, in order; consecutive turns of one voice are read as one."))
    pause_between_turns: float = Field(0.0, ge=0.0, le=10.0, description="Seconds of silence between turns.")
    response_format: ResponseFormat = "mp3"
    speed: float = Field(1.0, ge=0.25, le=4.0)
    stream: StrictBool = Field(True, description="Stream the audio as it is made (default), or send it whole.")
    lang_code: StrictStr | None = Field(None, description=LANG_CODE_DESCRIPTION + " Each turn reads its voice's "
                                        "language unless this says otherwise.")
    volume_multiplier: float = Field(1.0, ge=MIN_VOLUME, le=MAX_VOLUME)
    voice_aliases: dict[StrictStr, StrictStr | AliasTarget] | None = Field(None,
                                                                          description=VOICE_ALIASES_DESCRIPTION)
    normalization_options: NormalizationOptions | None = Field(None, description=(
        "Kokoro-FastAPI's switches for the text normalization, as on speech."))
    return_download_link: StrictBool = Field(False, description="Also keep the audio as a file, as speech does "
                                             "(X-Download-Path).")
    download_format: ResponseFormat | None = Field(None, description="The kept file's format (default: "
                                                   "response_format).")
    return_timing: StrictBool = Field(False, description="With return_download_link, also keep the timing "
                                      "sidecar (X-Timing-Path), as speech does.")

    _lang_code = field_validator("lang_code")(_valid_lang_code)
    _aliases = field_validator("voice_aliases")(VoiceCastFields._valid_aliases.__func__)

    def merged(self) -> list[DialogueTurn]:
        """Consecutive turns of one voice joined (one reading, unbroken prosody; no pause inside one speaker)."""
        out: list[DialogueTurn] = []
        for turn in self.turns:
            if out and out[-1].voice.casefold() == turn.voice.casefold():
                out[-1] = DialogueTurn(voice=out[-1].voice, text=f"{out[-1].text.strip()} {turn.text.strip()}")
            else:
                out.append(turn)
        return out

    def tagged_input(self) -> str:
        """The turns as one text with `[voice:…]` tags (and `[pause:…]` between turns): what the engine reads."""
        pause = f" [pause:{self.pause_between_turns:.3f}s] " if self.pause_between_turns > 0 else " "
        text = pause.join(f"[voice:{turn.voice}] {turn.text.strip()}" for turn in self.merged())
        words = sum(len(turn.text) for turn in self.turns)
        if words > MAX_INPUT_CHARACTERS:
            raise InvalidParameter(f"the turns hold {words} characters; one dialogue may hold "
                                   f"{MAX_INPUT_CHARACTERS}", param="turns", code="input_too_long")
        return text


@router.post("/dev/dialogue", response_class=StreamingResponse, responses={
    200: {"content": {f.content_type: {} for f in FORMATS.values()}, "description": "The audio."}})
@policy(SYNTHESIS)
async def dialogue(body: DialogueRequest, engine: EngineDep, key: KeyDep, state: StateDep,
                   client: ClientDep) -> Response:
    """Several speakers in one audio (Kokoro-FastAPI's route): each turn in its voice and language, streamed as
    speech is; the first turn's audio starts as soon as a single voice's would."""
    fmt = FORMATS[body.response_format]
    first = body.turns[0].voice
    timing = body.return_timing and body.return_download_link  # Kokoro-FastAPI ignores it without a link
    try:
        synthesis = await engine.open(body.tagged_input(), first, body.speed, caller=key, client=client,
                                      voice_tags=True,
                                      timestamps=timing, timestamps_param="return_timing",
                                      language=language_letter(body.lang_code) if body.lang_code else None,
                                      aliases=body.voice_aliases,
                                      reading=body.normalization_options.reading(engine.reading)
                                      if body.normalization_options is not None else None)
    except ApiError as exc:  # the turns are the input here (a tag's message names the voice)
        if exc.param in ("input", "voice"):
            exc.param = "turns"
        raise
    headers = {"X-Sample-Rate": str(output_rate(fmt, None)), "Cache-Control": "no-store",
               "Content-Disposition": f'inline; filename="dialogue.{fmt.name}"'}
    copy = await state.downloads.copy_for(fmt, FORMATS[body.download_format or body.response_format], headers,
                                          owner=key, timing=timing, sample_rate=None, volume=body.volume_multiplier
                                          ) if body.return_download_link else None
    audio = encoded(synthesis, fmt, volume=body.volume_multiplier, copy=copy)
    if body.stream:
        return StreamingResponse(audio, media_type=fmt.content_type, headers=headers)
    return Response(b"".join([chunk async for chunk in audio]), media_type=fmt.content_type, headers=headers)


# --- SSML as tagged text -----------------------------------------------------------------------------------------

class SSMLRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    text: StrictStr = Field(min_length=1, max_length=MAX_INPUT_CHARACTERS, description="An SSML document "
                            "(text not starting with <speak> comes back as it is).")
    voice: StrictStr | None = Field(None, description="The request's voice: with one, <voice> and <prosody rate> "
                                    "become [voice:…] and [rate:…] tags; without, only words and pauses remain.")


class SSMLResponse(BaseModel):
    text: str = Field(description="The document as plain text with [pause:…] (and [voice:…], [rate:…]) tags, for "
                                  "speech with allow_voice_tags.")


@router.post("/dev/ssml")
@policy(KEYED)
async def ssml(body: SSMLRequest, engine: EngineDep) -> SSMLResponse:
    """What an SSML document becomes, as Kokoro-FastAPI's translation shows it (speech reads SSML itself; this
    route is for clients that send the translation)."""
    return SSMLResponse(text=await asyncio.to_thread(engine.ssml_as_tags, body.text, body.voice or None))


class SSMLCapabilities(BaseModel):
    """Kokoro-FastAPI's GET /dev/ssml shape (elements, ignored, break_strengths, prosody_rates, rate_range), and
    the rest of what the reader reads; all read off the reader's own tables (text/ssml.py)."""

    elements: dict[str, str] = Field(description="Each element the reader gives a meaning, and what it does "
                                     "(those not spoken included).")
    ignored: list[str] = Field(description="Elements whose markup is dropped and content spoken as text (so is "
                               "any element not named here).")
    silent: list[str] = Field(description="Elements not spoken, their content neither.")
    attributes: dict[str, list[str]] = Field(description="The attributes each element's reading uses (others are "
                                             "ignored).")
    dialects: dict[str, dict[str, str]] = Field(description=(
        "Cloud vendors' own elements (azure, google, amazon), each 'spoken' (its content) or 'silent'; their "
        "prefix (mstts:, google:, amazon:) may be written with or without its xmlns declaration."))
    break_strengths: dict[str, float] = Field(description="<break strength> → seconds of silence.")
    prosody_rates: dict[str, float] = Field(description="<prosody rate> names → pace; a percentage (80%, +20%) "
                                            "or a factor (1.2) is read too.")
    rate_range: list[float] = Field(description="The lowest and highest pace a span may have (clamped).")
    say_as: dict[str, list[str]] = Field(description="<say-as> readings → the interpret-as values that ask "
                                         "for them.")
    phoneme_alphabets: list[str] = Field(description="The <phoneme alphabet> values read (others: the word as "
                                         "written).")
    limits: dict[str, float] = Field(description="max_depth and max_elements of a document, max_pause_seconds "
                                     "of one break (this server's), max_total_pause_seconds of one request.")


@router.get("/dev/ssml")
@policy(KEYED)
async def ssml_capabilities(engine: EngineDep) -> SSMLCapabilities:
    """What the SSML reader reads (Kokoro-FastAPI's route and shape, with attributes, vendor dialects and
    limits too); speech reads input starting with <speak> as SSML."""
    silent = sorted(ssml_reader.SILENT_ELEMENTS)
    elements = {name: handled.does for name, handled in ssml_reader.ELEMENTS.items()}
    return SSMLCapabilities(
        elements=elements | dict.fromkeys(silent, "Not spoken, nor its content: it marks, describes or sets an "
                                                  "effect Kokoro does not make."),
        ignored=list(ssml_reader.SPOKEN_ELEMENTS), silent=silent,
        attributes={name: list(handled.attributes) for name, handled in ssml_reader.ELEMENTS.items()},
        dialects={vendor: {name: "silent" if ssml_reader.local_name(name) in ssml_reader.SILENT_ELEMENTS
                           else "spoken" for name in names}
                  for vendor, names in ssml_reader.VENDOR_ELEMENTS.items()},
        break_strengths=ssml_reader.BREAK_STRENGTHS, prosody_rates=ssml_reader.RATE_NAMES,
        rate_range=[ssml_reader.MIN_RATE, ssml_reader.MAX_RATE],
        say_as={reading: list(values) for reading, values in ssml_reader.SAY_AS.items()},
        phoneme_alphabets=list(ssml_reader.ALPHABETS),
        limits={"max_depth": ssml_reader.MAX_DEPTH, "max_elements": ssml_reader.MAX_ELEMENTS,
                "max_pause_seconds": engine.max_pause_seconds,
                "max_total_pause_seconds": ssml_reader.MAX_TOTAL_PAUSE_SECONDS},
    )

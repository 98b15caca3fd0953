"""Which voices this server can speak now: a voice is ready when the G2P of the language it reads is installed
(a default install has every one); a request for one that is not gets a 400 saying what to install."""

from __future__ import annotations

from kokoro_speech.errors import UnsupportedLanguage
from kokoro_speech.kokoro import LANGUAGES
from kokoro_speech.model.voices import Voice, VoiceRegistry
from kokoro_speech.text.phonemize import Phonemizers


def ready_voice(voices: VoiceRegistry, phonemizers: Phonemizers, spec: str, language: str | None = None, *,
                caller: str | None = None) -> Voice:
    """The voice `spec` names for `caller` (a key id: another key's saved voice is not its to use), reading
    `language` (default: the voice's); 400 when it cannot be read."""
    voice = voices.resolve(spec, language, caller=caller)
    missing = phonemizers.missing(voice.language)
    if missing:
        name = LANGUAGES[voice.language].name
        raise UnsupportedLanguage(
            f"voice '{spec}' reads {name}, whose G2P packages this server lacks: run `{missing}` (a default "
            "install has them) and restart the server; GET /v1/audio/voices says which voices are ready",
            param="voice" if language is None else "lang_code")
    return voice


def describe_voices(voices: VoiceRegistry, phonemizers: Phonemizers, caller: str | None = None) -> list[dict]:
    """The voice list `caller` (a key id) may use, each saying whether this server can speak it now (and if not,
    what to install)."""
    described = voices.describe(caller)
    for voice in described:
        missing = phonemizers.missing(voice["language_letter"])
        voice["ready"] = missing is None
        if missing:
            voice["requires"] = missing
    return described

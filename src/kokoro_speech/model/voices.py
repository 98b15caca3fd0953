"""The voice registry: Kokoro voice ids, OpenAI voice names, and weighted blends.

A voice id's first letter is its language, the second its gender (`af_heart`: American English, female).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kokoro_speech.config import Settings
from kokoro_speech.errors import SetupError, UnknownVoice
from kokoro_speech.kokoro import ENGLISH, LANGUAGES
from kokoro_speech.model.weights import VOICE_SUFFIXES, read_voice, voice_folders

GENDERS = {"f": "female", "m": "male"}

# OpenAI's voice names → the Kokoro voice closest in character (documented in docs/api.md).
OPENAI_VOICES: dict[str, str] = {
    "alloy": "af_alloy",  # neutral, even
    "ash": "am_michael",  # warm male
    "ballad": "bm_lewis",  # soft, expressive male
    "coral": "af_heart",  # warm, friendly female
    "echo": "am_echo",  # resonant male
    "fable": "bm_fable",  # British storyteller
    "nova": "af_nova",  # bright female
    "onyx": "am_onyx",  # deep male
    "sage": "af_sarah",  # calm female
    "shimmer": "af_bella",  # clear, lively female
    "verse": "am_puck",  # expressive male
    "marin": "af_kore",  # natural female
    "cedar": "am_fenrir",  # natural male
}

_BLEND_PART = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*(?:\(\s*([0-9]*\.?[0-9]+)\s*\))?\s*$")


def language_of(voice_id: str) -> str:
    """A voice's language letter from its id (`af_heart`: American English); a pack named otherwise (a user's
    own) reads American English unless a request says which language."""
    return voice_id[0] if len(voice_id) > 3 and voice_id[0] in LANGUAGES and voice_id[2] == "_" else "a"


@dataclass(frozen=True)
class Voice:
    """A resolved voice: its style table and the language its text is spoken in."""

    name: str
    styles: np.ndarray  # float32 [510, 256]
    language: str  # a key of LANGUAGES

    def style_for(self, token_count: int) -> np.ndarray:
        """The style vector for an utterance of `token_count` phoneme tokens."""
        row = min(max(token_count, 1), len(self.styles)) - 1
        return self.styles[row]


class VoiceRegistry:
    def __init__(self, packs: dict[str, np.ndarray]) -> None:
        if not packs:
            raise SetupError("no voice packs found: pass --voices-dir with Kokoro v1.0 .pt/.bin/.npy files")
        self._packs = packs

    @classmethod
    def from_dir(cls, folder: Path) -> VoiceRegistry:
        return cls.from_dirs([folder])

    @classmethod
    def from_dirs(cls, folders: list[Path]) -> VoiceRegistry:
        """Every pack in `folders`; a pack in a later folder replaces one of the same name before it."""
        packs = {}
        for folder in folders:
            found = {path.stem: read_voice(path) for path in sorted(folder.iterdir())
                     if path.suffix in VOICE_SUFFIXES and path.is_file()}
            if not found:
                raise SetupError(f"voices folder {folder} holds no .pt, .bin or .npy voice packs")
            packs.update(found)
        return cls(packs)

    def ids(self) -> list[str]:
        return sorted(self._packs)

    def describe(self) -> list[dict]:
        """One entry per voice: id, language, gender and the OpenAI names that map to it."""
        aliases: dict[str, list[str]] = {}
        for alias, target in OPENAI_VOICES.items():
            aliases.setdefault(target, []).append(alias)
        out = []
        for vid in self.ids():
            language = LANGUAGES[language_of(vid)]
            out.append(
                {
                    "id": vid,
                    "language": language.tag,
                    "language_name": language.name,
                    "language_letter": language.letter,
                    "gender": GENDERS.get(vid[1:2], "unknown"),
                    "openai_aliases": aliases.get(vid, []),
                }
            )
        return out

    def resolve(self, spec: str, language: str | None = None) -> Voice:
        """A voice id, an OpenAI name, or a blend such as `af_heart(2)+bf_emma(1)`, reading `language` (a
        letter of LANGUAGES; default: the voice's own). A blend of voices of several languages needs it,
        except for American with British English (read as the first voice's)."""
        parts = spec.split("+")
        weighted: list[tuple[str, float]] = []
        for part in parts:
            match = _BLEND_PART.match(part)
            if match is None:
                raise UnknownVoice(f"voice '{spec}': '{part.strip()}' is not a voice id or 'id(weight)'")
            name, weight = match.group(1), float(match.group(2) or 1.0)
            name = OPENAI_VOICES.get(name.lower(), name)
            if name not in self._packs:
                raise UnknownVoice(
                    f"voice '{name}' does not exist; GET /v1/audio/voices lists the {len(self._packs)} voices"
                )
            if weight <= 0:
                raise UnknownVoice(f"voice '{spec}': the weight of '{name}' must be positive")
            weighted.append((name, weight))
        languages = {language_of(n) for n, _ in weighted}
        if language is None and len(languages) > 1 and not languages <= ENGLISH:
            raise UnknownVoice(f"voice '{spec}' mixes languages {sorted(languages)}: blend voices of one language, "
                               "or say which language to read with lang_code", code="invalid_blend")
        language = language or language_of(weighted[0][0])
        if len(weighted) == 1:
            name = weighted[0][0]
            return Voice(name=name, styles=self._packs[name], language=language)
        total = sum(w for _, w in weighted)
        styles = sum(self._packs[n] * (w / total) for n, w in weighted).astype(np.float32)
        name = "+".join(f"{n}({w:g})" for n, w in weighted)
        return Voice(name=name, styles=styles, language=language)


def load_voices(settings: Settings) -> VoiceRegistry:
    """The embedded voice packs, with those the settings add (a download, the user's folder) over them."""
    return VoiceRegistry.from_dirs(voice_folders(settings.voices_dir, settings.cache_dir,
                                                 download=settings.download_voices, offline=settings.offline))

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
            language = LANGUAGES.get(vid[:1])
            out.append(
                {
                    "id": vid,
                    "language": language.tag if language else "unknown",
                    "language_name": language.name if language else "unknown",
                    "gender": GENDERS.get(vid[1:2], "unknown"),
                    "openai_aliases": aliases.get(vid, []),
                }
            )
        return out

    def resolve(self, spec: str) -> Voice:
        """A voice id, an OpenAI name, or a blend such as `af_heart(2)+bf_emma(1)`."""
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
        if len(weighted) == 1:
            name = weighted[0][0]
            return Voice(name=name, styles=self._packs[name], language=name[:1])
        total = sum(w for _, w in weighted)
        styles = sum(self._packs[n] * (w / total) for n, w in weighted).astype(np.float32)
        languages = {n[:1] for n, _ in weighted}
        if len(languages) > 1 and not languages <= ENGLISH:
            raise UnknownVoice(f"voice '{spec}' mixes languages {sorted(languages)}: blend voices of one language",
                               code="invalid_blend")
        name = "+".join(f"{n}({w:g})" for n, w in weighted)
        return Voice(name=name, styles=styles, language=weighted[0][0][:1])


def load_voices(settings: Settings) -> VoiceRegistry:
    """The embedded voice packs, with those the settings add (a download, the user's folder) over them."""
    return VoiceRegistry.from_dirs(voice_folders(settings.voices_dir, settings.cache_dir,
                                                 download=settings.download_voices, offline=settings.offline))

"""The voice registry: Kokoro voice ids, OpenAI voice names, weighted blends, and the user's own voices.

A voice id's first letter is its language, the second its gender (`af_heart`: American English, female); a
saved voice keeps the language of the blend it was made from. The user's folder and the saved voices are
re-read every few seconds, so packs dropped in (or saved, or deleted) need no restart.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Literal
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kokoro_speech.config import Settings
from kokoro_speech.errors import InvalidParameter, SetupError, UnknownVoice, VoiceExists, VoiceNotFound
from kokoro_speech.kokoro import ENGLISH, LANGUAGES
from kokoro_speech.model.saved_voices import SavedVoices, VoiceFolder
from kokoro_speech.model.packs import VOICE_SUFFIXES, read_voice, voice_folders

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

# a saved voice's name is also its file name and a blend part: letters, digits, _ and - (no dots, no slashes)
VOICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")

_BLEND_PART = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*(?:\(\s*([0-9]*\.?[0-9]+)\s*\))?\s*$")


def language_of(voice_id: str) -> str:
    """A voice's language letter from its id (`af_heart`: American English); a pack named otherwise (a user's
    own) reads American English unless a request says which language."""
    return voice_id[0] if len(voice_id) > 3 and voice_id[0] in LANGUAGES and voice_id[2] == "_" else "a"


def read_packs(folders: list[Path]) -> dict[str, np.ndarray]:
    """Every pack in `folders` (strictly: an unreadable one is a SetupError); a pack in a later folder
    replaces one of the same name before it."""
    packs = {}
    for folder in folders:
        found = {path.stem: read_voice(path) for path in sorted(folder.iterdir())
                 if path.suffix in VOICE_SUFFIXES and path.is_file()}
        if not found:
            raise SetupError(f"voices folder {folder} holds no .pt, .bin or .npy voice packs")
        packs.update(found)
    return packs


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
    """The built-in packs (read once, strictly), over them the user's `folders` and the `saved` voices, which
    are re-read at most every `rescan_seconds` when a voice is looked up."""

    def __init__(self, packs: dict[str, np.ndarray], *, folders: list[VoiceFolder] | None = None,
                 saved: SavedVoices | None = None, rescan_seconds: float = 2.0, max_saved: int = 100,
                 share_saved: bool = False) -> None:
        if not packs:
            raise SetupError("no voice packs found: pass --voices-dir with Kokoro v1.0 .pt/.bin/.npy files")
        self._builtin = packs
        self._folders = folders or []
        self._saved = saved
        self._rescan_seconds = rescan_seconds
        self.max_saved = max_saved
        self.share_saved = share_saved  # saved voices usable by every key, not only the one that saved them
        self._lock = threading.Lock()  # one re-scan at a time; readers use the dicts swapped in whole
        self._save_lock = threading.Lock()
        self._packs = dict(packs)
        self._saved_info: dict[str, dict] = {}
        self._next_scan = 0.0
        if self._folders or self._saved is not None:
            self.refresh(strict=True)

    def refresh(self, *, strict: bool = False) -> None:
        """Re-read the user's folders and the saved voices now (with `strict`, at start-up, an unreadable
        file in the user's folder stops the server; a saved one is always skipped with a log line)."""
        with self._lock:
            packs = dict(self._builtin)
            for folder in self._folders:
                packs.update({name: pack.styles for name, pack in folder.scan(strict=strict).items()})
            taken = {name.lower() for name in packs} | set(OPENAI_VOICES)
            saved: dict[str, dict] = {}
            for name, pack in (self._saved.scan() if self._saved is not None else {}).items():
                if name.lower() in taken or not VOICE_NAME.fullmatch(name):
                    continue  # copied in by hand under a taken name: the voice it would shadow wins
                packs[name] = pack.styles
                saved[name] = pack.info
            self._packs, self._saved_info = packs, saved
            self._next_scan = time.monotonic() + self._rescan_seconds

    def _current(self) -> dict[str, np.ndarray]:
        if (self._folders or self._saved is not None) and time.monotonic() >= self._next_scan:
            self.refresh()
        return self._packs

    def owner(self, name: str) -> str | None | Literal[False]:
        """The key id that saved the voice `name` (None: saved while keys were off, or not a saved voice at all,
        so no key owns it); False when there is no voice of that name."""
        if name not in self._current():
            return False
        return self._saved_info.get(name, {}).get("owner")

    def _visible(self, name: str, caller: str | None) -> bool:
        """Whether `caller` (a key id; None when keys are off) may use the voice `name`: another key's saved voice
        only when --share-saved-voices says so."""
        owner = self._saved_info.get(name, {}).get("owner")
        return caller is None or owner is None or owner == caller or self.share_saved

    def language(self, voice_id: str) -> str:
        """A voice's own language letter: a saved voice's from its blend, any other's from its id."""
        saved = self._saved_info.get(voice_id, {}).get("language")
        return saved if saved in LANGUAGES else language_of(voice_id)

    @classmethod
    def from_dir(cls, folder: Path) -> VoiceRegistry:
        return cls.from_dirs([folder])

    @classmethod
    def from_dirs(cls, folders: list[Path]) -> VoiceRegistry:
        return cls(read_packs(folders))

    def ids(self) -> list[str]:
        return sorted(self._current())

    def describe(self, caller: str | None = None) -> list[dict]:
        """One entry per voice `caller` may use: id, language, gender and the OpenAI names that map to it."""
        aliases: dict[str, list[str]] = {}
        for alias, target in OPENAI_VOICES.items():
            aliases.setdefault(target, []).append(alias)
        out = []
        for vid in self.ids():
            if not self._visible(vid, caller):
                continue
            language = LANGUAGES[self.language(vid)]
            saved = self._saved_info.get(vid)
            entry = {
                "id": vid,
                "name": vid,  # Kokoro-FastAPI's field: a saved voice's name is its id
                "language": language.tag,
                "language_name": language.name,
                "language_letter": language.letter,
                "gender": "unknown" if saved is not None else GENDERS.get(vid[1:2], "unknown"),
                "openai_aliases": aliases.get(vid, []),
                "saved": saved is not None,
            }
            if saved is not None:
                entry.update(blend=saved.get("voice", vid), created_at=saved.get("created_at"))
            out.append(entry)
        return out

    def save(self, name: str, spec: str, language: str | None = None, *, owner: str | None = None) -> dict:
        """Save the voice `spec` names (a blend, usually) as the voice `name`, belonging to the key id `owner`;
        its description."""
        if self._saved is None or self.max_saved == 0:
            raise InvalidParameter("this server does not save voices (--max-saved-voices is 0)", param="name",
                                   code="saving_disabled")
        if not VOICE_NAME.fullmatch(name):
            raise InvalidParameter(f"voice name '{name}': use 1-64 letters, digits, '_' or '-', starting with a "
                                   "letter or digit", param="name", code="invalid_name")
        with self._save_lock:
            packs = self._current()
            if name in self._saved_info:
                raise VoiceExists(f"a saved voice '{name}' exists: DELETE /v1/audio/voices/{name} first, or choose "
                                  "another name")
            if name.lower() in {n.lower() for n in packs} | set(OPENAI_VOICES):
                raise VoiceExists(f"'{name}' is the name of a built-in voice: choose another name")
            if len(self._saved_info) >= self.max_saved:
                raise InvalidParameter(f"this server keeps at most {self.max_saved} saved voices: delete one first",
                                       param="name", code="saved_voice_limit")
            voice = self.resolve(spec, language, caller=owner)
            info = self._saved.save(name, voice.styles, voice=spec, language=voice.language, owner=owner)
            self.refresh()
        return info

    def delete(self, name: str) -> None:
        """Remove the saved voice `name` (built-in and folder voices are not the API's to delete)."""
        with self._save_lock:
            packs = self._current()
            if name not in self._saved_info:
                if name in packs or name.lower() in OPENAI_VOICES:
                    raise InvalidParameter(f"'{name}' is not a saved voice: only voices saved with POST "
                                           "/v1/audio/voices can be deleted", param="voice_id",
                                           code="not_a_saved_voice")
                raise VoiceNotFound(f"there is no saved voice '{name}'")
            assert self._saved is not None
            self._saved.delete(name)
            self.refresh()

    def _terms(self, spec: str, packs: dict[str, np.ndarray]) -> list[tuple[int, str]]:
        """A blend's terms with their signs, as Kokoro-FastAPI reads `a(2)+b-c(0.3)`: `-` subtracts, except inside
        a voice's own name (a saved voice may be called `my-voice`)."""
        tokens = re.split(r"([+-])", spec)
        terms: list[tuple[int, str]] = [(1, tokens[0])]
        for operator, token in zip(tokens[1::2], tokens[2::2], strict=True):
            joined = f"{terms[-1][1]}-{token}"
            if operator == "-" and _BLEND_PART.match(joined) and _BLEND_PART.match(joined).group(1) in packs:
                terms[-1] = (terms[-1][0], joined)
            else:
                terms.append((1 if operator == "+" else -1, token))
        if terms[0][0] < 0 or not terms[0][1].strip():
            raise UnknownVoice(f"voice '{spec}': a blend starts with a voice, not '+' or '-'")
        return terms

    def resolve(self, spec: str, language: str | None = None, *, caller: str | None = None) -> Voice:
        """A voice id, an OpenAI name, or a blend such as `af_heart(2)+bf_emma(1)` (or, as Kokoro-FastAPI's,
        `af_bella-af_sky(0.3)`: weights over their sum, `-` terms subtracted), reading `language` (a letter of
        LANGUAGES; default: the voice's own). A blend of voices of several languages needs it, except for
        American with British English (read as the first voice's)."""
        packs = self._current()
        weighted: list[tuple[str, float]] = []
        signs: list[int] = []
        for sign, part in self._terms(spec, packs):
            match = _BLEND_PART.match(part)
            if match is None:
                raise UnknownVoice(f"voice '{spec}': '{part.strip()}' is not a voice id or 'id(weight)'")
            name, weight = match.group(1), float(match.group(2) or 1.0)
            name = OPENAI_VOICES.get(name.lower(), name)
            if name not in packs or not self._visible(name, caller):
                raise UnknownVoice(
                    f"voice '{name}' does not exist; GET /v1/audio/voices lists the {len(packs)} voices"
                )
            if weight <= 0:
                raise UnknownVoice(f"voice '{spec}': the weight of '{name}' must be positive")
            weighted.append((name, weight))
            signs.append(sign)
        languages = {self.language(n) for n, _ in weighted}
        if language is None and len(languages) > 1 and not languages <= ENGLISH:
            raise UnknownVoice(f"voice '{spec}' mixes languages {sorted(languages)}: blend voices of one language, "
                               "or say which language to read with lang_code", code="invalid_blend")
        language = language or self.language(weighted[0][0])
        if len(weighted) == 1:
            name = weighted[0][0]
            return Voice(name=name, styles=packs[name], language=language)
        total = sum(w for _, w in weighted)
        styles = sum(sign * packs[n] * (w / total) for sign, (n, w) in zip(signs, weighted, strict=True))
        name = "".join(f"{'+' if sign > 0 else '-'}{n}({w:g})" for sign, (n, w) in zip(signs, weighted, strict=True))
        return Voice(name=name[1:], styles=styles.astype(np.float32), language=language)


def load_voices(settings: Settings) -> VoiceRegistry:
    """The embedded voice packs, with those the settings add (a download, the user's watched folder, the saved
    voices) over them."""
    folders = voice_folders(settings.voices_dir, settings.cache_dir, download=settings.download_voices,
                            offline=settings.offline)
    builtin = folders[:-1] if settings.voices_dir is not None else folders  # the user's folder is watched
    packs = read_packs(builtin)
    watched = [VoiceFolder(settings.voices_dir)] if settings.voices_dir is not None else []
    return VoiceRegistry(packs, folders=watched, saved=SavedVoices(settings.saved_voices_folder()),
                         rescan_seconds=settings.voices_rescan_seconds, max_saved=settings.max_saved_voices,
                         share_saved=settings.share_saved_voices)

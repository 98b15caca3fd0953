"""Custom pronunciations: words (any case) → phonemes in Kokoro/misaki notation.

A lexicon is applied to normalized text by rewriting each whole-word match as misaki's inline markup
`[word](/phonemes/)`, which misaki speaks as given and normalize() leaves alone. Keys are normalized the
same way as the text ("GPT-4" → "GPT four"), so they match whatever the reader would say; for voices that
are not English (`british=None`) keys are only cleaned, as the text is.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Mapping

from kokoro_speech.errors import InvalidLexicon, SetupError
from kokoro_speech.kokoro import vocabulary
from kokoro_speech.text.markup import outside_markup
from kokoro_speech.text.normalize import clean, normalize

MAX_ENTRIES = 10_000
MAX_KEY_CHARACTERS = 100
MAX_PHONEME_CHARACTERS = 200
_KEY_SYMBOLS = set("[]()/\n")
_PUNCTUATION = set('!"(),.:;?—“”…')
_UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # kana and CJK ideographs


@cache
def phoneme_symbols() -> frozenset[str]:
    """What a custom pronunciation may use: the vocabulary's sounds, stress marks and spaces, no punctuation."""
    return frozenset(vocabulary()) - _PUNCTUATION


def _check_entry(word: object, phonemes: object) -> tuple[str, str]:
    if not isinstance(word, str) or not isinstance(phonemes, str):
        raise InvalidLexicon("lexicon keys and values must be strings: word → phonemes")
    word, phonemes = " ".join(word.split()), phonemes.strip()
    if not word or len(word) > MAX_KEY_CHARACTERS or _KEY_SYMBOLS & set(word):
        raise InvalidLexicon(f"lexicon word {word!r} must be 1 to {MAX_KEY_CHARACTERS} characters without []()/")
    if not phonemes or len(phonemes) > MAX_PHONEME_CHARACTERS:
        raise InvalidLexicon(f"phonemes for {word!r} must be 1 to {MAX_PHONEME_CHARACTERS} symbols")
    unknown = sorted(set(phonemes) - phoneme_symbols())
    if unknown:
        raise InvalidLexicon(
            f"phonemes for {word!r} use symbols outside Kokoro's vocabulary: {' '.join(unknown)} "
            "(use misaki notation, e.g. kˈOkəɹO)"
        )
    return word, phonemes


class Lexicon:
    """An immutable word → phonemes table with its match patterns compiled once per dialect."""

    def __init__(self, entries: Mapping[str, str] | None = None) -> None:
        self.entries = dict(entries or {})
        self._patterns: dict[bool | None, tuple[re.Pattern[str] | None, dict[str, str]]] = {}

    @classmethod
    def parse(cls, data: object) -> Lexicon:
        """A lexicon from a decoded JSON object; raises InvalidLexicon saying what is wrong."""
        if not isinstance(data, dict):
            raise InvalidLexicon("lexicon must be a JSON object mapping words to phonemes")
        if len(data) > MAX_ENTRIES:
            raise InvalidLexicon(f"lexicon has {len(data)} entries; at most {MAX_ENTRIES} are allowed")
        return cls(dict(_check_entry(word, phonemes) for word, phonemes in data.items()))

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        """The server's lexicon file; a bad file stops start-up with a message naming it."""
        try:
            return cls.parse(json.loads(Path(path).read_text(encoding="utf-8")))
        except OSError as exc:
            raise SetupError(f"cannot read the lexicon file {path}: {exc.strerror or exc}") from exc
        except (ValueError, InvalidLexicon) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise SetupError(f"the lexicon file {path} is invalid: {getattr(exc, 'message', exc)}") from exc

    def __bool__(self) -> bool:
        return bool(self.entries)

    def _compiled(self, british: bool | None) -> tuple[re.Pattern[str] | None, dict[str, str]]:
        if british not in self._patterns:
            spoken: dict[str, str] = {}
            for word, phonemes in self.entries.items():
                said = clean(word) if british is None else normalize(word, british=british)
                key = " ".join(said.split()).rstrip(".").lower()
                if key and not _KEY_SYMBOLS & set(key):
                    spoken.setdefault(key, phonemes)
            words = sorted(spoken, key=len, reverse=True)  # longest first: "New York City" before "New York"
            alternatives = "|".join(r"\s+".join(map(re.escape, w.split())) for w in words)
            # whole words; a possessive 's may follow ("Kokoro's"), other contractions may not. Japanese and
            # Chinese write no spaces: their characters never count as a word going on.
            pattern = re.compile(rf"(?<![^\W{_UNSPACED}])(?<!['’])(?:{alternatives})"
                                 rf"(?![^\W{_UNSPACED}]|['’](?![sS]\b)\w)", re.IGNORECASE)
            self._patterns[british] = (pattern if words else None, spoken)
        return self._patterns[british]

    def apply(self, text: str, british: bool | None = False) -> str:
        """`text` with every listed word (outside existing markup) written as `[word](/phonemes/)`."""
        pattern, spoken = self._compiled(british)
        if pattern is None:
            return text

        def mark(match: re.Match[str]) -> str:
            return f"[{match.group()}](/{spoken[' '.join(match.group().split()).lower()]}/)"

        return outside_markup(text, lambda stretch: pattern.sub(mark, stretch))

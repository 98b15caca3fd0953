"""Japanese and Mandarin text → Kokoro v1.0 phonemes, written by misaki exactly as Kokoro's own pipeline does.
Owns the packages they need (the `cjk` extra) and the check for them; splitting, locks and token ids are the caller's.
"""

from __future__ import annotations

import importlib.util
import re
import threading
from typing import Callable

# The packages each G2P imports, by module name, with the pinned distribution that provides it.
# misaki's own `ja` extra also lists pyopenjtalk (only its unused 'pyopenjtalk' mode needs it) and `unidic`,
# whose dictionary is downloaded by hand after install; unidic-lite ships its dictionary inside the wheel.
# Its `zh` extra also lists pypinyin-dict, which only misaki's v1.1 Mandarin frontend (Kokoro-82M-v1.1-zh) reads.
PACKAGES = {
    "j": {
        "fugashi": "fugashi==1.5.2",
        "jaconv": "jaconv==0.5.0",
        "mojimoji": "mojimoji==0.0.13",
        "unidic_lite": "unidic-lite==1.0.8",
    },
    "z": {
        "jieba": "jieba==0.42.1",
        "pypinyin": "pypinyin==0.55.0",
        "cn2an": "cn2an==0.5.24",
        "proces": "proces==0.1.7",
        "ordered_set": "ordered-set==4.1.0",
    },
}

# A run of Latin letters (with the spaces, apostrophes and hyphens inside it): misaki v1.1's own split of Mandarin text.
LATIN = re.compile(r"([A-Za-z '-]*[A-Za-z][A-Za-z '-]*)|([^A-Za-z]+)")
# misaki reads "1,000" as "1, 0" and Japanese "3.5" as "3. 5" (a sentence stop between): the only text changed
# before misaki sees it is digit grouping dropped (both languages) and a Japanese decimal point said as 点.
DIGIT_GROUP = re.compile(r"(?<=\d)[,，](?=\d{3}(?:\D|$))")
JAPANESE_DECIMAL = re.compile(r"(\d)[.．](\d+)")
FULL_WIDTH_LETTERS = {c: c - 0xFEE0 for c in [*range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]}  # Ａ-Ｚ ａ-ｚ → A-Z a-z

_construct = threading.Lock()


def missing_packages(language: str) -> str | None:
    """The `pip install` command that brings language 'j' or 'z' its G2P packages, or None when nothing is missing."""
    needed = PACKAGES.get(language, {})
    missing = [spec for module, spec in needed.items() if importlib.util.find_spec(module) is None]
    return f"pip install {' '.join(missing)}" if missing else None


def japanese_g2p(english: Callable[[str], str] | None = None) -> Callable[[str], str]:
    """Japanese text → phonemes with misaki's JAG2P() in its default 'cutlet' mode (fugashi on unidic-lite).
    Numbers are said in Japanese words by misaki (num2kana).

    Without `english`, Latin words stay in the phonemes letter for letter, as misaki (and Kokoro) write them;
    with it, each run of Latin letters is said by `english` and the Japanese around it by misaki.
    """
    import fugashi
    import unidic_lite
    from misaki import (
        cutlet,
    )  # JAG2P() is cutlet.Cutlet behind an import of pyopenjtalk that its cutlet mode never uses

    # fugashi's Tagger() prefers the full `unidic` package when present, which fails until its dictionary is
    # downloaded: hand Cutlet the bundled unidic-lite dictionary explicitly.
    tagger = fugashi.Tagger(f'-d "{unidic_lite.DICDIR}" -r "{unidic_lite.DICDIR}/mecabrc"')
    with _construct:
        default_tagger, cutlet.Tagger = cutlet.Tagger, lambda: tagger
        try:
            g2p = cutlet.Cutlet()
        finally:
            cutlet.Tagger = default_tagger

    def misaki_japanese(text: str) -> str:
        text = JAPANESE_DECIMAL.sub(lambda m: f"{m[1]}点{' '.join(m[2])}", DIGIT_GROUP.sub("", text))
        return g2p(text)[0]

    if english is None:
        return lambda text: _salvaged(misaki_japanese, text)
    return lambda text: _with_english(text, lambda part: _salvaged(misaki_japanese, part), english)


def mandarin_g2p(english: Callable[[str], str]) -> Callable[[str], str]:
    """Mandarin text → phonemes with misaki's ZHG2P(version=None), the G2P Kokoro-82M v1.0 was trained on.

    That version copies Latin words into the phonemes letter for letter; here each run of Latin letters is said
    by `english` instead and the Mandarin around it by misaki, split the way misaki's v1.1 G2P splits it.
    Other text gets exactly misaki's phonemes. Arabic numerals become Chinese numbers (cn2an, inside misaki).
    """
    import logging

    import jieba
    from misaki import zh

    jieba.setLogLevel(logging.WARNING)  # its dictionary load otherwise prints to stderr
    jieba.initialize()  # builds (or reads) its prefix-dictionary cache in the temp directory: ~1 s, once
    g2p = zh.ZHG2P(version=None)

    def misaki_mandarin(text: str) -> str:
        return g2p(DIGIT_GROUP.sub("", text))[0]

    return lambda text: _with_english(text, lambda part: _salvaged(misaki_mandarin, part), english)


def _with_english(text: str, native: Callable[[str], str], english: Callable[[str], str]) -> str:
    """Latin-letter runs to `english`, the rest to `native`, joined by spaces as misaki v1.1 joins them."""
    text = text.translate(FULL_WIDTH_LETTERS)
    if not any("A" <= c <= "Z" or "a" <= c <= "z" for c in text):
        return native(text)
    said = []
    for latin, other in LATIN.findall(text):
        part = native(other) if other.strip() else english(latin.strip()) if latin.strip() else ""
        if part.strip():
            said.append(part.strip())
    return " ".join(said)


def _salvaged(g2p: Callable[[str], str], text: str) -> str:
    """misaki raises on a few inputs (ン before a small vowel kana; some 70 rare hanzi pypinyin reads oddly):
    halve the failing text until the character misaki cannot say is alone, and leave that one out."""
    try:
        return g2p(text)
    except Exception:
        if len(text) <= 1:
            return ""
        middle = len(text) // 2
        halves = (_salvaged(g2p, text[:middle]), _salvaged(g2p, text[middle:]))
        return " ".join(half.strip() for half in halves if half.strip())

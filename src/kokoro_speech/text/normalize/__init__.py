"""Real-world text → the words a careful reader would say, before the G2P: English in full (`british=True` reads
dates day first, keeps the "and" of "one hundred and five" and spells metre and litre), the other languages' numbers,
dates, times, money and percentages in their own words (languages.py). Owns the order of the rule tables."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from kokoro_speech.text.normalize.abbreviations import ABBREVIATIONS, ROMAN_NUMERALS
from kokoro_speech.text.normalize.characters import SPACING, TIDY, UNICODE, emoji_rules
from kokoro_speech.text.normalize.dates import DATES, MONTH_ALONE
from kokoro_speech.text.normalize.identifiers import IDENTIFIERS
from kokoro_speech.text.normalize.languages import LANGUAGE_RULES
from kokoro_speech.text.normalize.markdown import CODE_BLOCKS, MARKDOWN, MARKDOWN_HINT, TABLES
from kokoro_speech.text.normalize.money import MONEY
from kokoro_speech.text.normalize.number_words import VULGAR_FRACTIONS
from kokoro_speech.text.normalize.numerals import FORMS, NUMBERS
from kokoro_speech.text.normalize.phones import PHONES
from kokoro_speech.text.normalize.ranges import DAYS, RANGES
from kokoro_speech.text.normalize.rules import Stage, apply, hiding_markup, run
from kokoro_speech.text.normalize.symbols import OPTIONAL_PLURAL, SYMBOLS
from kokoro_speech.text.normalize.times import TIMES
from kokoro_speech.text.normalize.units import BARE_UNIT, UNIT_RULES
from kokoro_speech.text.normalize.web import WEB

# misaki reads plain words well but not the rest: it would read "3/14/2024" as "three fourteen twenty twenty four",
# keep the colon of "10:30am", spell "JSON" and read "kHz" as "K H Z". Spelled acronyms ("API") stay in capitals:
# misaki spells those itself. Each rule sees the output of the ones before, so the order below is the behaviour.

# numbers are read one sentence at a time, so that no rule's look-around reaches into the next sentence
_SENTENCE = re.compile(r"((?<=[.!?])\s+(?=[\"“‘'(]?[A-Z])|\n+)")
_DIGIT = re.compile(rf"[\d²³{''.join(VULGAR_FRACTIONS)}]")


@dataclass(frozen=True)
class Reading:
    """What to do with what language models write (server settings): fenced code blocks and Markdown tables are
    read (row by row, a pause after each) or skipped; emoji are skipped or read by name."""

    code_blocks: Literal["read", "skip"] = "read"
    tables: Literal["read", "skip"] = "read"
    emoji: Literal["skip", "name"] = "skip"
    normalize: bool = True  # False: the text as written (characters tidied only), Kokoro-FastAPI's normalize: false
    off: frozenset[str] = frozenset()  # groups of OPTION_GROUPS turned off (a request's normalization_options)

    def without(self, rules: tuple) -> tuple:
        """`rules` less those of the groups turned off."""
        dropped = {id(rule) for group in self.off for rule in OPTION_GROUPS[group]}
        return tuple(rule for rule in rules if id(rule) not in dropped) if dropped else rules


DEFAULT = Reading()

# Kokoro-FastAPI's normalization_options, each switching a group of our rules (all on by default here; its
# unit_normalization is off by default there, but our unit rules read "10 KB" as a listener expects)
OPTION_GROUPS: dict[str, tuple] = {
    "url_normalization": tuple(rule for rule in WEB if rule.name != "e-mail"),
    "email_normalization": tuple(rule for rule in WEB if rule.name == "e-mail"),
    "phone_normalization": PHONES,
    "unit_normalization": (*UNIT_RULES, BARE_UNIT),
    "optional_pluralization_normalization": (OPTIONAL_PLURAL,),
    "replace_remaining_symbols": SYMBOLS,
}


@lru_cache(maxsize=16)
def _stages(reading: Reading, language: str) -> tuple[Stage, ...]:
    markdown = Stage("markdown", CODE_BLOCKS[reading.code_blocks] + TABLES[reading.tables] + MARKDOWN,
                     when=MARKDOWN_HINT)
    if language not in ("a", "b"):
        return (markdown, Stage("spacing", SPACING),
                Stage("numbers", LANGUAGE_RULES.get(language, ()), when=_DIGIT, split=_SENTENCE))
    return (  # between UNICODE and TIDY, with misaki's markup hidden
        markdown,
        Stage("spacing", SPACING),
        Stage("web", reading.without(WEB)),
        Stage("abbreviations", DAYS + ABBREVIATIONS + ROMAN_NUMERALS),
        Stage("numbers", reading.without(PHONES + IDENTIFIERS + RANGES + DATES + TIMES + FORMS + MONEY + UNIT_RULES
                                         + NUMBERS), when=_DIGIT, split=_SENTENCE),
        Stage("words", reading.without((MONTH_ALONE, BARE_UNIT, OPTIONAL_PLURAL) + SYMBOLS)),
    )


def _characters(text: str, reading: Reading, language: str) -> str:
    return apply(UNICODE, apply(emoji_rules(reading.emoji, language), text))


def clean(text: str, reading: Reading = DEFAULT) -> str:
    """Language-neutral clean-up only (Unicode, Markdown, emoji, spaces)."""
    text = _characters(text, reading, "")
    return hiding_markup(text, lambda t: run(_stages(reading, "")[:2], t)).strip()


def normalize(text: str, british: bool = False, reading: Reading = DEFAULT) -> str:
    """The words a careful reader would say for English `text` (American reading, or British with `british`)."""
    text = _characters(text, reading, "a")
    text = hiding_markup(text, lambda t: run(_stages(reading, "b" if british else "a"), t, british))
    return apply(TIDY, text).strip()


def normalize_for(text: str, language: str, reading: Reading = DEFAULT) -> str:
    """The words to read for `text` in `language` (a letter of kokoro.LANGUAGES): English as `normalize` reads it;
    the other languages cleaned up, with their numbers, dates, times, money and percentages in their own words.
    With `reading.normalize` off, the text as written: characters and spaces tidied, nothing read out."""
    if not reading.normalize:
        return apply(TIDY, _characters(text, reading, language)).strip()
    if language in ("a", "b"):
        return normalize(text, british=language == "b", reading=reading)
    text = _characters(text, reading, language)
    return apply(TIDY, hiding_markup(text, lambda t: run(_stages(reading, language), t))).strip()

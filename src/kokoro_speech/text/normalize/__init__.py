"""Real-world text → the words a careful reader would say, before misaki's G2P; `british=True` reads dates day
first, keeps the "and" of "one hundred and five" and spells metre and litre. Owns the order of the rule tables."""

from __future__ import annotations

import re

from kokoro_speech.text.normalize.abbreviations import ABBREVIATIONS, ROMAN_NUMERALS
from kokoro_speech.text.normalize.characters import SPACES, SPACING, TIDY, UNICODE
from kokoro_speech.text.normalize.dates import DATES, MONTH_ALONE
from kokoro_speech.text.normalize.markdown import MARKDOWN, MARKDOWN_HINT
from kokoro_speech.text.normalize.money import MONEY
from kokoro_speech.text.normalize.number_words import VULGAR_FRACTIONS
from kokoro_speech.text.normalize.numerals import FORMS, NUMBERS
from kokoro_speech.text.normalize.phones import PHONES
from kokoro_speech.text.normalize.rules import Stage, apply, hiding_markup, run
from kokoro_speech.text.normalize.symbols import SYMBOLS
from kokoro_speech.text.normalize.times import TIMES
from kokoro_speech.text.normalize.units import BARE_UNIT, UNIT_RULES
from kokoro_speech.text.normalize.web import WEB

# misaki reads plain words well but not the rest: it would read "3/14/2024" as "three fourteen twenty twenty four",
# keep the colon of "10:30am", spell "JSON" and read "kHz" as "K H Z". Spelled acronyms ("API") stay in capitals:
# misaki spells those itself. Each rule sees the output of the ones before, so the order below is the behaviour.

_MARKDOWN = Stage("markdown", MARKDOWN, when=MARKDOWN_HINT)
# numbers are read one sentence at a time, so that no rule's look-around reaches into the next sentence
_SENTENCE = re.compile(r"((?<=[.!?])\s+(?=[\"“‘'(]?[A-Z])|\n+)")
_DIGIT = re.compile(rf"[\d²³{''.join(VULGAR_FRACTIONS)}]")

STAGES = (  # between UNICODE and TIDY, with misaki's markup hidden
    _MARKDOWN,
    Stage("spacing", SPACING),
    Stage("web", WEB),
    Stage("abbreviations", ABBREVIATIONS + ROMAN_NUMERALS),
    Stage("numbers", PHONES + DATES + TIMES + FORMS + MONEY + UNIT_RULES + NUMBERS, when=_DIGIT, split=_SENTENCE),
    Stage("words", (MONTH_ALONE, BARE_UNIT) + SYMBOLS),
)


def clean(text: str) -> str:
    """Language-neutral clean-up only (Unicode, Markdown, emoji, spaces): for voices that are not English."""
    text = apply(UNICODE, text)
    return hiding_markup(text, lambda t: run((_MARKDOWN, Stage("spaces", (SPACES,))), t)).strip()


def normalize(text: str, british: bool = False) -> str:
    """The words a careful reader would say for `text` (American reading, or British with `british`)."""
    text = apply(UNICODE, text)
    text = hiding_markup(text, lambda t: run(STAGES, t, british))
    return apply(TIDY, text).strip()

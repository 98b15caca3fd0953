"""Units after a number ("5 kg", "44.1 kHz", "60 km/h", "-5 °C", "10-20%") and a few standing alone ("in kHz");
American spelling, or metre and litre when British."""

from __future__ import annotations

import re

from kokoro_speech.text.normalize.number_words import decimal, is_one, number
from kokoro_speech.text.normalize.rules import NUM, Rule, alternation, attributive, dialects, next_sentence
from kokoro_speech.text.normalize.tables import BARE_UNITS, UNITS, UNITS_NEED_SPACE

_UNIT_SYMBOLS = alternation(UNITS)


def _british_spelling(words: str) -> str:
    return words.replace("meter", "metre").replace("liter", "litre")


def _unit(match: re.Match[str], british: bool) -> str:
    unit, per = match.group("unit"), match.group("per")
    a, b = match.group("a"), match.group("b")
    if unit in UNITS_NEED_SPACE and (not match.group("space") or match.group("dot")):
        return match.group()
    if unit == "s" and re.fullmatch(r"\d0", a) and not match.group("space"):
        return match.group()  # "80s" is a decade
    singular, plural = UNITS[unit]
    amount = number(a, british) if not a.startswith(".") else decimal(a, british)
    if b:
        amount += " to " + number(b, british)
    words = singular if is_one(a) and not b or attributive(match) else plural
    if per:
        words += " per " + UNITS[per][0]
    if british:
        words = _british_spelling(words)
    sign = "minus " if match.group("neg") else ""
    dot = "." if match.group("dot") and next_sentence(match.string, match.end()) else ""
    return f"{sign}{amount} {words}{dot}"


UNIT_RULES = (
    Rule("percent range", re.compile(r"(?<=\d)\s?%\s?(?:-|–|—|to)\s?(?=[-−]?\d[\d.,]*\s?%)"), " to ", needs="%"),
    dialects("unit", re.compile(
        rf"(?<![\w.,])(?P<neg>[-−])?(?P<a>{NUM}|\.\d+)(?:\s?(?:-|–|—|to)\s?(?P<b>{NUM}))?"
        rf"(?P<space>\s?)(?P<unit>{_UNIT_SYMBOLS})(?:/(?P<per>{_UNIT_SYMBOLS}))?(?P<dot>\.)?(?![\w/]|\.\w)"),
             _unit),
    Rule("degrees", re.compile(r"(?<=\d)\s?°(?![CF\w])"), " degrees", needs="°"),
)

BARE_UNIT = Rule("unit alone", re.compile(rf"(?<![\w/])({alternation(BARE_UNITS)})(?![\w/])"),
                 lambda m: UNITS[m.group(1)][1], lambda m: _british_spelling(UNITS[m.group(1)][1]))

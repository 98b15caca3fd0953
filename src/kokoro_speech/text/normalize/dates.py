"""Dates: ISO ("2024-03-14"), numeric ("3/14/2024", day first when British), with month names ("March 14th",
"14 March 2024", "Mar. 2024") and month abbreviations standing alone ("in Jan.")."""

from __future__ import annotations

import re

from kokoro_speech.text.normalize.number_words import DIGITS, cardinal, ordinal, year
from kokoro_speech.text.normalize.rules import Rule, alternation, dialects, next_sentence
from kokoro_speech.text.normalize.tables import MONTH_NUMBERS, MONTHS

_MONTH_NAMES = alternation(MONTH_NUMBERS)
_MONTH = {name: MONTHS[n - 1] for name, n in MONTH_NUMBERS.items()}  # "Sept" → "September"
_MONTH_NAMED = re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)").search


def two_digit_year(y: str, british: bool) -> str:
    if len(y) == 4:
        return year(int(y), british)
    n = int(y)
    return f"oh {DIGITS[n]}" if n < 10 else cardinal(n)


def _date_words(day: int, month: int, year_text: str | None, british: bool) -> str:
    if british:
        words = f"the {ordinal(day, british)} of {MONTHS[month - 1]}"
        return f"{words} {two_digit_year(year_text, british)}" if year_text else words
    words = f"{MONTHS[month - 1]} {ordinal(day)}"
    return f"{words}, {two_digit_year(year_text, british)}" if year_text else words


def _valid(day: int, month: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= 31


def _iso_date(match: re.Match[str], british: bool) -> str:
    y, m, d, time, zone = match.groups()
    if not _valid(int(d), int(m)):
        return match.group()
    words = _date_words(int(d), int(m), y, british)
    if time:
        words += f", {time}" + (" UTC" if zone == "Z" else "")
    return words


def _numeric_date(match: re.Match[str], british: bool) -> str:
    a, separator, b, y = match.groups()
    first, second = int(a), int(b)
    if separator == "." and len(y) == 2:
        return match.group()  # "1.2.34" is a version number
    if british or separator == "." or first > 12:
        day, month = first, second
    else:
        month, day = first, second
    if not _valid(day, month):
        day, month = month, day
        if not _valid(day, month):
            return match.group()
    return _date_words(day, month, y, british)


def _month_day(match: re.Match[str], british: bool) -> str:
    month_text, day, y = match.groups()
    if not 1 <= int(day) <= 31:
        return match.group()
    if month_text == "May" and not y and re.match(r"\s+\d+\s+[a-z]", match.string[match.end(1):match.end() + 20]):
        return match.group()  # "May 3 people come?": the verb
    words = f"{_MONTH[month_text]} {ordinal(int(day), british)}"
    return f"{words}, {year(int(y), british)}" if y else words


def _day_month(match: re.Match[str], british: bool) -> str:
    the, day, month_text, y = match.groups()
    if not 1 <= int(day) <= 31 or (month_text == "May" and not match.group().endswith("May")):
        return match.group()
    words = f"the {ordinal(int(day), british)} of {_MONTH[month_text]}"
    return f"{words} {year(int(y), british)}" if y else words


DATES = (
    dialects("ISO date", re.compile(r"(?<![\w.:/-])(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?"
                                    r"(Z|[+-]\d{2}:?\d{2})?)?(?![\w-]|[.:]\d)"), _iso_date, needs="-"),
    dialects("numeric date", re.compile(r"(?<![\w.:/-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\w/-]|[.:]\d)"),
             _numeric_date, needs="/.-"),
    dialects("month day", re.compile(rf"\b({_MONTH_NAMES})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b"
                                     rf"(?!:\d|[.,]\d|\s*(?:%|[ap]\.?m\b))(?:,?\s+(\d{{4}})\b(?![.,:]\d))?"),
             _month_day, needs=_MONTH_NAMED),
    dialects("day month", re.compile(rf"(?<![\w.,])(?:(the)\s+)?(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?"
                                     rf"({_MONTH_NAMES})\b\.?(?:,?\s+(\d{{4}})\b(?![.,:]\d))?"),
             _day_month, needs=_MONTH_NAMED),
    dialects("month year", re.compile(rf"\b({_MONTH_NAMES})\.?,?\s+(\d{{4}})\b(?![.,:]\d)"),
             lambda m, british: f"{_MONTH[m.group(1)]} {year(int(m.group(2)), british)}", needs=_MONTH_NAMED),
)

MONTH_ALONE = Rule(
    "month abbreviation", re.compile(r"(?<![\w.])(Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.(?=\s|$|[,;:)])"),
    lambda m: _MONTH[m.group(1)] + ("." if next_sentence(m.string, m.end()) else ""))

"""Ranges written with a dash: days ("Mon–Fri" → "Monday to Friday"), times ("9am–5pm", "10:00–12:00") and
dates ("3–5 June", "Dec 24–26"); counts and scores ("3–4 eggs", "24–17") are the numbers' own range rule."""

from __future__ import annotations

import re

from kokoro_speech.text.normalize.number_words import ordinal, year
from kokoro_speech.text.normalize.rules import Rule, alternation, dialects
from kokoro_speech.text.normalize.tables import MONTH_NUMBERS, MONTHS, WEEKDAYS

_DASH = r"\s?(?:–|—|-)\s?"
_DAY = alternation(WEEKDAYS)
_MONTH = alternation(MONTH_NUMBERS)
_MONTH_NAME = {name: MONTHS[n - 1] for name, n in MONTH_NUMBERS.items()}
_SUFFIX = r"(?:st|nd|rd|th)?"
_TIME = r"\d{1,2}(?::[0-5]\d)?"
_MERIDIEM = r"\s?[aApP]\.?[mM]\b\.?"
_YEAR = r"(?:,?\s+(?P<year>\d{4})\b(?![.,:]\d))?"


def _days(match: re.Match[str]) -> tuple[int, int, str] | None:
    first, last = int(match.group("a")), int(match.group("b"))
    return (first, last, _MONTH_NAME[match.group("month")]) if 1 <= first < last <= 31 else None


def _with_year(match: re.Match[str], words: str, british: bool, comma: str = ",") -> str:
    y = match.group("year")
    return f"{words}{comma} {year(int(y), british)}" if y else words


def _day_range_month(match: re.Match[str], british: bool) -> str:
    """ "3–5 June" → "the third to the fifth of June"."""
    days = _days(match)
    if days is None:
        return match.group()
    first, last, month = days
    return _with_year(match, f"the {ordinal(first, british)} to the {ordinal(last, british)} of {month}", british, "")


def _month_day_range(match: re.Match[str], british: bool) -> str:
    """ "Dec 24–26" → "December twenty-fourth to twenty-sixth"."""
    days = _days(match)
    if days is None:
        return match.group()
    first, last, month = days
    return _with_year(match, f"{month} {ordinal(first, british)} to {ordinal(last, british)}", british)


# read with the abbreviations, before the numbers' stage (which skips text without digits)
DAYS = (
    # "Mon 5 June", "Fri, Dec 3", "Sun 12–4pm": a day's abbreviation before a date or a time is the day
    Rule("day before a date", re.compile(
        rf"(?<![\w.])({alternation(d for d in WEEKDAYS if len(d) <= 5)})\.?(?=,?\s+(?:\d{{1,2}}{_SUFFIX}\s+(?:{_MONTH})\b|"
        rf"(?:{_MONTH})\.?\s+\d|\d{{1,2}}/\d{{1,2}}\b|\d{{1,2}}(?::\d\d)?\s?(?:[aApP]\.?[mM]\b|[–—-]\s?\d)|\d{{1,2}}:\d\d))"),
         lambda m: WEEKDAYS[m.group(1)],
         needs=re.compile(r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)").search),
    Rule("days of the week", re.compile(rf"(?<![\w.])({_DAY})\.?{_DASH}({_DAY})\b(?![-'’]\w)"),
         lambda m: f"{WEEKDAYS[m.group(1)]} to {WEEKDAYS[m.group(2)]}",
         needs=re.compile(rf"\b(?:{_DAY})\.?\s?[–—-]").search),
)

RANGES = (
    Rule("ordinals", re.compile(r"(?<=\d)(st|nd|rd|th)\s?(?:–|—|-)\s?(?=\d+(?:st|nd|rd|th)\b)"), r"\1 to ",
         needs=re.compile(r"(?:st|nd|rd|th)\s?[–—-]\s?\d").search),
    # the second time must have minutes or AM/PM: "John 3:16-18" is a verse range, left to the times
    Rule("times", re.compile(rf"(?<![\w.:])({_TIME}(?:{_MERIDIEM})?){_DASH}(?=\d{{1,2}}(?::[0-5]\d|{_MERIDIEM}))"),
         r"\1 to ", needs=re.compile(r"[\dmM.]\s?[–—-]\s?\d").search),
    dialects("days of a month", re.compile(
        rf"(?<![\w.,/:-])(?P<a>\d{{1,2}}){_SUFFIX}{_DASH}(?P<b>\d{{1,2}}){_SUFFIX}\s+(?:of\s+)?(?P<month>{_MONTH})\b"
        rf"{_YEAR}"), _day_range_month, needs=re.compile(r"\d\s?[–—-]\s?\d").search),
    dialects("month and days", re.compile(
        rf"\b(?P<month>{_MONTH})\.?\s+(?P<a>\d{{1,2}}){_SUFFIX}{_DASH}(?P<b>\d{{1,2}}){_SUFFIX}\b(?![.,:]\d){_YEAR}"),
             _month_day_range, needs=re.compile(r"\d\s?[–—-]\s?\d").search),
)

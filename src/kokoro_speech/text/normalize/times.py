"""Clock times: "10:30am", "5.30 p.m.", "14:00", "3 PM", "6 o'clock"; and, before them, verse ranges
("John 3:16-18"), which would otherwise read as a time."""

from __future__ import annotations

import re

from kokoro_speech.text.normalize.number_words import DIGITS, cardinal
from kokoro_speech.text.normalize.rules import Rule, next_sentence

_MERIDIEM = r"(?:(?P<am>[aA]\.?\s?[mM]\b\.?)|(?P<pm>[pP]\.?\s?[mM]\b\.?))"


def _meridiem(match: re.Match[str]) -> str:
    word = "AM" if match.group("am") else "PM" if match.group("pm") else ""
    if word and match.group().endswith(".") and next_sentence(match.string, match.end()):
        word += "."  # "at 5 p.m." ending a sentence
    return word


def _clock(match: re.Match[str]) -> str:
    hours, minutes, seconds = int(match.group("h")), int(match.group("m")), match.group("s")
    meridiem = _meridiem(match)
    if meridiem and hours > 12:
        return match.group()
    words = cardinal(hours)
    if minutes == 0 and not meridiem:  # "ten o'clock"; on the 24-hour clock "fourteen hundred"
        words = "zero hundred" if hours == 0 else words + (" o'clock" if hours <= 12 else " hundred")
    elif 0 < minutes < 10:
        words += f" oh {DIGITS[minutes]}"
    elif minutes:
        words += f" {cardinal(minutes)}"
    if seconds and int(seconds):
        words += f" and {cardinal(int(seconds))} second{'s' if int(seconds) != 1 else ''}"
    if meridiem:
        words += f" {meridiem}"
    if match.group("zone"):
        words += f" {match.group('zone')}"
    return words


TIMES = (
    Rule("verse range", re.compile(r"(?<![\w.:])(\d+):(\d+)\s?[-–]\s?(\d+)(?![\w:]|\.\d)"), r"\1 \2 to \3",
         needs=":"),
    Rule("dotted clock time", re.compile(
        rf"(?<![\w.:])(?P<h>1[0-2]|0?\d)\.(?P<m>[0-5]\d)(?P<s>)\s?{_MERIDIEM}(?P<zone>)(?!\w)"), _clock,
         needs=re.compile(r"\.\d\d\s?[aApP]").search),
    Rule("clock time", re.compile(rf"(?<![\w.:])(?P<h>[01]?\d|2[0-4]):(?P<m>[0-5]\d)(?::(?P<s>[0-5]\d))?(?![\d:]|\.\d)"
                                  rf"(?:\s?{_MERIDIEM})?(?:\s?(?P<zone>[A-Z]{{2,4}}T|UTC|GMT)\b)?"), _clock, needs=":"),
    Rule("hour with AM or PM", re.compile(rf"(?<![\w.:])(?P<h>1[0-2]|0?\d)\s?{_MERIDIEM}(?!\w)"),
         lambda m: f"{cardinal(int(m.group('h')))} {_meridiem(m)}", needs="mM"),
    Rule("o'clock", re.compile(r"(?<![\w.:])(\d{1,2})\s?o[’']clock\b"),
         lambda m: f"{cardinal(int(m.group(1)))} o'clock", needs=("clock",)),
)

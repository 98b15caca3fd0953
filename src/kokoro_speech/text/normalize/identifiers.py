"""Numbers that name rather than count, read as people say them: house numbers ("221B" → "two twenty-one B"), flights,
rooms and gates ("UA 920", "Room 101" → "one oh one"), model numbers ("RTX 4090" → "forty ninety"), versions."""

from __future__ import annotations

import re

from kokoro_speech.text.normalize.number_words import DIGITS, cardinal, digits
from kokoro_speech.text.normalize.rules import Rule, alternation
from kokoro_speech.text.normalize.tables import (
    CARRIER_CODES, EMERGENCY_FOLLOWERS, IDENTIFIER_CONTEXT, MODEL_NAMES, STREET_WORDS, VERSION_CONTEXT,
)


def identifier(number: str) -> str:
    """ "7" → "seven", "101" → "one oh one", "920" → "nine twenty", "4090" → "forty ninety", "1600" →
    "sixteen hundred", "2005" → "twenty oh five", "12345" → "one two three four five"."""
    n = int(number)
    if number.startswith("0") and len(number) > 1 or len(number) > 4:
        return digits(number, zero="oh")
    if n < 100 or len(number) == 4 and n % 1000 == 0:
        return cardinal(n)
    high, low = divmod(n, 100)
    if low == 0:
        return f"{cardinal(high)} hundred"
    return f"{cardinal(high)} {'oh ' + DIGITS[low] if low < 10 else cardinal(low)}"


# misaki reads a lone "A" before a word as the article ("ɐ twelve"), and joined to its number ("A-twelve") as one
# word heard as "eight-welve": marked with misaki's inline pronunciation, it is the letter, a word of its own
LETTER_A = "[A](/ˈA/)"


def _with_letters(before: str, number: str, after: str = "") -> str:
    """ "B", "12" → "B twelve"; "A", "380" → "[A](/ˈA/) three eighty" (the letter, not the article)."""
    said = identifier(number)
    if before:
        said = f"{LETTER_A if before == 'A' else before} {said}"
    if after:
        said = f"{said} {LETTER_A if after == 'A' else after}"
    return said


def _read_number(match: re.Match[str]) -> str:
    """The match with its group "n" read as an identifier, a letter before it stuck to it or not ("Gate B12",
    "Gate A 12")."""
    start, end = match.span("n")
    text = match.string
    prefix, suffix = text[match.start():start], text[end:match.end()].strip()
    # the letters are a word of their own after the context word ("Gate A 12"), or start the match ("221B")
    letters = re.search(r"(?:(?<=\s)|^)([A-Z]{1,2})[- ]?$", prefix)
    if letters:
        prefix = prefix[:letters.start()]
    return prefix + _with_letters(letters.group(1) if letters else "", text[start:end], suffix)


def _version(match: re.Match[str]) -> str:
    parts = match.group("n").split(".")
    said = [cardinal(p) if not (p.startswith("0") and len(p) > 1) else "oh " + digits(p[1:], zero="oh")
            for p in parts]
    return match.group("word") + " point ".join(said)


_CONTEXT = alternation(IDENTIFIER_CONTEXT)
_MODELS = alternation(MODEL_NAMES)
_CARRIERS = alternation(CARRIER_CODES)
_STREETS = alternation(STREET_WORDS)
_NOT_A_QUANTITY = r"(?!\s?(?:%|[.,]\d|\d)|\s?(?:st|nd|rd|th)\b)"  # "Room 10%" or "Gate 3.5": not identifiers

IDENTIFIERS = (
    # "Gates A1–A5", "seats B12-B14": a range of them, each then read below ("A one to A five"); with a hyphen
    # only when both share their letters ("X1-Y2" may be a part number)
    Rule("range of identifiers", re.compile(
        r"(?<![\w.-])([A-Z]{1,3})(\d{1,4})(?:\s?[–—]\s?([A-Z]{1,3})|-\1)(\d{1,4})\b(?![.,]\d|-)"),
         lambda m: f"{m.group(1)}{m.group(2)} to {m.group(3) or m.group(1)}{m.group(4)}",
         needs=re.compile(r"[A-Z]\d{1,4}\s?[–—-]\s?[A-Z]").search),
    Rule("emergency number before its call", re.compile(
        rf"(?<![\w.,$£€-])(911|999|112)(?=\s+(?:{alternation(EMERGENCY_FOLLOWERS)})\b)"), lambda m: digits(m.group(1)),
         needs=("911", "999", "112")),
    # "Room 101", "Gate 42", "Gate A 12" (the letter "A", not the article), "Error 404"; "Platform
    # 9¾" is left to the fraction rule ("nine and three quarters"); "Flight 1549", "Route 66", "Bus 7"
    Rule("number after a place or service", re.compile(
        rf"(?<![\w.])((?:{_CONTEXT})[.:]?\s+(?:[A-Z]{{1,2}}[- ]?)?)(?P<n>\d{{1,5}})([A-Z]?)\b{_NOT_A_QUANTITY}"),
         _read_number, needs=re.compile(rf"(?:{_CONTEXT})[.:]?\s+(?:[A-Z]{{1,2}}[- ]?)?\d").search),
    # "I-405" → "I four oh five": an interstate (the hyphen would leave "405" a quantity)
    Rule("interstate", re.compile(r"(?<![\w.-])I-(?P<n>\d{1,3})\b(?![.,]\d)"),
         lambda m: f"I {identifier(m.group('n'))}", needs="I-"),
    Rule("port after a host", re.compile(r"(?<=\blocalhost):(?P<n>\d{2,5})\b"),
         lambda m: f" colon {identifier(m.group('n'))}", needs=("localhost:",)),
    # "UA 920", "BA117", "DL 1234": an airline's code, then its flight
    Rule("flight number", re.compile(rf"(?<![\w.])({_CARRIERS})\s?(?P<n>\d{{1,4}})\b{_NOT_A_QUANTITY}"),
         lambda m: f"{m.group(1)} {identifier(m.group('n'))}",  # misaki spells the code
         needs=re.compile(rf"\b(?:{_CARRIERS})\s?\d").search),
    # "Boeing 747", "RTX 4090", "Porsche 911": model numbers of three or four digits
    Rule("model number", re.compile(rf"(?<![\w.])((?:{_MODELS})\s?-?)(?P<n>\d{{3,4}})\b{_NOT_A_QUANTITY}"),
         lambda m: f"{m.group(1).rstrip('-').rstrip()} {identifier(m.group('n'))}",
         needs=re.compile(rf"(?:{_MODELS})\s?-?\d{{3}}").search),
    # "A380", "F150", "RTX4090", "M15", "B12": capitals stuck to a number name a thing
    Rule("letters with a number", re.compile(r"(?<![\w.-])([A-Z]{1,3})(?P<n>\d{2,4})\b(?![.,]\d|%)"),
         lambda m: _with_letters(m.group(1), m.group("n")), needs=re.compile(r"[A-Z]\d\d").search),
    # "A4 paper", "an A1 sauce": a lone "A" with one digit, the letter ("A four")
    Rule("A with a digit", re.compile(r"(?<![\w.-])A(?P<n>\d)\b(?![.,]\d|%)"),
         lambda m: _with_letters("A", m.group("n")), needs="A"),
    # "221B Baker Street", "1600 Pennsylvania Avenue", "350 Fifth Avenue": a number before a street's name
    Rule("house number", re.compile(
        rf"(?<![\w.,$£€#-])(?P<n>\d{{1,5}})([A-Z]?)(?=\s+(?:[A-Z][\w'’]*\s+){{1,3}}(?:{_STREETS})\b)"),
         _read_number, needs=re.compile(rf"\d[A-Z]?\s+[A-Z].*\b(?:{_STREETS})\b").search),
    # "12B Elm Street", and "Flat 12A" anywhere (its "A" marked as the letter)
    Rule("house number with a letter", re.compile(
        r"(?<![\w.,$£€#-])(?P<n>\d{1,4})(?:([A-Z])(?=\s+[A-Z][a-z])|(A)\b(?![.'’]\w))"), _read_number,
         needs=re.compile(r"\d[A-Z]\b").search),
    # "Version 3.11", "Python 3.10": each part a number ("three point eleven"), not digits after a point
    Rule("version", re.compile(rf"(?P<word>\b(?:{alternation(VERSION_CONTEXT)})\s+)(?P<n>\d+(?:\.\d+)+)\b(?!\.\d)"),
         _version, needs="."),
)

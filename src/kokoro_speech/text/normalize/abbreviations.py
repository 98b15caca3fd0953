"""Abbreviations and acronyms: "Dr." (Doctor or Drive), "St.", "No. 5", "e.g.", "U.S.", "vs", "C#", "JSON";
and Roman numerals after names ("Henry VIII", "World War II")."""

from __future__ import annotations

import re

from kokoro_speech.text.normalize.number_words import cardinal, ordinal
from kokoro_speech.text.normalize.rules import Rule, alternation, next_sentence, previous_word
from kokoro_speech.text.normalize.tables import (
    DOTTED_ABBREVIATIONS, NUMBER_ABBREVIATIONS, REGNAL_NAMES, ROMAN_CARDINAL_CONTEXT, SENTENCE_FINAL_ABBREVIATIONS,
    UNDOTTED_ABBREVIATIONS, WORD_ACRONYMS,
)


def _dotted(match: re.Match[str]) -> str:
    abbreviation = match.group(1)
    expansion = DOTTED_ABBREVIATIONS[abbreviation]
    if abbreviation in ("min", "max", "est", "Est", "sec") and re.search(r"\d\s*$", match.string[:match.start()]):
        return match.group()  # "5 min." is a unit: left to the unit rule
    if abbreviation in SENTENCE_FINAL_ABBREVIATIONS and next_sentence(match.string, match.end()):
        return expansion + "."
    return expansion


def _street_or_title(title: str, street: str):
    """ "Dr. Smith" → Doctor, "Elm Dr." → Drive; "St. Louis" → Saint, "Main St." → Street."""

    def read(match: re.Match[str]) -> str:
        text, end = match.string, match.end()
        following = bool(re.match(r"\s+[\"'“]?[A-Z][a-z]", text[end:end + 5]))
        previous, initial = previous_word(text, match.start())
        previous_is_name = bool(previous) and not initial and (
            (previous[0].isupper() and previous[-1].isalpha()) or bool(re.fullmatch(r"\d+(st|nd|rd|th)?", previous))
        )
        street_reading = street + ("." if match.group().endswith(".") and next_sentence(text, end) else "")
        if title == "Doctor":
            return title if following or not previous_is_name else street_reading
        return street_reading if previous_is_name or not following else title

    return read


def _initialism(match: re.Match[str]) -> str:
    """ "U.S." → "US", keeping the period when it also ends the sentence."""
    rest = match.string[match.end():].strip()
    ends_sentence = next_sentence(match.string, match.end()) and rest[:1].isupper()
    return match.group(1).replace(".", "") + ("." if ends_sentence else "")


ABBREVIATIONS = (
    Rule("sharp", re.compile(r"(?<![\w#])([A-G])#(?![\w#])"), r"\1 sharp", needs="#"),
    Rule("dotted initialism", re.compile(r"(?<![\w.])((?:[A-Z]\.){2,})(?=\s|$|[,;:)])"), _initialism,
         needs=re.compile(r"[A-Z]\.[A-Z]").search),
    Rule("abbreviation before a number", re.compile(rf"(?<![\w.])({alternation(NUMBER_ABBREVIATIONS)})\.\s*(?=\d)"),
         lambda m: NUMBER_ABBREVIATIONS[m.group(1)] + " ", needs=re.compile(r"\.\s*\d").search),
    Rule("number sign", re.compile(r"(?<![\w&#])[#№]\s?(?=\d)"), "number ", needs="#№"),
    Rule("Dr", re.compile(r"(?<![\w.])Dr\b\.?"), _street_or_title("Doctor", "Drive"), needs=("Dr",)),
    Rule("St", re.compile(r"(?<![\w.])St\b\.?"), _street_or_title("Saint", "Street"), needs=("St",)),
    Rule("Ft", re.compile(r"(?<![\w.])Ft\.?(?=\s+[A-Z])"), "Fort", needs=("Ft",)),
    # the " v" test is part of the behaviour: "Smith\nv. Jones" is read only where a word elsewhere starts with "v"
    Rule("versus", re.compile(r"(?<=[A-Za-z])\s+v\.?\s+(?=[A-Z])"), " versus ", needs=(" v",)),
    Rule("with", re.compile(r"(?<!\w)w/(?=\s)"), "with", needs="/"),
    Rule("dotted abbreviation",
         re.compile(rf"(?<![\w.])({alternation(DOTTED_ABBREVIATIONS)})\.(?=(\s+\S|\s*$|[,;:)]))"), _dotted, needs="."),
    Rule("undotted abbreviation",
         re.compile(rf"(?<![\w.])({alternation(UNDOTTED_ABBREVIATIONS)})(?=\s+[A-Z0-9])(?![\w.])"),
         lambda m: DOTTED_ABBREVIATIONS[m.group(1)]),
    # "4200 Wilshire Blvd, Suite 310": a street's abbreviation after its name, before a comma or the end
    Rule("street abbreviation", re.compile(r"(?<=[a-z] )(Ave|Rd|Blvd|Hwy|Pkwy|Ln)(?=[,;:)]|\s*$)"),
         lambda m: DOTTED_ABBREVIATIONS[m.group(1)], needs=("Ave", "Rd", "Blvd", "Hwy", "Pkwy", "Ln")),
    Rule("word acronym", re.compile(rf"(?<![\w.-])({alternation(WORD_ACRONYMS)})(?=s?\b)(?!\.\w)"),
         lambda m: WORD_ACRONYMS[m.group(1)]),
)

_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def _roman_value(numeral: str) -> int:
    values = [_ROMAN_VALUES[ch] for ch in numeral]
    pairs = zip(values, values[1:] + [0], strict=True)
    return sum(-value if value < following else value for value, following in pairs)  # "IV": 5 - 1


def _roman(match: re.Match[str]) -> str:
    first, second, numeral = match.groups()
    if not numeral or first.isupper() and not second:
        return match.group()  # no numeral; or "AND IV" in shouted text
    names = [first] + second.split()
    value = _roman_value(numeral)
    prefix = match.group()[: match.start(3) - match.start()]
    if any(name in REGNAL_NAMES for name in names[-2:]):
        return prefix + "the " + ordinal(value).capitalize()
    if names[-1] in ROMAN_CARDINAL_CONTEXT and (len(numeral) > 1 or numeral in "IVX"):
        return prefix + cardinal(value).capitalize()
    if len(numeral) == 1 or re.search(r"[LCDM]", numeral):
        return match.group()  # "Plan C", "Washington DC": letters more often than numerals
    return prefix + cardinal(value).capitalize()


ROMAN_NUMERALS = (
    Rule("Roman numeral", re.compile(r"\b([A-Z][a-z]+|[A-Z]{2,})((?:\s+[A-Z][a-z]+)?)\s+(M{0,3}(?:CM|CD|D?C{0,3})"
                                     r"(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3}))\b(?![-'’]?\w)(?!\.\w)"), _roman),
)

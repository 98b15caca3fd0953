"""Numbers themselves: first the forms that need their context (ratios, "~5", "/month", 5'11", 300 BC, the 1980s,
"3x4"), then ordinals, ranges, versions, IP addresses, fractions, signs, years and plain numbers."""

from __future__ import annotations

import re

from kokoro_speech.text.normalize.dates import two_digit_year
from kokoro_speech.text.normalize.number_words import (
    VULGAR_FRACTIONS, cardinal, decimal, digits, fraction, mixed_fraction, number, ordinal, year,
)
from kokoro_speech.text.normalize.rules import NUM, Rule, dialects
from kokoro_speech.text.normalize.tables import COUNT_CONTEXT, FUNCTION_WORDS, MONTHS, YEAR_CONTEXT

_SIGN_BEFORE = r"(?:(?<=^)|(?<=[\s(\[{=:,;/]))"  # a sign starts a number only after a space or an opening
_PER_WORDS = {"mo": "month", "yr": "year", "wk": "week", "hr": "hour", "kg": "kilogram", "lb": "pound",
              "km": "kilometer", "min": "minute", "sec": "second"}
_DECADE_NAMES = {1: "tens", 2: "twenties", 3: "thirties", 4: "forties", 5: "fifties", 6: "sixties", 7: "seventies",
                 8: "eighties", 9: "nineties"}
_SCORE_CONTEXT = re.compile(r"(?i)\b(won|lost|beat|beats|win|loss|score|scored|drew|draw|victory|defeat)\b"
                            r"[^.\n]{0,12}$")
_ERA = re.compile(r"\s*(BC|BCE|AD|CE)\b")
_YEAR = r"1[1-9]\d\d|20\d\d"
_DECADE_GATE = ("0s", "0’s", "0's")


def _feet_inches(match: re.Match[str], british: bool) -> str:
    feet, inches = match.groups()
    return (f"{cardinal(feet, british)} {'foot' if feet == '1' else 'feet'} "
            f"{number(inches, british)} {'inch' if inches == '1' else 'inches'}")


def _era_year(match: re.Match[str], british: bool) -> str:
    if match.group(1):
        return f"{year(int(match.group(1)), british)} {match.group(2).replace('.', '')}"
    return f"{match.group(3).replace('.', '')} {year(int(match.group(4)), british)}"


def _decade(match: re.Match[str], british: bool) -> str:
    century, tens, short = match.groups()
    if short:
        return _DECADE_NAMES[int(short)] if short != "0" else "noughties" if british else "two thousands"
    if tens == "0":
        return f"{cardinal(int(century))} hundreds" if century != "20" else "two thousands"
    return f"{cardinal(int(century))} {_DECADE_NAMES[int(tens)]}"


FORMS = (
    Rule("thousands with spaces", re.compile(r"(?<![\d.,+])(?<![\d+] )\d{1,3}(?: \d{3}){2,}(?! ?\d|[.,]\d)"),
         lambda m: m.group().replace(" ", ""), needs=" "),
    Rule("ratio", re.compile(r"(?<![\w.:])(\d+)(?::| : )(\d+)(?![\w:-]|\.\d)"), r"\1 to \2", needs=":"),
    Rule("approximately", re.compile(_SIGN_BEFORE + r"~(?=\s?\d)"), "about ", needs="~"),
    Rule("per", re.compile(r"(?<=\d)\s?/\s?(month|mo|year|yr|day|week|wk|hour|hr|night|person|head|unit|page|item|"
                           r"user|seat|piece|serving|share|kg|lb|gallon|liter|litre|mile|km|minute|min|second|sec)\b"),
         lambda m: " per " + _PER_WORDS.get(m.group(1), m.group(1)), needs="/"),
    dialects("feet and inches", re.compile(r"(?<![\w.])(\d+)\s?['′’]\s?(\d{1,2}(?:\.\d+)?)\s?(?:\"|″|”|'')"),
             _feet_inches, needs="'′’"),
    dialects("era year", re.compile(r"(?<![\w.,])(?:(\d{1,4})\s?(BC|BCE|AD|CE|B\.C\.|A\.D\.)|(AD|A\.D\.)\s?(\d{1,4}))"
                                    r"(?!\w|[.,]\d)"), _era_year, needs="CD"),
    # the "0s" test is part of the behaviour: "5s-6" becomes "5s to 6" only in a sentence that names a decade
    Rule("decade range", re.compile(r"(?<=\ds)\s?[-–—]\s?(?=[’']?\d)"), " to ", needs=_DECADE_GATE),
    dialects("decade", re.compile(r"(?<![\w.,])(?:(1\d|20)(\d)0|[’'](\d)0)[’']?s\b"), _decade, needs=_DECADE_GATE),
    Rule("short decade", re.compile(r"(?<![\w.,'’])([2-9])0s\b"), lambda m: _DECADE_NAMES[int(m.group(1))],
         needs=_DECADE_GATE),
    dialects("dimensions", re.compile(r"(?<![\w.])(\d+)\s?[x×]\s?(\d+)(?![\w.]|\.\d)"),
             lambda m, british: f"{cardinal(m.group(1), british)} by {cardinal(m.group(2), british)}", needs="x×"),
)


def _range(match: re.Match[str], british: bool) -> str:
    a, b = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
    if a == b and "-" in match.group():
        return f"{number(a, british)}-{number(b, british)}"  # "fifty-fifty"
    if _SCORE_CONTEXT.search(match.string[max(0, match.start() - 40):match.start()]):
        return f"{number(a, british)} to {number(b, british)}"
    if re.fullmatch(_YEAR, a) and (re.fullmatch(r"\d\d", b) or re.fullmatch(_YEAR, b)):
        return f"{year(int(a), british)} to {two_digit_year(b, british)}"
    return f"{a} to {b}"  # the numbers are read by the rules below


def _fraction(match: re.Match[str], british: bool) -> str:
    whole, numerator, denominator = match.groups()
    n, d = int(numerator), int(denominator)
    if numerator == "24" and denominator == "7" and not whole:
        return "twenty-four seven"
    if d == 0 or d > 100 or len(numerator) > 6:
        return match.group().replace("/", " slash ")
    if not whole and 10 < d <= 31 and d not in (12, 16) and n <= 12:
        return f"{cardinal(n)} {cardinal(d)}"  # "9/11": a date without its year
    if whole:
        return mixed_fraction(int(whole), n, d, british)
    return fraction(n, d, british)


def _vulgar(match: re.Match[str], british: bool) -> str:
    whole, symbol = match.groups()
    n, d = VULGAR_FRACTIONS[symbol]
    return mixed_fraction(int(whole), n, d, british) if whole else fraction(n, d, british)


def _year_or_count(match: re.Match[str], british: bool) -> str:
    text, n = match.string, int(match.group(1))
    before = text[max(0, match.start() - 30):match.start()]
    after = text[match.end():match.end() + 30]
    previous = re.search(r"([A-Za-z]+)\W*$", before)
    previous_word = previous.group(1) if previous else ""
    following = re.match(r"\s+([A-Za-z]+)", after)
    following_word = following.group(1) if following else ""
    if _ERA.match(after) or re.search(r"[(]\s*$", before) and re.match(r"\s*[)]", after) \
            or re.search(r"\b(?:Q\s?[1-4]|H\s?[12]|FY|[Cc]lass of|[Ss]ummer|[Ww]inter|[Ss]pring|[Aa]utumn|[Ff]all)\s*$",
                         before):
        return year(n, british)
    if previous_word.lower() in COUNT_CONTEXT or re.search(r"[$£€]\s*$", before):
        return cardinal(n, british)
    if following_word and following_word[0].islower() and following_word.lower() not in FUNCTION_WORDS \
            and not re.match(r"\s*[,;:.!?)]", after):
        return cardinal(n, british)  # "1984 items"
    if previous_word.lower() in YEAR_CONTEXT or previous_word in MONTHS or not previous_word or n >= 1500:
        return year(n, british)
    return cardinal(n, british)


def _points(text: str, british: bool) -> str:
    return " point ".join(cardinal(p, british) for p in text.split("."))


NUMBERS = (
    dialects("ordinal", re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)(st|nd|rd|th|ST|ND|RD|TH)\b"),
             lambda m, british: ordinal(int(m.group(1).replace(",", "")), british), needs="snrtSNRT"),
    dialects("range", re.compile(rf"(?<![\w.,/:-])({NUM})\s?(?:–|—|-(?!\s))\s?(?=\d)({NUM})(?![\w/:-]|\.\d)|"
                                 rf"(?<![\w.,/:-])({NUM})\s+(?:–|—)\s+({NUM})(?![\w/:]|\.\d)"), _range, needs="-–—"),
    dialects("version", re.compile(r"(?<![\w.])[vV](\d+(?:\.\d+)*)\b(?!\.\d)"),
             lambda m, british: "version " + _points(m.group(1), british), needs="vV"),
    Rule("IP address", re.compile(
        r"(?<![\w.])((?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3})(?![\w.]|\.\d)"),
         lambda m: " dot ".join(digits(p) for p in m.group(1).split(".")), needs="."),
    dialects("dotted number", re.compile(r"(?<![\w.])(\d+(?:\.\d+){2,})(?![\w.]|\.\d)"),
             lambda m, british: _points(m.group(1), british), needs="."),
    dialects("fraction", re.compile(r"(?<![\w./,])(?:(\d+)(?:\s+|-))?(\d+)/(\d+)(?![\w/]|\.\d)"), _fraction, needs="/"),
    dialects("fraction character", re.compile(rf"(?<![\w.])(?:(\d+)\s?)?([{''.join(VULGAR_FRACTIONS)}])"), _vulgar,
             needs="".join(VULGAR_FRACTIONS)),
    dialects("multiplier", re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)[x×](?!\w)"),
             lambda m, british: f"{number(m.group(1), british)} times", needs="x×"),
    Rule("times sign", re.compile(r"(?<=\d)\s?[x×]\s?(?=\d)"), " by ", needs="x×"),
    Rule("power", re.compile(r"(?<=\d)\s?\^\s?(\d+)"), r" to the power of \1", needs="^"),
    Rule("superscript", re.compile(r"(?<=[\w)])([²³])"), lambda m: " squared" if m.group(1) == "²" else " cubed",
         needs="²³"),
    Rule("minus", re.compile(_SIGN_BEFORE + r"[-−](?=\.?\d)"), "minus ", needs="-−"),
    Rule("plus", re.compile(_SIGN_BEFORE + r"\+(?=\d)"), "plus ", needs="+"),
    Rule("letters and digits apart", re.compile(r"(?<=[A-Za-z])-?(?=\d)|(?<=\d)(?=[A-Za-z])"), " "),
    dialects("year or count", re.compile(rf"(?<![\w.,$£€#-])({_YEAR})(?!\w|[.,]\d|\s?%)"), _year_or_count,
             needs="12"),
    dialects("decimal", re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|\.\d+)(?![\w]|\.\d)"),
             lambda m, british: decimal(m.group(1), british), needs=".,"),
    dialects("integer", re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?![\d])|\d+"),
             lambda m, british: cardinal(m.group(), british)),
)

"""Real-world text → the words a careful reader would say.

Runs before misaki's G2P, which reads plain words well but not the rest: it would read "3/14/2024" as
"three fourteen twenty twenty four", keep the colon of "10:30am", spell "JSON" and read "kHz" as "K H Z".
So this stage cleans Unicode and Markdown, drops emoji, and writes out numbers (cardinals, ordinals,
decimals, fractions, ranges, percentages, money, dates, times, years, phone numbers, units), common
abbreviations, word-like acronyms, URLs, e-mail addresses, hashtags, handles, Roman numerals and symbols
as words. Spelled acronyms ("API") stay in capitals: misaki spells those itself. misaki's own markup for
custom pronunciations, "[word](/phonemes/)", is left untouched.

Everything is regular expressions over the whole text, in a fixed order (each rule sees the output of
the ones before), so 4 kB take a few milliseconds. `british=True` reads numeric dates day first and keeps
the "and" in numbers ("one hundred and five"), and spells metre and litre.
"""

from __future__ import annotations

import re
import unicodedata

from kokoro_speech.text.normalize_numbers import (
    DIGITS,
    VULGAR_FRACTIONS,
    cardinal,
    decimal,
    digits,
    fraction,
    is_one,
    mixed_fraction,
    number,
    ordinal,
    year,
)
from kokoro_speech.text.normalize_tables import (
    BARE_UNITS,
    COUNT_CONTEXT,
    CURRENCY_CODES,
    CURRENCY_SYMBOLS,
    DOTTED_ABBREVIATIONS,
    FUNCTION_WORDS,
    MONTH_NUMBERS,
    MONTHS,
    NUMBER_ABBREVIATIONS,
    REGNAL_NAMES,
    ROMAN_CARDINAL_CONTEXT,
    SCALES,
    SENTENCE_FINAL_ABBREVIATIONS,
    UNDOTTED_ABBREVIATIONS,
    UNITS,
    UNITS_NEED_SPACE,
    WORD_ACRONYMS,
    YEAR_CONTEXT,
)

# ---------------------------------------------------------------------------------------------- Markdown

_PHONEME_MARKUP = re.compile(r"\[[^\[\]\n]+\]\(/[^()\n]*/\)")  # misaki: [word](/phonemes/)
_FENCE = re.compile(r"^[ \t]{0,3}(?:```|~~~).*(?:\n|$)", re.MULTILINE)
_RULE = re.compile(r"^[ \t]{0,3}(?:[-*_][ \t]*){3,}(?:\n|$)", re.MULTILINE)
_TABLE_SEPARATOR = re.compile(r"^[ \t]*\|?[ \t]*:?-{2,}:?[ \t]*(?:\|[ \t]*:?-{2,}:?[ \t]*)*\|?[ \t]*(?:\n|$)", re.MULTILINE)
_TABLE_ROW = re.compile(r"^[ \t]*\|(.*)\|[ \t]*$", re.MULTILINE)
_BLOCK_LINE = re.compile(r"^[ \t]{0,3}(?:(#{1,6})[ \t]+|>[ \t]?|([-*+•])[ \t]+(?=\S)|(\d+)[.)][ \t]+(?=\S))(.*)$",
                         re.MULTILINE)
_HEADING_CLOSE = re.compile(r"[ \t]+#+[ \t]*$")
_EMPHASIS = re.compile(r"(\*\*|\*|~~|`)(?=\S)(.+?)(?<=\S)\1|(?<!\w)(__|_)(?=\S)(.+?)(?<=\S)\3(?!\w)")
_LINK = re.compile(r"!?\[([^\]]*)\]\((?!/)[^)]*\)")  # [text](url) → text; misaki's [word](/phonemes/) stays
_AUTOLINK = re.compile(r"<((?:https?|ftp)://[^>\s]+|[^>\s@]+@[^>\s@]+)>")
_ENDS_SENTENCE = re.compile(r"[.!?:;…,]['\"”’)\]]*\s*$")


def _block_line(match: re.Match[str]) -> str:
    heading, bullet, numbered, content = match.groups()
    if heading:
        content = _HEADING_CLOSE.sub("", content)
    content = content.rstrip()
    if (heading or bullet or numbered) and content and not _ENDS_SENTENCE.search(content):
        content += "."  # headings and list items get a pause
    return content


def _table_row(match: re.Match[str]) -> str:
    cells = [c.strip() for c in match.group(1).split("|") if c.strip()]
    line = ", ".join(cells)
    return line + "." if line and not _ENDS_SENTENCE.search(line) else line


def _markdown(text: str) -> str:
    text = _FENCE.sub("", text)
    text = _TABLE_SEPARATOR.sub("", text)
    text = _RULE.sub("", text)
    text = _TABLE_ROW.sub(_table_row, text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _BLOCK_LINE.sub(_block_line, text)
    for _ in range(2):  # nested: ***bold italic***, **_both_**
        text = _EMPHASIS.sub(lambda m: m.group(2) if m.group(2) is not None else m.group(4), text)
    return text


# ------------------------------------------------------------------------------------------ Unicode, emoji

_KEEP_SYMBOLS = set("°©®™℃℉€£¥₹₩₽₿$¢§¶№")
_SKIN_TONES = range(0x1F3FB, 0x1F400)


_UNUSUAL = re.compile(r"[^\x20-\x7e\n\t]")


def _unusual(match: re.Match[str]) -> str:
    ch = match.group()
    if ch == "\r":
        return " "
    category = unicodedata.category(ch)
    if category in ("Zl", "Zp"):
        return "\n"
    if category[0] == "C":  # control, format (zero-width, bidi), surrogate, private use, unassigned
        return ""
    if category == "So" and ch not in _KEEP_SYMBOLS:  # emoji and pictographs: skipped silently
        return ""
    if 0xFE00 <= ord(ch) <= 0xFE0F or ch == "\u20e3" or ord(ch) in _SKIN_TONES:  # variation selectors, keycaps
        return ""
    return ch


# HTML/SSML/XML-like tags are markup, not words: <speak>, </b>, <break time="1s"/>
_MARKUP_TAG = re.compile(r"</?[A-Za-z][\w:.-]*(?:\s+[\w:.-]+(?:\s*=\s*(?:\"[^\"<>]*\"|'[^'<>]*'|[^\s<>]+))?)*\s*/?>")


def _clean_unicode(text: str) -> str:
    if "<" in text:
        text = _MARKUP_TAG.sub(" ", text)
    if text.isascii():
        return _UNUSUAL.sub(_unusual, text) if _UNUSUAL.search(text) else text
    try:
        text = unicodedata.normalize("NFC", text)
    except UnicodeError:  # pragma: no cover - lone surrogates are dropped below anyway
        pass
    return _UNUSUAL.sub(_unusual, text)


# ----------------------------------------------------------------------------- URLs, e-mail, tags, handles

_TLDS = (
    "com|org|net|edu|gov|mil|int|io|dev|ai|app|co|uk|us|ca|au|de|fr|es|it|nl|se|no|ch|jp|cn|in|br|ru|eu|"
    "info|biz|me|tv|ly|gg|xyz|tech|site|online|store|blog|news|cloud|page|sh|fm|am"
)
_SPELLED_TLDS = {"io", "ai", "uk", "us", "ca", "au", "de", "fr", "es", "it", "nl", "se", "ch", "jp", "cn", "in",
                 "br", "ru", "eu", "tv", "gg", "fm", "sh", "am", "ly", "edu", "gov", "mil", "org"}
_SPOKEN_TLDS = {"org": "org", "edu": "E D U", "gov": "gov", "mil": "mil"}
_EMAIL = re.compile(r"(?<![\w.+-])([A-Za-z0-9][\w.+-]*)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
_URL = re.compile(r"\b(?:(?:https?|ftp)://|www\.)[^\s<>\"'`]+", re.IGNORECASE)
_BARE_DOMAIN = re.compile(rf"(?<![\w@./-])((?:[A-Za-z0-9-]+\.)+(?:{_TLDS}))(/[^\s<>\"'`]*)?(?![\w@-]|\.[A-Za-z0-9])",
                          re.IGNORECASE)
_HASHTAG = re.compile(r"(?<![\w&#/])#([A-Za-z][A-Za-z0-9_]*)")
_HANDLE = re.compile(r"(?<![\w.@/])@([A-Za-z0-9_]{1,30})\b")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")


def _domain_words(host: str) -> str:
    parts = host.lower().split(".")
    words = []
    for i, part in enumerate(parts):
        if i == 0 and part == "www":
            words.append("W W W")
        elif i == len(parts) - 1 and part in _SPELLED_TLDS:
            words.append(_SPOKEN_TLDS.get(part, part.upper()))
        else:
            words.append(" ".join(p for p in part.split("-") if p))
    return " dot ".join(words)


def _path_words(path: str) -> str:
    path = re.split(r"[?#]", path, maxsplit=1)[0].strip("/")
    segments = []
    for segment in path.split("/"):
        segment = re.sub(r"\.(html?|php|aspx?)$", "", segment)
        words = re.sub(r"[-_+.%=~]+", " ", segment).strip()
        if words:
            segments.append(words)
    return " slash ".join(segments)


def _url(match: re.Match[str]) -> str:
    url = match.group()
    trailing = ""
    while url and url[-1] in ".,;:!?)]}'\"":
        trailing = url[-1] + trailing
        url = url[:-1]
    rest = re.sub(r"^[a-z]+://", "", url, flags=re.IGNORECASE)
    host, _, path = rest.partition("/")
    host = host.split("@")[-1].split(":")[0]
    words = _domain_words(host)
    path_words = _path_words(path)
    if path_words:
        words += " slash " + path_words
    return f" {words} {trailing}" if trailing else f" {words} "


def _bare_domain(match: re.Match[str]) -> str:
    words = _domain_words(match.group(1))
    path_words = _path_words(match.group(2) or "")
    return f"{words} slash {path_words}" if path_words else words


def _email(match: re.Match[str]) -> str:
    local = match.group(1)
    if local.isupper():
        local = local.lower()
    local = re.sub(r"\.", " dot ", local)
    local = local.replace("_", " underscore ").replace("+", " plus ").replace("-", " dash ")
    return f"{' '.join(local.split())} at {_domain_words(match.group(2))}"


def _hashtag(match: re.Match[str]) -> str:
    words = _CAMEL.sub(" ", match.group(1).replace("_", " "))
    return "hashtag " + " ".join(words.split())


def _handle(match: re.Match[str]) -> str:
    return "at " + " ".join(match.group(1).replace("_", " ").split())


# ------------------------------------------------------------------------------ abbreviations, acronyms

def _alternation(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_DOTTED = re.compile(rf"(?<![\w.])({_alternation(DOTTED_ABBREVIATIONS)})\.(?=(\s+\S|\s*$|[,;:)]))")
_UNDOTTED = re.compile(rf"(?<![\w.])({_alternation(UNDOTTED_ABBREVIATIONS)})(?=\s+[A-Z0-9])(?![\w.])")
_VERSUS = re.compile(r"(?<=[A-Za-z])\s+v\.?\s+(?=[A-Z])")
_NUMBER_ABBREVIATION = re.compile(rf"(?<![\w.])({_alternation(NUMBER_ABBREVIATIONS)})\.\s*(?=\d)")
_NUMBER_SIGN = re.compile(r"(?<![\w&#])[#№]\s?(?=\d)")
_DOCTOR = re.compile(r"(?<![\w.])Dr\b\.?")
_SAINT = re.compile(r"(?<![\w.])St\b\.?")
_FORT = re.compile(r"(?<![\w.])Ft\.?(?=\s+[A-Z])")
_ACRONYM = re.compile(rf"(?<![\w.-])({_alternation(WORD_ACRONYMS)})(?=s?\b)(?!\.\w)")
_WITH = re.compile(r"(?<!\w)w/(?=\s)")
_DOTTED_INITIALISM = re.compile(r"(?<![\w.])((?:[A-Z]\.){2,})(?=\s|$|[,;:)])")


def _next_sentence(text: str, end: int) -> bool:
    """Whether a new sentence (or the end of the text) follows position `end`."""
    rest = text[end:end + 3]
    return not rest.strip() or bool(re.match(r"\s+[\"'“‘(]?[A-Z]", rest))


def _dotted(match: re.Match[str]) -> str:
    abbreviation = match.group(1)
    expansion = DOTTED_ABBREVIATIONS[abbreviation]
    if abbreviation in ("min", "max", "est", "Est", "sec") and re.search(r"\d\s*$", match.string[:match.start()]):
        return match.group()  # "5 min." is a unit: left to the unit rule
    if abbreviation in SENTENCE_FINAL_ABBREVIATIONS and _next_sentence(match.string, match.end()):
        return expansion + "."
    return expansion


def _previous_word(text: str, start: int) -> tuple[str, bool]:
    """The word before `start`, and whether it starts a sentence."""
    m = re.search(r"(\S+)(\s+)$", text[max(0, start - 60):start])
    if not m:
        return "", True
    word = m.group(1)
    before = text[:start - len(m.group())].rstrip()
    return word, not before or before[-1] in ".!?\n:" or before.endswith(("\u201d", '"'))


def _street_or_title(match: re.Match[str], title: str, street: str) -> str:
    """ "Dr. Smith" → Doctor, "Elm Dr." → Drive; "St. Louis" → Saint, "Main St." → Street."""
    text, end = match.string, match.end()
    following = bool(re.match(r"\s+[\"'“]?[A-Z][a-z]", text[end:end + 5]))
    previous, initial = _previous_word(text, match.start())
    previous_is_name = bool(previous) and not initial and (
        (previous[0].isupper() and previous[-1].isalpha()) or bool(re.fullmatch(r"\d+(st|nd|rd|th)?", previous))
    )
    street_reading = street + ("." if match.group().endswith(".") and _next_sentence(text, end) else "")
    if title == "Doctor":
        return title if following or not previous_is_name else street_reading
    return street_reading if previous_is_name or not following else title


def _initialism(match: re.Match[str]) -> str:
    """ "U.S." → "US", keeping the period when it also ends the sentence."""
    rest = match.string[match.end():].strip()
    ends_sentence = _next_sentence(match.string, match.end()) and rest[:1].isupper()
    return match.group(1).replace(".", "") + ("." if ends_sentence else "")


def _abbreviations(text: str) -> str:
    if "#" in text:
        text = re.sub(r"(?<![\w#])([A-G])#(?![\w#])", r"\1 sharp", text)
    if _INITIALISM_GATE.search(text):
        text = _DOTTED_INITIALISM.sub(_initialism, text)
    if "." in text and _DIGIT.search(text):
        text = _NUMBER_ABBREVIATION.sub(lambda m: NUMBER_ABBREVIATIONS[m.group(1)] + " ", text)
    if "#" in text or "№" in text:
        text = _NUMBER_SIGN.sub("number ", text)
    if "Dr" in text:
        text = _DOCTOR.sub(lambda m: _street_or_title(m, "Doctor", "Drive"), text)
    if "St" in text:
        text = _SAINT.sub(lambda m: _street_or_title(m, "Saint", "Street"), text)
    if "Ft" in text:
        text = _FORT.sub("Fort", text)
    if " v" in text:
        text = _VERSUS.sub(" versus ", text)
    if "w/" in text:
        text = _WITH.sub("with", text)
    if "." in text:
        text = _DOTTED.sub(_dotted, text)
    text = _UNDOTTED.sub(lambda m: DOTTED_ABBREVIATIONS[m.group(1)], text)
    return _ACRONYM.sub(lambda m: WORD_ACRONYMS[m.group(1)], text)


# ------------------------------------------------------------------------------------------ Roman numerals

_ROMAN = re.compile(r"\b([A-Z][a-z]+|[A-Z]{2,})((?:\s+[A-Z][a-z]+)?)\s+(M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})"
                    r"(?:IX|IV|V?I{0,3}))\b(?![-'’]?\w)(?!\.\w)")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def _roman_value(numeral: str) -> int:
    total = 0
    for i, ch in enumerate(numeral):
        value = _ROMAN_VALUES[ch]
        total += -value if i + 1 < len(numeral) and _ROMAN_VALUES[numeral[i + 1]] > value else value
    return total


def _roman(match: re.Match[str]) -> str:
    first, second, numeral = match.groups()
    if not numeral:
        return match.group()
    names = [first] + second.split()
    value = _roman_value(numeral)
    prefix = match.group()[: match.start(3) - match.start()]
    if first.isupper() and not second:
        return match.group()  # "AND IV" in shouted text: leave
    if any(name in REGNAL_NAMES for name in names[-2:]):
        if numeral == "I" and not second and _previous_word(match.string, match.start())[0][:1].islower():
            pass  # "with Henry I" is fine, handled below
        return prefix + "the " + ordinal(value).capitalize()
    if names[-1] in ROMAN_CARDINAL_CONTEXT and (len(numeral) > 1 or numeral in "IVX"):
        return prefix + cardinal(value).capitalize()
    if len(numeral) == 1 or re.search(r"[LCDM]", numeral):
        return match.group()
    return prefix + cardinal(value).capitalize()


# --------------------------------------------------------------------------------------- phone numbers

_PHONE_PATTERNS = (
    re.compile(r"(?<![\w+])(\+\d{1,3})[\s.-]?(\(?\d{1,4}\)?(?:[\s.-]\d{2,4}){1,4})(?![\w-]|[.,]\d)"),
    re.compile(r"(?<![\w(])(\(\d{3}\)\s?\d{3}[\s.-]\d{4}|\d{3}[.-]\d{3}[.-]\d{4}|1-\d{3}-\d{3}-\d{4})(?![\w-]|[.,]\d)"),
    re.compile(r"(?<![\w.,-])(0\d{2,4}[\s-]\d{3,4}[\s-]?\d{3,4})(?![\w-]|[.,]\d)"),
)
_PHONE_CONTEXT = re.compile(r"(?i)\b(call|phone|tel|telephone|fax|dial|text|mobile|cell|number|contact|reach)\b[^.\n]{0,20}$")
_SHORT_PHONE = re.compile(r"(?<![\w.,-])(\d{3})-(\d{4})(?![\w-]|[.,]\d)")


def _phone_words(text: str) -> str:
    groups = re.findall(r"\+?\d+", text)
    spoken = []
    for group in groups:
        if group.startswith("+"):
            spoken.append("plus " + digits(group[1:], zero="oh"))
        else:
            spoken.append(digits(group, zero="oh"))
    return ", ".join(spoken)


_PHONE_GATE = re.compile(r"\d[\s.)-]{1,2}\d\d")


def _phones(text: str) -> str:
    if "911" in text or "999" in text or "112" in text:
        text = _EMERGENCY.sub(lambda m: m.group(1) + m.group(2) + digits(m.group(3)), text)
    if not _PHONE_GATE.search(text):
        return text
    for pattern in _PHONE_PATTERNS:
        text = pattern.sub(lambda m: _phone_words(m.group()), text)
    return _SHORT_PHONE.sub(
        lambda m: _phone_words(m.group()) if _PHONE_CONTEXT.search(m.string[max(0, m.start() - 40):m.start()])
        else m.group(), text)


# --------------------------------------------------------------------------------------------- dates

_MONTH_NAMES = _alternation(MONTH_NUMBERS)
_ISO_DATE = re.compile(r"(?<![\w.:/-])(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?"
                       r"(?![\w-]|[.:]\d)")
_NUMERIC_DATE = re.compile(r"(?<![\w.:/-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\w/-]|[.:]\d)")
_MONTH_DAY = re.compile(rf"\b({_MONTH_NAMES})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?!:\d|[.,]\d|\s*(?:%|[ap]\.?m\b))"
                        rf"(?:,?\s+(\d{{4}})\b(?![.,:]\d))?")
_DAY_MONTH = re.compile(rf"(?<![\w.,])(?:(the)\s+)?(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_NAMES})\b\.?"
                        rf"(?:,?\s+(\d{{4}})\b(?![.,:]\d))?")
_MONTH_YEAR = re.compile(rf"\b({_MONTH_NAMES})\.?,?\s+(\d{{4}})\b(?![.,:]\d)")
_MONTH_INDEX = {name: n for name, n in MONTH_NUMBERS.items()}
_MONTH_GATE = re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)")
_MONTH_ALONE = re.compile(r"(?<![\w.])(Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.(?=\s|$|[,;:)])")


def _month_name(month: int) -> str:
    return MONTHS[month - 1]


def _two_digit_year(y: str, british: bool) -> str:
    if len(y) == 4:
        return year(int(y), british)
    n = int(y)
    return f"oh {DIGITS[n]}" if n < 10 else cardinal(n)


def _date_words(day: int, month: int, year_text: str | None, british: bool) -> str:
    if british:
        words = f"the {ordinal(day, british)} of {_month_name(month)}"
        return f"{words} {_two_digit_year(year_text, british)}" if year_text else words
    words = f"{_month_name(month)} {ordinal(day)}"
    return f"{words}, {_two_digit_year(year_text, british)}" if year_text else words


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
    month = _MONTH_INDEX[month_text]
    if not 1 <= int(day) <= 31:
        return match.group()
    if month_text == "May" and not y and re.match(r"\s+\d+\s+[a-z]", match.string[match.end(1):match.end() + 20]):
        return match.group()
    words = f"{_month_name(month)} {ordinal(int(day), british)}"
    return f"{words}, {year(int(y), british)}" if y else words


def _day_month(match: re.Match[str], british: bool) -> str:
    the, day, month_text, y = match.groups()
    if not 1 <= int(day) <= 31 or (month_text == "May" and not match.group().endswith("May")):
        return match.group()
    if month_text == "May" and not the and not y and not re.search(r"\d(st|nd|rd|th)?\s+(of\s+)?May$", match.group()):
        return match.group()
    words = f"the {ordinal(int(day), british)} of {_month_name(_MONTH_INDEX[month_text])}"
    return f"{words} {year(int(y), british)}" if y else words


def _dates(text: str, british: bool) -> str:
    if "-" in text:
        text = _ISO_DATE.sub(lambda m: _iso_date(m, british), text)
    if "/" in text or "." in text or "-" in text:
        text = _NUMERIC_DATE.sub(lambda m: _numeric_date(m, british), text)
    if not _MONTH_GATE.search(text):
        return text
    text = _MONTH_DAY.sub(lambda m: _month_day(m, british), text)
    text = _DAY_MONTH.sub(lambda m: _day_month(m, british), text)
    text = _MONTH_YEAR.sub(lambda m: f"{_month_name(_MONTH_INDEX[m.group(1)])} {year(int(m.group(2)), british)}", text)
    return text


# --------------------------------------------------------------------------------------------- times

_MERIDIEM = r"(?:(?P<am>[aA]\.?\s?[mM]\b\.?)|(?P<pm>[pP]\.?\s?[mM]\b\.?))"
_CLOCK = re.compile(rf"(?<![\w.:])(?P<h>[01]?\d|2[0-4]):(?P<m>[0-5]\d)(?::(?P<s>[0-5]\d))?(?![\d:]|\.\d)"
                    rf"(?:\s?{_MERIDIEM})?(?:\s?(?P<zone>[A-Z]{{2,4}}T|UTC|GMT)\b)?")
_DOTTED_CLOCK = re.compile(rf"(?<![\w.:])(?P<h>1[0-2]|0?\d)\.(?P<m>[0-5]\d)(?P<s>)\s?{_MERIDIEM}(?P<zone>)(?!\w)")
_HOUR_MERIDIEM = re.compile(rf"(?<![\w.:])(?P<h>1[0-2]|0?\d)\s?{_MERIDIEM}(?!\w)")
_OCLOCK = re.compile(r"(?<![\w.:])(\d{1,2})\s?o[’']clock\b")


def _meridiem(match: re.Match[str]) -> str:
    word = "AM" if match.group("am") else "PM" if match.group("pm") else ""
    if word and match.group().endswith(".") and _next_sentence(match.string, match.end()):
        word += "."  # "at 5 p.m." ending a sentence
    return word


def _clock(match: re.Match[str]) -> str:
    hours, minutes, seconds = int(match.group("h")), int(match.group("m")), match.group("s")
    meridiem = _meridiem(match)
    if hours > 24 or (meridiem and hours > 12):
        return match.group()
    words = cardinal(hours)
    if minutes == 0:
        if meridiem:
            pass
        elif hours <= 12 and hours != 0:
            words += " o'clock"
        elif hours == 0:
            words = "zero hundred"
        else:
            words += " hundred"
    elif minutes < 10:
        words += f" oh {DIGITS[minutes]}"
    else:
        words += f" {cardinal(minutes)}"
    if seconds and int(seconds):
        words += f" and {cardinal(int(seconds))} second{'s' if int(seconds) != 1 else ''}"
    if meridiem:
        words += f" {meridiem}"
    if match.group("zone"):
        words += f" {match.group('zone')}"
    return words


def _times(text: str) -> str:
    meridiem = "m" in text or "M" in text
    if meridiem and "." in text:
        text = _DOTTED_CLOCK.sub(_clock, text)
    if ":" in text:
        text = _CLOCK.sub(_clock, text)
    if meridiem:
        text = _HOUR_MERIDIEM.sub(lambda m: f"{cardinal(int(m.group('h')))} {_meridiem(m)}", text)
    if "clock" in text:
        text = _OCLOCK.sub(lambda m: f"{cardinal(int(m.group(1)))} o'clock", text)
    return text


# ------------------------------------------------------------------------------------------ money

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_CURRENCY_SYMBOL = _alternation(CURRENCY_SYMBOLS)
_SCALE = _alternation(SCALES)
_MONEY = re.compile(
    rf"(?<![\w$£€¥₹])(?P<neg>[-−])?(?P<cur>{_CURRENCY_SYMBOL})\s?(?P<a>{_NUM})"
    rf"(?:\s?(?:-|–|—|to)\s?(?:(?P=cur))?(?P<b>{_NUM}))?(?:\s?(?P<scale>{_SCALE})\b)?"
)
_MONEY_CODE_AFTER = re.compile(rf"(?<![\w.])(?P<a>{_NUM})(?:\s?(?P<scale>{_SCALE})\b)?\s?(?P<code>{_alternation(CURRENCY_CODES)})\b")
_MONEY_CODE_BEFORE = re.compile(rf"\b(?P<code>{_alternation(CURRENCY_CODES)})\s?(?P<a>{_NUM})(?:\s?(?P<scale>{_SCALE})\b)?")
_CENTS = re.compile(r"(?<![\w.])(\d+)\s?¢")
_PENCE = re.compile(r"(?<![\w.£$€])(\d{1,3})p\b")


def _amount(text: str, unit: str, units: str, sub: str, subs: str, british: bool) -> str:
    whole, _, cents = text.replace(",", "").partition(".")
    if cents and (len(cents) != 2 or not sub):
        return f"{decimal(text, british)} {units}"
    words = f"{cardinal(whole, british)} {unit if whole.lstrip('0') == '1' or whole == '1' else units}"
    if not cents or int(cents) == 0:
        return words
    cent_words = f"{cardinal(int(cents), british)} {sub if int(cents) == 1 else subs}"
    if int(whole) == 0:
        return cent_words
    if unit in ("pound", "euro"):
        return f"{words} {cardinal(int(cents), british)}"  # "three pounds fifty"
    return f"{words} and {cent_words}"


def _attributive(match: re.Match[str]) -> bool:
    """ "a $5 billion deal", "a 256 GB phone": the unit is read in the singular."""
    text = match.string
    if not re.search(r"(?:^|\W)(?:[Aa]n?|[Tt]he)\s+$", text[max(0, match.start() - 5):match.start()]):
        return False
    following = re.match(r"\s+([a-z]+)\b", text[match.end():match.end() + 30])
    return bool(following) and following.group(1) not in FUNCTION_WORDS


def _money(match: re.Match[str], british: bool) -> str:
    unit, units, sub, subs = CURRENCY_SYMBOLS[match.group("cur")]
    if _attributive(match) and not (match.group("a").partition(".")[2] and not match.group("scale")):
        units = unit
    a, b, scale = match.group("a"), match.group("b"), match.group("scale")
    sign = "minus " if match.group("neg") else ""
    if scale:
        scale_word = SCALES[scale]
        amount = f"{number(a, british)} {scale_word}"
        if b:
            amount = f"{number(a, british)} to {number(b, british)} {scale_word}"
        return f"{sign}{amount} {units}"
    if b:
        return f"{sign}{number(a, british)} to {number(b, british)} {units}"
    return sign + _amount(a, unit, units, sub, subs, british)


def _money_code(match: re.Match[str], british: bool) -> str:
    unit, units = CURRENCY_CODES[match.group("code")]
    a, scale = match.group("a"), match.group("scale")
    if scale:
        return f"{number(a, british)} {SCALES[scale]} {units}"
    return f"{number(a, british)} {unit if is_one(a) else units}"


def _currencies(text: str, british: bool) -> str:
    if any(symbol in text for symbol in CURRENCY_SYMBOLS):
        text = _MONEY.sub(lambda m: _money(m, british), text)
    if any(code in text for code in CURRENCY_CODES):
        text = _MONEY_CODE_BEFORE.sub(lambda m: _money_code(m, british), text)
        text = _MONEY_CODE_AFTER.sub(lambda m: _money_code(m, british), text)
    if "¢" in text:
        text = _CENTS.sub(lambda m: f"{cardinal(m.group(1), british)} {'cent' if m.group(1) == '1' else 'cents'}", text)
    if "p" in text:
        text = _PENCE.sub(lambda m: f"{cardinal(m.group(1), british)} {'penny' if m.group(1) == '1' else 'pence'}", text)
    return text


# ------------------------------------------------------------------------------------------ units

_UNIT_SYMBOLS = _alternation(UNITS)
_UNIT = re.compile(
    rf"(?<![\w.,])(?P<neg>[-−])?(?P<a>{_NUM}|\.\d+)(?:\s?(?:-|–|—|to)\s?(?P<b>{_NUM}))?"
    rf"(?P<space>\s?)(?P<unit>{_UNIT_SYMBOLS})(?:/(?P<per>{_UNIT_SYMBOLS}))?(?P<dot>\.)?(?![\w/]|\.\w)"
)
_BARE_UNIT = re.compile(rf"(?<![\w/])({_alternation(BARE_UNITS)})(?![\w/])")
_DEGREES_ALONE = re.compile(r"(?<=\d)\s?°(?![CF\w])")
_PER_UNIT = {"h": "hour", "s": "second", "min": "minute", "hr": "hour"}


def _british_spelling(words: str) -> str:
    return words.replace("meter", "metre").replace("liter", "litre")


def _unit(match: re.Match[str], british: bool) -> str:
    unit, per = match.group("unit"), match.group("per")
    a, b = match.group("a"), match.group("b")
    if unit in UNITS_NEED_SPACE and not match.group("space") and unit not in ("m", "s", "h", "g", "L", "l") \
            or unit == "A" and not match.group("space"):
        return match.group()
    if unit in ("K", "A", "B", "V", "W") and match.group("dot"):
        return match.group()
    if unit == "s" and re.fullmatch(r"\d0", a) and not match.group("space"):
        return match.group()  # "80s" is a decade
    if unit in ("in",):
        return match.group()
    singular, plural = UNITS[unit]
    amount = number(a, british) if not a.startswith(".") else decimal(a, british)
    if b:
        amount += " to " + number(b, british)
    words = singular if is_one(a) and not b or _attributive(match) else plural
    if per:
        words += " per " + _PER_UNIT.get(per, UNITS[per][0])
    if british:
        words = _british_spelling(words)
    sign = "minus " if match.group("neg") else ""
    dot = "." if match.group("dot") and _next_sentence(match.string, match.end()) else ""
    return f"{sign}{amount} {words}{dot}"


def _units(text: str, british: bool) -> str:
    return _UNIT.sub(lambda m: _unit(m, british), text)


# ----------------------------------------------------------------------------------------- numbers

_DECADE = re.compile(r"(?<![\w.,])(?:(1\d|20)(\d)0|[’'](\d)0)[’']?s\b")
_DECADE_SHORT = re.compile(r"(?<![\w.,'’])([2-9])0s\b")
_DECADE_NAMES = {1: "tens", 2: "twenties", 3: "thirties", 4: "forties", 5: "fifties", 6: "sixties", 7: "seventies",
                 8: "eighties", 9: "nineties"}
_ORDINAL = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)(st|nd|rd|th|ST|ND|RD|TH)\b")
_RANGE = re.compile(rf"(?<![\w.,/:-])({_NUM})\s?(?:–|—|-(?!\s))\s?(?=\d)({_NUM})(?![\w/:-]|\.\d)|"
                    rf"(?<![\w.,/:-])({_NUM})\s+(?:–|—)\s+({_NUM})(?![\w/:]|\.\d)")
_SCORE_CONTEXT = re.compile(r"(?i)\b(won|lost|beat|beats|win|loss|score|scored|drew|draw|victory|defeat)\b[^.\n]{0,12}$")
_VERSION = re.compile(r"(?<![\w.])[vV](\d+(?:\.\d+)*)\b(?!\.\d)")
_DOTTED_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+){2,})(?![\w.]|\.\d)")
_IPV4 = re.compile(r"(?<![\w.])((?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3})(?![\w.]|\.\d)")
_FRACTION = re.compile(r"(?<![\w./,])(?:(\d+)(?:\s+|-))?(\d+)/(\d+)(?![\w/]|\.\d)")
_VULGAR = re.compile(rf"(?<![\w.])(?:(\d+)\s?)?([{''.join(VULGAR_FRACTIONS)}])")
_TIMES_SIGN = re.compile(r"(?<=\d)\s?[x×]\s?(?=\d)")
_MULTIPLIER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)[x×](?!\w)")
_NEGATIVE = re.compile(r"(?:(?<=^)|(?<=[\s(\[{=:,;/]))[-−](?=\.?\d)")
_PLUS_NUMBER = re.compile(r"(?:(?<=^)|(?<=[\s(\[{=:,;/]))\+(?=\d)")
_APPROX = re.compile(r"(?:(?<=^)|(?<=[\s(\[{=:,;/]))~(?=\s?\d)")
_POWER = re.compile(r"(?<=\d)\s?\^\s?(\d+)")
_SUPERSCRIPTS = {"²": "squared", "³": "cubed"}
_SUPERSCRIPT = re.compile(r"(?<=[\w)])([²³])")
_LETTER_DIGIT = re.compile(r"(?<=[A-Za-z])-?(?=\d)|(?<=\d)(?=[A-Za-z])")
_YEARISH = re.compile(r"(?<![\w.,$£€#-])(1[1-9]\d\d|20\d\d)(?!\w|[.,]\d|\s?%)")
_DECIMAL = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|\.\d+)(?![\w]|\.\d)")
_INTEGER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?![\d])|\d+")
_ERA = re.compile(r"\s*(BC|BCE|AD|CE)\b")
_ERA_YEAR = re.compile(r"(?<![\w.,])(?:(\d{1,4})\s?(BC|BCE|AD|CE|B\.C\.|A\.D\.)|(AD|A\.D\.)\s?(\d{1,4}))(?!\w|[.,]\d)")
_DIMENSIONS = re.compile(r"(?<![\w.])(\d+)\s?[x×]\s?(\d+)(?![\w.]|\.\d)")


_PER = re.compile(r"(?<=\d)\s?/\s?(month|mo|year|yr|day|week|wk|hour|hr|night|person|head|unit|page|item|user|seat|"
                  r"piece|serving|share|kg|lb|gallon|liter|litre|mile|km|minute|min|second|sec)\b")
_PER_WORDS = {"mo": "month", "yr": "year", "wk": "week", "hr": "hour", "kg": "kilogram", "lb": "pound", "km": "kilometer",
              "min": "minute", "sec": "second"}
_RATIO = re.compile(r"(?<![\w.:])(\d+)(?::| : )(\d+)(?![\w:-]|\.\d)")
_VERSES = re.compile(r"(?<![\w.:])(\d+):(\d+)\s?[-–]\s?(\d+)(?![\w:]|\.\d)")
_PERCENT_RANGE = re.compile(r"(?<=\d)\s?%\s?(?:-|–|—|to)\s?(?=[-−]?\d[\d.,]*\s?%)")
_SPACED_THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?:[\u00a0\u2009\u202f]\d{3})+(?!\d)")
_SPACE_THOUSANDS = re.compile(r"(?<![\d.,+])(?<![\d+] )\d{1,3}(?: \d{3}){2,}(?! ?\d|[.,]\d)")
_FILE_NAME = re.compile(r"(?<![\w.@/])([A-Za-z_][\w-]*)\.(json|jsonl|yaml|yml|toml|py|js|ts|md|txt|csv|pdf|html|css|png|jpe?g|gif|"
                        r"mp3|mp4|wav|zip|exe|sh|xml|sql|log|ini|cfg|rs|rb|cpp|docx|xlsx|pptx|svg|webp|gz|onnx|bin|pt)\b(?!\.\w)")
_EXTENSIONS = {
    "json": "Jay-son", "jsonl": "Jay-son L", "yaml": "Yaml", "yml": "Yaml", "toml": "Toml", "py": "pie", "js": "J S",
    "ts": "T S", "md": "M D", "txt": "text", "csv": "CSV", "pdf": "PDF", "html": "HTML", "css": "CSS", "png": "PNG",
    "jpg": "Jay-peg", "jpeg": "Jay-peg", "gif": "gif", "mp3": "MP three", "mp4": "MP four", "wav": "wave",
    "zip": "zip", "exe": "E X E", "sh": "S H", "xml": "XML", "sql": "sequel", "log": "log", "ini": "I N I",
    "cfg": "config", "rs": "R S", "rb": "R B", "cpp": "C P P", "docx": "doc X", "xlsx": "X L S X",
    "pptx": "P P T X", "svg": "SVG", "webp": "web P", "gz": "G Z", "onnx": "onnx", "bin": "bin", "pt": "P T",
}
_FEET_INCHES = re.compile(r"(?<![\w.])(\d+)\s?['′’]\s?(\d{1,2}(?:\.\d+)?)\s?(?:\"|″|”|'')")
_EMERGENCY = re.compile(r"(?i)\b(call|dial|ring|phone|text)(\s+)(911|999|112|999)\b")


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
    tens = int(tens)
    if tens == 0:
        return f"{cardinal(int(century))} hundreds" if century != "20" else "two thousands"
    return f"{cardinal(int(century))} {_DECADE_NAMES[tens]}"


def _range(match: re.Match[str], british: bool) -> str:
    a, b = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
    prefix = match.string[max(0, match.start() - 40):match.start()]
    if a == b and "-" in match.group():
        return f"{number(a, british)}-{number(b, british)}"  # "fifty-fifty"
    if _SCORE_CONTEXT.search(prefix):
        return f"{number(a, british)} to {number(b, british)}"
    if re.fullmatch(r"1[1-9]\d\d|20\d\d", a) and (re.fullmatch(r"\d\d", b) or re.fullmatch(r"1[1-9]\d\d|20\d\d", b)):
        second = year(int(b), british) if len(b) == 4 else (f"oh {DIGITS[int(b)]}" if int(b) < 10 else cardinal(b))
        return f"{year(int(a), british)} to {second}"
    return f"{a} to {b}"


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
            or re.search(r"\b(?:Q\s?[1-4]|H\s?[12]|FY|[Cc]lass of|[Ss]ummer|[Ww]inter|[Ss]pring|[Aa]utumn|[Ff]all)\s*$", before):
        return year(n, british)
    if previous_word.lower() in COUNT_CONTEXT or re.search(r"[$£€]\s*$", before):
        return cardinal(n, british)
    if following_word and following_word[0].islower() and following_word.lower() not in FUNCTION_WORDS \
            and not re.match(r"\s*[,;:.!?)]", after):
        return cardinal(n, british)  # "1984 items"
    if previous_word.lower() in YEAR_CONTEXT or previous_word in MONTHS or not previous_word \
            or n >= 1500:
        return year(n, british)
    return cardinal(n, british)


def _numbers(text: str, british: bool) -> str:
    if "st" in text or "nd" in text or "rd" in text or "th" in text or "ST" in text or "ND" in text \
            or "RD" in text or "TH" in text:
        text = _ORDINAL.sub(lambda m: ordinal(int(m.group(1).replace(",", "")), british), text)
    if "-" in text or "–" in text or "—" in text:
        text = _RANGE.sub(lambda m: _range(m, british), text)
    if "v" in text or "V" in text:
        text = _VERSION.sub(lambda m: "version " + " point ".join(cardinal(p, british) for p in m.group(1).split(".")),
                            text)
    if "." in text:
        text = _IPV4.sub(lambda m: " dot ".join(digits(p) for p in m.group(1).split(".")), text)
        text = _DOTTED_NUMBER.sub(lambda m: " point ".join(cardinal(p, british) for p in m.group(1).split(".")), text)
    if "/" in text:
        text = _FRACTION.sub(lambda m: _fraction(m, british), text)
    if any(c in text for c in VULGAR_FRACTIONS):
        text = _VULGAR.sub(lambda m: _vulgar(m, british), text)
    if "x" in text or "×" in text:
        text = _MULTIPLIER.sub(lambda m: f"{number(m.group(1), british)} times", text)
        text = _TIMES_SIGN.sub(" by ", text)
    if "^" in text:
        text = _POWER.sub(lambda m: f" to the power of {m.group(1)}", text)
    if "²" in text or "³" in text:
        text = _SUPERSCRIPT.sub(lambda m: " " + _SUPERSCRIPTS[m.group(1)], text)
    if "-" in text or "−" in text:
        text = _NEGATIVE.sub("minus ", text)
    if "+" in text:
        text = _PLUS_NUMBER.sub("plus ", text)
    text = _LETTER_DIGIT.sub(" ", text)
    if "1" in text or "20" in text:
        text = _YEARISH.sub(lambda m: _year_or_count(m, british), text)
    if "." in text or "," in text:
        text = _DECIMAL.sub(lambda m: decimal(m.group(1), british), text)
    return _INTEGER.sub(lambda m: cardinal(m.group(), british), text)


# ------------------------------------------------------------------------------------------ symbols

_SYMBOLS = (  # (characters that must be present, pattern, replacement)
    ("&", re.compile(r"\s*&\s*"), " and "),
    ("+", re.compile(r"(?<=\w)\+\+"), " plus plus"),
    ("=", re.compile(r"\s*(?<![=!<>])==?(?![=>])\s*"), " equals "),
    ("≠", re.compile(r"\s*≠\s*"), " does not equal "),
    ("≈", re.compile(r"\s*≈\s*"), " approximately "),
    ("≤<", re.compile(r"\s*≤\s*|\s+<=\s+"), " less than or equal to "),
    ("≥>", re.compile(r"\s*≥\s*|\s+>=\s+"), " greater than or equal to "),
    ("<", re.compile(r"(?<=\w)\s+<\s+(?=\w)"), " less than "),
    (">", re.compile(r"(?<=\w)\s+>\s+(?=\w)"), " greater than "),
    ("→⇒>", re.compile(r"\s*(?:→|->|⇒|=>)\s*"), " to "),
    ("±", re.compile(r"\s*±\s*"), " plus or minus "),
    ("×", re.compile(r"\s*×\s*"), " times "),
    ("÷", re.compile(r"\s*÷\s*"), " divided by "),
    ("+", re.compile(r"\s*\+\s*"), " plus "),
    ("-−", re.compile(r"(?<=\s)[-−](?=\s+(?:zero|one|two|three|four|five|six|seven|eight|nine|ten)\b)"), "minus"),
    ("@", re.compile(r"\s*@\s*"), " at "),
    ("%", re.compile(r"\s*%"), " percent"),
    ("°", re.compile(r"°"), " degrees "),
    ("§", re.compile(r"§\s*"), "section "),
    ("©", re.compile(r"©\s*"), "copyright "),
    ("®™", re.compile(r"[®™]"), ""),
    ("/", re.compile(r"(?<=\w)/(?=\w)"), " or "),
    ("•·|¦", re.compile(r"\s*[•·|¦]\s*"), ", "),
    ("#*^_~`\\<>{}¶", re.compile(r"[#*^_~`\\<>{}¶]"), " "),
)


def _symbols(text: str) -> str:
    if "/" in text:
        text = re.sub(r"\band/or\b", "and or", text)
    for gate, pattern, replacement in _SYMBOLS:
        if any(c in text for c in gate):
            text = pattern.sub(replacement, text)
    return text


# ---------------------------------------------------------------------------------------------- main

_PLACEHOLDER = re.compile("\ue000([\ue100-\uefff]+)\ue001")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


def _protect(text: str) -> tuple[str, list[str]]:
    kept: list[str] = []

    def keep(match: re.Match[str]) -> str:
        kept.append(match.group())
        index = len(kept) - 1
        code = ""
        while True:
            code = chr(0xE100 + index % 0xE00) + code
            index //= 0xE00
            if not index:
                break
        return f" \ue000{code}\ue001 "

    return _PHONEME_MARKUP.sub(keep, text), kept


def _restore(text: str, kept: list[str]) -> str:
    def back(match: re.Match[str]) -> str:
        index = 0
        for ch in match.group(1):
            index = index * 0xE00 + ord(ch) - 0xE100
        return kept[index] if index < len(kept) else ""

    return _PLACEHOLDER.sub(back, text)


_DIGIT = re.compile(rf"[\d²³{''.join(VULGAR_FRACTIONS)}]")
_CHUNK = re.compile(r"(?<=[.!?])\s+(?=[\"“‘'(]?[A-Z])|\n+")
_TLD_GATE = re.compile(rf"\.(?:{_TLDS})\b", re.IGNORECASE)
_EXTENSION_GATE = re.compile(r"\.[a-z]{1,5}\b")
_INITIALISM_GATE = re.compile(r"[A-Z]\.[A-Z]")
_MARKDOWN_GATE = re.compile(r"^[ \t]*(?:#|>|[-*+•] |\d+[.)] |\||```|~~~)|[-*_]{3}", re.MULTILINE)


def _numeric(text: str, british: bool) -> str:
    """The rules for text with digits in it: phone numbers, dates, times, money, units, numbers."""
    text = _phones(text)
    text = _dates(text, british)
    if ":" in text:
        text = _VERSES.sub(r"\1 \2 to \3", text)
    text = _times(text)
    if " " in text:
        text = _SPACE_THOUSANDS.sub(lambda m: m.group().replace(" ", ""), text)
    if ":" in text:
        text = _RATIO.sub(lambda m: f"{m.group(1)} to {m.group(2)}", text)
    if "~" in text:
        text = _APPROX.sub("about ", text)
    if "/" in text:
        text = _PER.sub(lambda m: " per " + _PER_WORDS.get(m.group(1), m.group(1)), text)
    if "'" in text or "′" in text or "’" in text:
        text = _FEET_INCHES.sub(lambda m: _feet_inches(m, british), text)
    if "C" in text or "AD" in text or "A.D" in text:
        text = _ERA_YEAR.sub(lambda m: _era_year(m, british), text)
    if "0s" in text or "0’s" in text or "0's" in text:
        text = re.sub(r"(?<=\ds)\s?[-–—]\s?(?=[’']?\d)", " to ", text)
        text = _DECADE.sub(lambda m: _decade(m, british), text)
        text = _DECADE_SHORT.sub(lambda m: _DECADE_NAMES[int(m.group(1))], text)
    if "x" in text or "×" in text:
        text = _DIMENSIONS.sub(lambda m: f"{cardinal(m.group(1), british)} by {cardinal(m.group(2), british)}", text)
    text = _currencies(text, british)
    if "%" in text:
        text = _PERCENT_RANGE.sub(" to ", text)
    text = _units(text, british)
    if "°" in text:
        text = _DEGREES_ALONE.sub(" degrees", text)
    return _numbers(text, british)


def clean(text: str) -> str:
    """Language-neutral clean-up only (Unicode, Markdown, emoji, spaces): for voices that are not English."""
    text = _clean_unicode(text)
    text, kept = _protect(text)
    if _MARKDOWN_GATE.search(text) or any(c in text for c in "*_`~["):
        text = _markdown(text)
    return _restore(_SPACES.sub(" ", text), kept).strip()


def normalize(text: str, british: bool = False) -> str:
    """The words a careful reader would say for `text` (American reading, or British with `british`)."""
    text = _clean_unicode(text)
    text, kept = _protect(text)
    if _MARKDOWN_GATE.search(text) or any(c in text for c in "*_`~["):
        text = _markdown(text)
    if any(c in text for c in "\u00a0\u2009\u202f"):
        text = _SPACED_THOUSANDS.sub(lambda m: re.sub(r"\D", "", m.group()), text)
    text = _SPACES.sub(" ", text)
    if "@" in text:
        text = _EMAIL.sub(_email, text)
    if "://" in text or "www." in text.lower():
        text = _URL.sub(_url, text)
    if _TLD_GATE.search(text):
        text = _BARE_DOMAIN.sub(_bare_domain, text)
    if _EXTENSION_GATE.search(text):
        text = _FILE_NAME.sub(lambda m: f"{m.group(1).replace('_', ' ')} dot {_EXTENSIONS[m.group(2)]}", text)
    if "#" in text:
        text = _HASHTAG.sub(_hashtag, text)
    if "@" in text:
        text = _HANDLE.sub(_handle, text)
    text = _abbreviations(text)
    text = _ROMAN.sub(_roman, text)
    if _DIGIT.search(text):
        chunks = _CHUNK.split(text)
        separators = [m.group() for m in _CHUNK.finditer(text)]
        parts = []
        for i, chunk in enumerate(chunks):
            parts.append(_numeric(chunk, british) if _DIGIT.search(chunk) else chunk)
            if i < len(separators):
                parts.append(separators[i])
        text = "".join(parts)
    text = _MONTH_ALONE.sub(lambda m: _month_name(_MONTH_INDEX[m.group(1)])
                            + ("." if _next_sentence(m.string, m.end()) else ""), text)
    text = _BARE_UNIT.sub(lambda m: (_british_spelling if british else str)(UNITS[m.group(1)][1]), text)
    text = _symbols(text)
    text = _restore(text, kept)
    text = _SPACES.sub(" ", text)
    text = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", text)
    text = _LINE_EDGE_SPACES.sub("", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


_SPACE_BEFORE_PUNCTUATION = re.compile(r" +([,.;:!?])")
_LINE_EDGE_SPACES = re.compile(r"^ +| +$", re.MULTILINE)
_BLANK_LINES = re.compile(r"\n{3,}")

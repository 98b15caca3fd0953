"""Numbers, dates, times, money and percentages in Spanish, French, Italian, Portuguese, Hindi, Japanese and
Mandarin text, written as each language says them before its G2P reads it ("15/03/2024" → "15 de marzo de 2024")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kokoro_speech.text.normalize.agreement import AGREEMENT, Agreement
from kokoro_speech.text.normalize.rules import Rule

# espeak-ng says plain numbers well in each of its languages ("1234", "2024", "25 %"), and misaki's Japanese and
# Mandarin G2Ps say "2024年3月15日" and "1,234.56元": only what they misread is rewritten, and numbers are left as
# digits for them to say, except where a noun changes them (agreement.py). They misread thousands dots and decimal
# commas ("1.234,56" → "uno . doscientos treinta y cuatro, cincuenta y seis"), dates with slashes ("barra"), clock
# times ("14h30" → "catorce hache treinta", "14:30" with a pause), money signs, and a bare "%" in Japanese.


@dataclass(frozen=True)
class Words:
    """How one language writes numbers, dates, times and money in words (digits are left for its G2P)."""

    decimal_separator: str  # "," in the Romance languages, "." in Hindi
    decimal: str  # the word for that separator
    months: tuple[str, ...]
    date: str  # {day} {month} {year}; without a year, up to {month}
    first_day: str  # how the first of the month is written ("1er" in French)
    time: str  # {h} {m}
    hour: str  # {h}, minutes zero
    one_hour: str  # the same for one o'clock ({h} its word, {m} the minutes)
    one: str  # the word for 1 before a currency's name
    and_cents: str  # {amount} {cents}
    currencies: dict[str, tuple[str, str, str, str]]  # symbol → (one, many, cent, cents)
    clock: str = ":"  # what separates hours from minutes ("14.30" in Italian too)
    said_after_time: str = ""  # a word that may follow a time and is part of its reading ("10:15 बजे")
    hours_with_h: bool = False  # "14h30", "9h" (French, Portuguese); elsewhere "5 h" is five hours
    one_hour_sharp: str = ""  # one o'clock, minutes zero, where it differs from `hour` ("une heure", not "heures")
    agreement: Agreement | None = None  # numbers that agree with their noun ("veintiuna personas")


SPANISH = Words(
    ",", "coma",
    ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
     "noviembre", "diciembre"),
    "{day} de {month} de {year}", "1", "{h} y {m}", "{h} en punto", "{h} y {m}", "un", "{amount} con {cents}",
    {"€": ("euro", "euros", "céntimo", "céntimos"), "$": ("dólar", "dólares", "centavo", "centavos"),
     "£": ("libra", "libras", "penique", "peniques")}, agreement=AGREEMENT["e"],
)
FRENCH = Words(
    ",", "virgule",
    ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre",
     "décembre"),
    "{day} {month} {year}", "1er", "{h} heures {m}", "{h} heures", "{h} heure {m}", "un", "{amount} et {cents}",
    {"€": ("euro", "euros", "centime", "centimes"), "$": ("dollar", "dollars", "cent", "cents"),
     "£": ("livre", "livres", "penny", "pence")}, hours_with_h=True, one_hour_sharp="{h} heure",
    agreement=AGREEMENT["f"],
)
ITALIAN = Words(
    ",", "virgola",
    ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre",
     "novembre", "dicembre"),
    "{day} {month} {year}", "1º", "{h} e {m}", "{h} in punto", "{h} e {m}", "un", "{amount} e {cents}",
    {"€": ("euro", "euro", "centesimo", "centesimi"), "$": ("dollaro", "dollari", "centesimo", "centesimi"),
     "£": ("sterlina", "sterline", "penny", "pence")}, clock=":.", agreement=AGREEMENT["i"],
)
PORTUGUESE = Words(  # Kokoro's Portuguese voices are Brazilian
    ",", "vírgula",
    ("janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro",
     "novembro", "dezembro"),
    "{day} de {month} de {year}", "1º", "{h} e {m}", "{h} horas", "{h} e {m}", "um", "{amount} e {cents}",
    {"€": ("euro", "euros", "centavo", "centavos"), "R$": ("real", "reais", "centavo", "centavos"),
     "$": ("dólar", "dólares", "centavo", "centavos"), "£": ("libra", "libras", "pêni", "pence")}, hours_with_h=True,
    one_hour_sharp="{h} hora", agreement=AGREEMENT["p"],
)
HINDI = Words(
    ".", "दशमलव",
    ("जनवरी", "फ़रवरी", "मार्च", "अप्रैल", "मई", "जून", "जुलाई", "अगस्त", "सितंबर", "अक्टूबर", "नवंबर", "दिसंबर"),
    "{day} {month} {year}", "1", "{h} बजकर {m} मिनट", "{h} बजे", "1 बजकर {m} मिनट", "1", "{amount} {cents}",
    {"₹": ("रुपया", "रुपये", "पैसा", "पैसे"), "Rs": ("रुपया", "रुपये", "पैसा", "पैसे"),
     "$": ("डॉलर", "डॉलर", "सेंट", "सेंट"), "€": ("यूरो", "यूरो", "सेंट", "सेंट"),
     "£": ("पाउंड", "पाउंड", "पेंस", "पेंस")}, said_after_time="बजे",
)


def _grouping(words: Words) -> str:
    """A number as this language writes it: "1.234,56" (Romance languages), "1,23,456.7" (Hindi)."""
    group, size = (".", "3") if words.decimal_separator == "," else (",", "2,3")
    return rf"\d{{1,3}}(?:{re.escape(group)}\d{{{size}}})+(?:{re.escape(words.decimal_separator)}\d+)?" \
           rf"|\d+(?:{re.escape(words.decimal_separator)}\d+)?"


def _plain(number: str, words: Words) -> str:
    """ "1.234,56" → "1234 coma 56"; "3,05" → "3 coma 0 5" (a leading zero is said, so each digit is)."""
    group = "." if words.decimal_separator == "," else ","
    whole, _, fraction = number.replace(group, "").partition(words.decimal_separator)
    if not fraction:
        return whole
    said = " ".join(fraction) if fraction.startswith("0") or len(fraction) > 3 else fraction
    return f"{whole} {words.decimal} {said}"


def _one(words: Words, noun: str) -> str:
    """The word for 1 before a currency's name: "una libra", "un euro"."""
    return (words.agreement.before(1, noun) if words.agreement else None) or words.one


def _money(words: Words, amount: str, symbol: str) -> str:
    one, many, cent, cents = words.currencies[symbol]
    group = "." if words.decimal_separator == "," else ","
    whole, _, fraction = amount.replace(group, "").partition(words.decimal_separator)
    if fraction and len(fraction) != 2:
        return f"{_plain(amount, words)} {many}"
    said = f"{_one(words, one)} {one}" if whole == "1" else f"{whole} {many}"  # "21 libras": agreement follows
    if not fraction or int(fraction) == 0:
        return said
    cents_said = f"{_one(words, cent)} {cent}" if int(fraction) == 1 else f"{int(fraction)} {cents}"
    return cents_said if whole == "0" else words.and_cents.format(amount=said, cents=cents_said)


def _date(words: Words, day: str, month: str, year: str) -> str | None:
    d, m = int(day), int(month)
    if not (1 <= d <= 31 and 1 <= m <= 12):
        return None
    if len(year) == 2:
        year = ("20" if int(year) < 50 else "19") + year
    date = words.date if year else words.date[:words.date.index("{month}") + len("{month}")]  # "14 juillet"
    return date.format(day=words.first_day if d == 1 else str(d), month=words.months[m - 1], year=year)


def _time(words: Words, hours: str, minutes: str) -> str | None:
    h, m = int(hours), int(minutes or 0)
    if h > 24 or m > 59:
        return None
    said_h, said_m = h, m  # in words where the hours (or minutes) agree: "las 21:30" → "veintiuna y 30"
    if words.agreement:
        said_h = words.agreement.words(h, words.agreement.hours) or h
        said_m = words.agreement.words(m, words.agreement.minutes) or m
    if m == 0:
        return (words.one_hour_sharp if h == 1 and words.one_hour_sharp else words.hour).format(h=said_h)
    return (words.one_hour if h == 1 else words.time).format(h=said_h, m=said_m)


def _agreeing(words: Words, match: re.Match[str]) -> str:
    """ "21 personas" → "veintiuna personas" where the noun changes the number; else the number as it is."""
    assert words.agreement is not None
    number, space = match.group(1, 2)
    group = "." if words.decimal_separator == "," else ","
    before = re.search(r"(\w+)\W*$", match.string[max(0, match.start() - 30):match.start()])
    if words.decimal_separator in number or before and before.group(1).lower() in words.agreement.labels:
        return number + space  # "3,5 personas"; "página 21 muestra": a name, not a count
    said = words.agreement.before(int(number.replace(group, "")), match.group(3)) or number
    return said if said.endswith("'") else said + space  # "un'ora"


def romance_and_hindi(words: Words) -> tuple[Rule, ...]:
    number = _grouping(words)
    symbols = "|".join(re.escape(s) for s in sorted(words.currencies, key=len, reverse=True))
    agreeing = (Rule("number before its noun", re.compile(rf"(?<![\w.,])({number})(\s+)(?=(\w+))"),
                     lambda m: _agreeing(words, m), needs=lambda text: bool(re.search(r"\d\s+\w", text))),) \
        if words.agreement else ()
    hours = (Rule("clock time with h", re.compile(r"(?<![\w.,:])([01]?\d|2[0-4])\s?h\s?([0-5]\d)?(?![\w:])"),
                  lambda m: _time(words, m.group(1), m.group(2)) or m.group()),) if words.hours_with_h else ()
    return (
        Rule("money, symbol after", re.compile(rf"(?<![\w.,])({number})\s?({symbols})(?!\w)"),
             lambda m: _money(words, m.group(1), m.group(2))),
        Rule("money, symbol first", re.compile(rf"(?<![\w.,])(?<!\d\s)({symbols})\s?({number})(?![\d\w])"),
             lambda m: _money(words, m.group(2), m.group(1))),
        Rule("numeric date", re.compile(r"(?<![\w.,/:-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\w/:-]|[.,]\d)"),
             lambda m: _date(words, m.group(1), m.group(3), m.group(4)) or m.group()),
        # "14/07": a day and a month with its two digits (a fraction such as "1/2" has no leading zero)
        Rule("day and month", re.compile(r"(?<![\w.,/:-])(\d{1,2})/(0[1-9]|1[0-2])(?![\w/:-]|[.,]\d)"),
             lambda m: _date(words, m.group(1), m.group(2), "") or m.group()),
        *hours,
        Rule("clock time", re.compile(rf"(?<![\w.,:])([01]?\d|2[0-4])[{words.clock}]([0-5]\d)(?![\d:]|[.,]\d)"
                                      + (rf"(?:\s*{words.said_after_time})?" if words.said_after_time else "")),
             lambda m: _time(words, m.group(1), m.group(2)) or m.group(), needs=words.clock),
        *agreeing,
        Rule("number", re.compile(rf"(?<![\w.,])({number})(?![\d\w])"), lambda m: _plain(m.group(1), words)),
    )


def _east_asian_money(units: dict[str, str]) -> Rule:
    symbols = "|".join(re.escape(s) for s in sorted(units, key=len, reverse=True))
    return Rule("money", re.compile(rf"(?<!\d\s)({symbols})\s?(\d[\d,]*(?:\.\d+)?)"),
                lambda m: m.group(2).replace(",", "") + units[m.group(1)])


_ASIAN_DATE = re.compile(r"(?<![\d/.-])(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})(?![\d/.-])")


def _asian_date(match: re.Match[str]) -> str:
    y, m, d = match.groups()
    return f"{y}年{int(m)}月{int(d)}日" if 1 <= int(m) <= 12 and 1 <= int(d) <= 31 else match.group()


def _asian_clock(hour: str, minute: str):
    def read(match: re.Match[str]) -> str:
        h, m = int(match.group(1)), int(match.group(2))
        return f"{h}{hour}" + (f"{m}{minute}" if m else "")

    return read


_CLOCK = re.compile(r"(?<![\d:])([01]?\d|2[0-4])[:：]([0-5]\d)(?![\d:])")

LANGUAGE_RULES: dict[str, tuple[Rule, ...]] = {
    "e": romance_and_hindi(SPANISH),
    "f": romance_and_hindi(FRENCH),
    "i": romance_and_hindi(ITALIAN),
    "p": romance_and_hindi(PORTUGUESE),
    "h": romance_and_hindi(HINDI),
    "j": (
        _east_asian_money({"¥": "円", "￥": "円", "$": "ドル", "€": "ユーロ", "£": "ポンド"}),
        Rule("date", _ASIAN_DATE, _asian_date),
        Rule("clock time", _CLOCK, _asian_clock("時", "分")),
        Rule("percent", re.compile(r"(?<=\d)\s?[%％]"), "パーセント", needs="%％"),
    ),
    "z": (
        _east_asian_money({"¥": "元", "￥": "元", "$": "美元", "€": "欧元", "£": "英镑"}),
        Rule("date", _ASIAN_DATE, _asian_date),
        Rule("clock time", _CLOCK, _asian_clock("点", "分")),
    ),
}

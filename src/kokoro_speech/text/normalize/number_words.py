"""Numbers → words: cardinals, ordinals, years, decimals, fractions and digit strings. American readers drop
the "and" inside numbers ("one hundred five"); British readers keep it ("one hundred and five")."""

from __future__ import annotations

from num2words import num2words

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
MAX_CARDINAL_DIGITS = 15  # longer digit strings (ids, card numbers) are read digit by digit


def _clean(words: str, british: bool) -> str:
    words = words.replace(",", "")
    if not british:
        words = words.replace(" and ", " ")
    return words


def digits(text: str, zero: str = "zero") -> str:
    """ "2024" → "two zero two four"; any non-digit is skipped."""
    return " ".join(zero if d == "0" else DIGITS[int(d)] for d in text if "0" <= d <= "9")


def cardinal(text: str | int, british: bool = False) -> str:
    """ "1,984" → "one thousand nine hundred eighty-four" (US) / "... nine hundred and eighty-four" (UK)."""
    s = str(text).replace(",", "")
    negative = s.startswith("-")
    s = s.lstrip("-")
    if not s.isdigit() or not s.isascii():
        return s
    if len(s) > MAX_CARDINAL_DIGITS or (len(s) > 1 and s[0] == "0"):
        words = digits(s)
    else:
        words = _clean(num2words(int(s)), british)
    return f"minus {words}" if negative else words


def ordinal(n: int, british: bool = False) -> str:
    if n >= 10**MAX_CARDINAL_DIGITS:
        return digits(str(n))
    return _clean(num2words(n, to="ordinal"), british)


def year(n: int, british: bool = False) -> str:
    """ "1984" → "nineteen eighty-four", "2005" → "two thousand five", "1900" → "nineteen hundred"."""
    if n < 100 or n > 9999:
        return cardinal(n, british)
    if n < 1000:  # "476" → "four seventy-six"
        high, low = divmod(n, 100)
        return f"{DIGITS[high]} hundred" if low == 0 else f"{DIGITS[high]} oh {DIGITS[low]}" if low < 10 \
            else f"{DIGITS[high]} {cardinal(low)}"
    high, low = divmod(n, 100)
    if 2000 <= n <= 2009 or n % 1000 == 0:
        return cardinal(n, british)
    if low == 0:
        return f"{cardinal(high)} hundred"
    if low < 10:
        return f"{cardinal(high)} oh {DIGITS[low]}"
    return f"{cardinal(high)} {cardinal(low)}"


def decimal(text: str, british: bool = False) -> str:
    """ "3.14" → "three point one four", ".5" → "point five", "1,200.5" → "one thousand two hundred point five"."""
    whole, _, fraction = text.replace(",", "").partition(".")
    head = cardinal(whole, british) if whole else ""
    if not fraction:
        return head
    return f"{head} point {digits(fraction)}".strip()


def number(text: str, british: bool = False) -> str:
    """Any plain number: integer (with thousands commas) or decimal."""
    return decimal(text, british) if "." in text else cardinal(text, british)


def is_one(text: str) -> bool:
    return text.replace(",", "").lstrip("+") in ("1", "1.0", "01")


_FRACTION_NAMES = {2: ("half", "halves"), 4: ("quarter", "quarters")}


def fraction(numerator: int, denominator: int, british: bool = False) -> str:
    """ "3/4" → "three quarters", "1/2" → "one half", "5/8" → "five eighths"."""
    if denominator == 1:
        return cardinal(numerator, british)
    one = ordinal(denominator, british)
    one, many = _FRACTION_NAMES.get(denominator, (one, one + "s"))
    return f"{cardinal(numerator, british)} {one if numerator == 1 else many}"


VULGAR_FRACTIONS = {
    "½": (1, 2), "⅓": (1, 3), "⅔": (2, 3), "¼": (1, 4), "¾": (3, 4), "⅕": (1, 5), "⅖": (2, 5), "⅗": (3, 5),
    "⅘": (4, 5), "⅙": (1, 6), "⅚": (5, 6), "⅐": (1, 7), "⅛": (1, 8), "⅜": (3, 8), "⅝": (5, 8), "⅞": (7, 8),
    "⅑": (1, 9), "⅒": (1, 10),
}


def mixed_fraction(whole: int, numerator: int, denominator: int, british: bool = False) -> str:
    """ "1 1/2" → "one and a half", "2 3/4" → "two and three quarters"."""
    part = "a " + _FRACTION_NAMES[denominator][0] if numerator == 1 and denominator in _FRACTION_NAMES \
        else fraction(numerator, denominator, british)
    return f"{cardinal(whole, british)} and {part}"

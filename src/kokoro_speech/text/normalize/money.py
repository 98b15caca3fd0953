"""Money: "$4.50" → "four dollars and fifty cents", "£3.50" → "three pounds fifty", "$5bn", "$10-20",
"100 USD", "EUR 5", "99¢", "20p"."""

from __future__ import annotations

import re

from kokoro_speech.text.normalize.number_words import cardinal, decimal, is_one, number
from kokoro_speech.text.normalize.rules import NUM, alternation, attributive, dialects
from kokoro_speech.text.normalize.tables import CURRENCY_CODES, CURRENCY_SYMBOLS, SCALES

_SCALE = alternation(SCALES)
_CODE = alternation(CURRENCY_CODES)
_SYMBOL = alternation(CURRENCY_SYMBOLS)


def _amount(text: str, unit: str, units: str, sub: str, subs: str, british: bool) -> str:
    whole, _, cents = text.replace(",", "").partition(".")
    if cents and (len(cents) != 2 or not sub):
        return f"{decimal(text, british)} {units}"
    words = f"{cardinal(whole, british)} {unit if whole.lstrip('0') == '1' else units}"
    if not cents or int(cents) == 0:
        return words
    cent_words = f"{cardinal(int(cents), british)} {sub if int(cents) == 1 else subs}"
    if int(whole) == 0:
        return cent_words
    if unit in ("pound", "euro"):
        return f"{words} {cardinal(int(cents), british)}"  # "three pounds fifty"
    return f"{words} and {cent_words}"


def _money(match: re.Match[str], british: bool) -> str:
    unit, units, sub, subs = CURRENCY_SYMBOLS[match.group("cur")]
    if attributive(match) and not (match.group("a").partition(".")[2] and not match.group("scale")):
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


def _coins(one: str, many: str):
    return lambda m, british: f"{cardinal(m.group(1), british)} {one if m.group(1) == '1' else many}"


MONEY = (
    dialects("currency symbol", re.compile(
        rf"(?<![\w$£€¥₹])(?P<neg>[-−])?(?P<cur>{_SYMBOL})\s?(?P<a>{NUM})"
        rf"(?:\s?(?:-|–|—|to)\s?(?:(?P=cur))?(?P<b>{NUM}))?(?:\s?(?P<scale>{_SCALE})\b)?"),
             _money, needs=tuple(CURRENCY_SYMBOLS)),
    dialects("currency code first", re.compile(rf"\b(?P<code>{_CODE})\s?(?P<a>{NUM})(?:\s?(?P<scale>{_SCALE})\b)?"),
             _money_code, needs=tuple(CURRENCY_CODES)),
    dialects("currency code after", re.compile(
        rf"(?<![\w.])(?P<a>{NUM})(?:\s?(?P<scale>{_SCALE})\b)?\s?(?P<code>{_CODE})\b"), _money_code,
             needs=tuple(CURRENCY_CODES)),
    dialects("cents", re.compile(r"(?<![\w.])(\d+)\s?¢"), _coins("cent", "cents"), needs="¢"),
    dialects("pence", re.compile(r"(?<![\w.£$€])(\d{1,3})p\b"), _coins("penny", "pence"), needs="p"),
)

"""Phone numbers, read digit by digit in groups: "555-123-4567" → "five five five, one two three, ...".
Also emergency numbers ("call 911" → "nine one one")."""

from __future__ import annotations

import re

from kokoro_speech.text.normalize.number_words import digits
from kokoro_speech.text.normalize.rules import Rule

_PHONE_CONTEXT = re.compile(r"(?i)\b(call|phone|tel|telephone|fax|dial|text|mobile|cell|number|contact|reach)\b"
                            r"[^.\n]{0,20}$")
_PHONE_LIKE = re.compile(r"\d[\s.)-]{1,2}\d\d").search  # digits in groups


def _phone(match: re.Match[str]) -> str:
    return ", ".join(("plus " + digits(group[1:], zero="oh")) if group.startswith("+") else digits(group, zero="oh")
                     for group in re.findall(r"\+?\d+", match.group()))


def _short_phone(match: re.Match[str]) -> str:
    """ "555-1234" is a phone number only after "call", "phone" and the like."""
    return _phone(match) if _PHONE_CONTEXT.search(match.string[max(0, match.start() - 40):match.start()]) \
        else match.group()


PHONES = (
    Rule("emergency number", re.compile(r"(?i)\b(call|dial|ring|phone|text)(\s+)(911|999|112)\b"),
         lambda m: m.group(1) + m.group(2) + digits(m.group(3)), needs=("911", "999", "112")),
    Rule("international phone number", re.compile(
        r"(?<![\w+])(\+\d{1,3})[\s.-]?(\(?\d{1,4}\)?(?:[\s.-]\d{2,4}){1,4})(?![\w-]|[.,]\d)"), _phone,
         needs=_PHONE_LIKE),
    Rule("North American phone number", re.compile(
        r"(?<![\w(])(\(\d{3}\)\s?\d{3}[\s.-]\d{4}|\d{3}[.-]\d{3}[.-]\d{4}|1-\d{3}-\d{3}-\d{4})(?![\w-]|[.,]\d)"),
         _phone, needs=_PHONE_LIKE),
    Rule("phone number with trunk prefix",
         re.compile(r"(?<![\w.,-])(0\d{2,4}[\s-]\d{3,4}[\s-]?\d{3,4})(?![\w-]|[.,]\d)"), _phone, needs=_PHONE_LIKE),
    Rule("seven-digit phone number", re.compile(r"(?<![\w.,-])(\d{3})-(\d{4})(?![\w-]|[.,]\d)"), _short_phone,
         needs=_PHONE_LIKE),
)

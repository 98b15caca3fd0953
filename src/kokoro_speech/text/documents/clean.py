"""What a listener should not hear, as rules: footnote markers, page numbers, invisible characters, and the
line breaks of print; applied to every document's paragraphs alike."""

from __future__ import annotations

import re

# (what, pattern, replacement): applied in order to each paragraph's text
RULES: list[tuple[str, re.Pattern[str], str]] = [
    ("soft hyphens and zero-width characters", re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]"), ""),
    ("a word hyphenated across a line break", re.compile(r"(?<=[a-zà-ÿ])-\n(?=[a-zà-ÿ])"), ""),
    ("Markdown footnote references [^1]", re.compile(r"\[\^[^\]\s]{1,20}\]"), ""),
    ("numbered note markers [12], [a], [iv]", re.compile(r"\[(?:\d{1,4}|[a-z]|[ivxlc]{1,6})\]"), ""),
    # after punctuation or a word of three letters or more: "km²" and "x²" keep their power
    ("note marks ¹²³ †", re.compile(r"(?:(?<=[^\W\d_]{3})|(?<=[.,;:!?\"”’)]))[¹²³⁰⁴-⁹]+|[†‡]+"), ""),
    ("a space left before punctuation", re.compile(r"\s+(?=[,.;:!?])"), ""),
    ("runs of white space, line breaks included", re.compile(r"\s+"), " "),
]

# a line of print that is only a page number: "12", "- 12 -", "Page 12", "12 of 300", "xiv"
PAGE_NUMBER = re.compile(r"^\s*(?:page\s+)?[-–—]?\s*(?:\d{1,4}|[ivxlcdm]{1,7})\s*[-–—]?\s*(?:(?:of|/)\s*\d{1,4})?\s*$",
                         re.IGNORECASE)


def clean(text: str) -> str:
    """A paragraph as it should be read aloud."""
    for _, pattern, replacement in RULES:
        text = pattern.sub(replacement, text)
    return text.strip()


def titled(text: str | None) -> str | None:
    """A title as spoken (None when there is nothing to say)."""
    if text is None:
        return None
    text = clean(text)
    return text or None

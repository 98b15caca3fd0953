"""Real-world text → the words a careful reader would say.

For now: Unicode clean-up (controls, zero-width characters, odd spaces) and Markdown markup that should
not be read aloud. Numbers, dates and units are left to misaki, which reads most of them.
"""

from __future__ import annotations

import re
import unicodedata

_MARKDOWN_LINE = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+(?=\S)|\d+[.)]\s+(?=\S))", re.MULTILINE)
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|~~|`)(?=\S)(.+?)(?<=\S)\1")
_LINK = re.compile(r"!?\[([^\]]*)\]\((?!/)[^)]*\)")  # [text](url) → text; misaki's [word](/phonemes/) stays


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    # Drop control, format (zero-width, bidi) and unassigned or surrogate code points; keep line breaks.
    text = "".join(
        ch if ch in "\n\t" or unicodedata.category(ch)[0] not in "C" else (" " if ch == "\r" else "")
        for ch in text
    )
    text = _LINK.sub(r"\1", text)
    text = _MARKDOWN_LINE.sub("", text)
    text = _EMPHASIS.sub(r"\2", text)
    text = re.sub(r"[ \t\u00a0\u2000-\u200a\u3000]+", " ", text)
    return text.strip()

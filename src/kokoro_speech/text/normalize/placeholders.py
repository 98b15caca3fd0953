"""misaki's custom-pronunciation markup, "[word](/phonemes/)": hidden behind private-use placeholders while
the rules run, so none of them reads or changes it, then put back."""

from __future__ import annotations

import re
from collections.abc import Callable

_PHONEME_MARKUP = re.compile(r"\[[^\[\]\n]+\]\(/[^()\n]*/\)")
# U+E000, the index in base 0xE00 as U+E100..U+EFFF, U+E001: no word characters, so rules pass over it.
# Clients cannot forge one: the Unicode clean-up drops private-use characters before this runs.
_PLACEHOLDER = re.compile("\ue000([\ue100-\uefff]+)\ue001")


def hiding_markup(text: str, rules: Callable[[str], str]) -> str:
    """`rules(text)` with the markup hidden from it."""
    kept: list[str] = []

    def hide(match: re.Match[str]) -> str:
        kept.append(match.group())
        index, code = len(kept) - 1, ""
        while True:
            code = chr(0xE100 + index % 0xE00) + code
            index //= 0xE00
            if not index:
                return f" \ue000{code}\ue001 "

    def restore(match: re.Match[str]) -> str:
        index = 0
        for ch in match.group(1):
            index = index * 0xE00 + ord(ch) - 0xE100
        return kept[index] if index < len(kept) else ""

    return _PLACEHOLDER.sub(restore, rules(_PHONEME_MARKUP.sub(hide, text)))

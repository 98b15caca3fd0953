"""misaki's inline pronunciation markup, `[word](/phonemes/)`: the one pattern, and rewriting text around it.

Lexicons and heteronym rules mark words with it; normalize and every G2P leave marked words as given.
"""

from __future__ import annotations

import re
from typing import Callable

MARKUP = re.compile(r"\[([^\[\]\n]+)\]\(/([^()\n]*)/\)")


def outside_markup(text: str, rewrite: Callable[[str], str],
                   marked: Callable[[re.Match[str]], str] = re.Match.group) -> str:
    """`text` with `rewrite` applied to each stretch between markups, and each markup written by `marked`
    (by default as it is)."""
    parts, start = [], 0
    for match in MARKUP.finditer(text):
        parts += [rewrite(text[start : match.start()]), marked(match)]
        start = match.end()
    parts.append(rewrite(text[start:]))
    return "".join(parts)

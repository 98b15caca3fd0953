"""The rule machinery: a rule is a name, a pattern and a replacement; a stage is an ordered table of rules;
misaki's "[word](/phonemes/)" markup is hidden from them. Also the look-around helpers the tables share."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial

from kokoro_speech.text.markup import MARKUP
from kokoro_speech.text.normalize.tables import FUNCTION_WORDS

NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"  # "1,234.5" or "1234.5", for the tables' patterns
Replacement = str | Callable[[re.Match[str]], str]


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    replacement: Replacement
    british: Replacement | None = None  # the British reading, where it differs
    # skipped unless one of these characters (a str) or strings (a tuple) occurs, or unless this test passes:
    # "c in text" is many times quicker than a search, so that is how most rules skip text they cannot match
    needs: str | tuple[str, ...] | Callable[[str], object] = ""
    wanted: Callable[[str], object] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        needs = self.needs
        wanted = needs if callable(needs) else lambda text: not needs or any(map(text.__contains__, needs))
        object.__setattr__(self, "wanted", wanted)


@dataclass(frozen=True)
class Stage:
    """Rules applied in order, each to the output of the one before. With `split`, each piece between its
    matches is done alone (so rules see one sentence); `when` must be found in the text (or piece) or it is left."""

    name: str
    rules: tuple[Rule, ...]
    when: re.Pattern[str] | None = None
    split: re.Pattern[str] | None = None  # one capturing group: the separators are kept as they are


def apply(rules: Iterable[Rule], text: str, british: bool = False) -> str:
    for rule in rules:
        if rule.wanted(text):
            text = rule.pattern.sub(rule.british if british and rule.british is not None else rule.replacement, text)
    return text


def run(stages: Iterable[Stage], text: str, british: bool = False) -> str:
    for stage in stages:
        pieces = stage.split.split(text) if stage.split else [text]
        pieces[::2] = [apply(stage.rules, piece, british) if stage.when is None or stage.when.search(piece) else piece
                       for piece in pieces[::2]]
        text = "".join(pieces)
    return text


# misaki's custom pronunciations (text/markup.py): hidden behind private-use placeholders while the rules run
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

    return _PLACEHOLDER.sub(restore, rules(MARKUP.sub(hide, text)))


def dialects(name: str, pattern: re.Pattern[str], read: Callable[..., str], needs: str | tuple | Callable = "") -> Rule:
    """A rule whose reading `read(match, british)` depends on the dialect."""
    return Rule(name, pattern, partial(read, british=False), partial(read, british=True), needs)


def alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def next_sentence(text: str, end: int) -> bool:
    """Whether a new sentence (or the end of the text) follows position `end`."""
    rest = text[end:end + 3]
    return not rest.strip() or bool(re.match(r"\s+[\"'“‘(]?[A-Z]", rest))


def previous_word(text: str, start: int) -> tuple[str, bool]:
    """The word before `start`, and whether it starts a sentence."""
    m = re.search(r"(\S+)(\s+)$", text[max(0, start - 60):start])
    if not m:
        return "", True
    before = text[:start - len(m.group())].rstrip()
    return m.group(1), not before or before[-1] in ".!?\n:" or before.endswith(("\u201d", '"'))


def attributive(match: re.Match[str]) -> bool:
    """ "a $5 billion deal", "a 256 GB phone": the unit is read in the singular."""
    text = match.string
    if not re.search(r"(?:^|\W)(?:[Aa]n?|[Tt]he)\s+$", text[max(0, match.start() - 5):match.start()]):
        return False
    following = re.match(r"\s+([a-z]+)\b", text[match.end():match.end() + 30])
    return bool(following) and following.group(1) not in FUNCTION_WORDS

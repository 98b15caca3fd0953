"""Text that arrives in cuts (an LLM's tokens, cut anywhere) → units to speak as soon as each is complete.

Wyoming's synthesize-chunk and the WebSocket's input_text.append both feed a `TextBuffer`; it hands out a unit
at each sentence end (as `split_sentences` finds them, so a text cut anywhere reads as the same sentences) and
at clause ends (`, ; : —`) once the unit is long enough to play while the rest is synthesized.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kokoro_speech.text.split import PARAGRAPH, sentence_ends

# A clause shorter than this waits for what follows: a lone "Sure," would play out before the next unit is
# ready; about four words (over a second of speech) cover the next one's synthesis.
MIN_CLAUSE_CHARACTERS = 24
_CLAUSE_END = re.compile(r"[,;:—–][\"'”’)\]]*\s")


@dataclass(frozen=True)
class Unit:
    text: str
    ends_sentence: bool  # else it ends at a clause (or wherever a flush cut it)


class TextBuffer:
    def __init__(self) -> None:
        self._text = ""

    def append(self, text: str) -> list[Unit]:
        """Add `text`; the units it completes, in order."""
        self._text += text
        units = []
        while (cut := self._next_cut()) is not None:
            end, ends_sentence = cut
            unit, self._text = self._text[:end].strip(), self._text[end:]
            if unit:
                units.append(Unit(unit, ends_sentence))
        return units

    @property
    def pending(self) -> int:
        """Characters buffered that no unit has taken yet."""
        return len(self._text)

    def flush(self) -> Unit | None:
        """Whatever is buffered, complete or not (the end of the input, or a client's flush)."""
        text, self._text = self._text.strip(), ""
        return Unit(text, ends_sentence=True) if text else None

    def _next_cut(self) -> tuple[int, bool] | None:
        text = self._text
        # a sentence end counts once the next word has begun: "approx. three" is one sentence
        ends = [end for end in sentence_ends(text) if end < len(text)]
        ends += [m.end() for m in PARAGRAPH.finditer(text) if m.end() < len(text)]
        sentence = min(ends, default=None)
        for match in _CLAUSE_END.finditer(text, 0, sentence or len(text)):
            if len(text[: match.end()].strip()) >= MIN_CLAUSE_CHARACTERS:
                return match.end(), False
        return None if sentence is None else (sentence, True)

"""Text that arrives in cuts (an LLM's tokens, cut anywhere) → units to speak as soon as each is complete.

Wyoming's synthesize-chunk and the WebSocket's input_text.append both feed a `TextBuffer`; it hands out a unit
at each sentence end (as `split_sentences` finds them, so a text cut anywhere reads as the same sentences) and
at clause ends (`, ; : —`) once the unit is long enough to play while the rest is synthesized.
"""

from __future__ import annotations

from dataclasses import dataclass

from kokoro_speech.text.split import CLAUSE_END, PARAGRAPH, sentence_ends

# A clause shorter than this waits for what follows: a lone "Sure," would play out before the next unit is
# ready; about four words (over a second of speech) cover the next one's synthesis.
MIN_CLAUSE_CHARACTERS = 24


@dataclass(frozen=True)
class Unit:
    text: str  # stripped of the whitespace around it
    ends_sentence: bool  # else it ends at a clause (or wherever a flush cut it)
    start: int = 0  # where `text` begins in all the text appended so far (for word timestamps' indices)


class TextBuffer:
    def __init__(self) -> None:
        self._text = ""
        self._taken = 0  # characters appended before `_text`

    def append(self, text: str) -> list[Unit]:
        """Add `text`; the units it completes, in order."""
        self._text += text
        units = []
        while (cut := self._next_cut()) is not None:
            end, ends_sentence = cut
            unit = self._take(end, ends_sentence)
            if unit is not None:
                units.append(unit)
        return units

    def _take(self, end: int, ends_sentence: bool) -> Unit | None:
        head, self._text = self._text[:end], self._text[end:]
        start = self._taken + len(head) - len(head.lstrip())
        self._taken += end
        return Unit(head.strip(), ends_sentence, start) if head.strip() else None

    @property
    def pending(self) -> int:
        """Characters buffered that no unit has taken yet."""
        return len(self._text)

    def flush(self) -> Unit | None:
        """Whatever is buffered, complete or not (the end of the input, or a client's flush)."""
        return self._take(len(self._text), ends_sentence=True)

    def _next_cut(self) -> tuple[int, bool] | None:
        text = self._text
        # a sentence end counts once the next word has begun: "approx. three" is one sentence
        ends = [end for end in sentence_ends(text) if end < len(text)]
        ends += [m.end() for m in PARAGRAPH.finditer(text) if m.end() < len(text)]
        sentence = min(ends, default=None)
        for match in CLAUSE_END.finditer(text, 0, sentence or len(text)):
            if len(text[: match.end()].strip()) >= MIN_CLAUSE_CHARACTERS:
                return match.end(), False
        return None if sentence is None else (sentence, True)

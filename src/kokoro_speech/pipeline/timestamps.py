"""Word timestamps: when each word of the user's own `input` is spoken, in seconds of the audio returned.

Two alignments meet here. Text: the normalizer rewrites words ("$4.50" → "four dollars and fifty cents"), so
the input's words are matched to the normalized words by a diff over both texts' words; an expanded word is one
item carrying its original span and the time of all its spoken words. Sound: each G2P token's phonemes are found
in the pieces by counting their symbols (cuts and spaces move none), and the model's durations (600 samples per
frame) time them; each piece's trim, the pauses between pieces and the samples already sent shift the times.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

import numpy as np

from kokoro_speech.kokoro import PAUSE_SYMBOLS, SAMPLE_RATE, SAMPLES_PER_FRAME, vocabulary
from kokoro_speech.text.markup import MARKUP
from kokoro_speech.text.phonemize import Token

# Japanese and Chinese write no spaces: their words are cut after sentence and clause marks (character groups)
_CJK_MARKS = "、。，！？；：「」『』（）"
WORD = re.compile(rf"[^\s{_CJK_MARKS}]+[{_CJK_MARKS}]*|[{_CJK_MARKS}]+")
_LEADING = "\"'“‘([{¿¡«*_„"
_TRAILING = ",;:!?\"'”’)]}»*_…"
# How a token's frames become a word's time (bench/timestamps.py measures the result against Whisper)
LEAD_FRAMES = 0  # the audio leads the durations by this many frames
SPLIT_SPACES = False  # words take half of the spaces around them


@dataclass(frozen=True)
class WordTime:
    """One item: `input[start_index:end_index] == word`, said from `start_time` to `end_time` (seconds)."""

    word: str
    start_time: float
    end_time: float
    start_index: int
    end_index: int
    voice: str | None = None  # who says it, when more than one voice speaks (an alias's name, else the voice's)

    def as_dict(self) -> dict:
        item = {"word": self.word, "start_time": round(self.start_time, 3), "end_time": round(self.end_time, 3),
                "start_index": self.start_index, "end_index": self.end_index}
        return item if self.voice is None else item | {"voice": self.voice}


def _key(word: str) -> str:
    key = re.sub(r"[\W_]+", "", word.casefold())
    return key or word


def _unmarked(text: str) -> str:
    return MARKUP.sub(lambda m: m.group(1), text)


def _trimmed(original: str, start: int, end: int, *, sentence_end: bool) -> tuple[int, int]:
    """The span without the quotes, brackets and punctuation around the word (a final period only where the
    normalized text kept it too: "Dr." read as "Doctor" keeps its period, "end." does not)."""
    s, e = start, end
    while s < e - 1 and original[s] in _LEADING:
        s += 1
    while e > s + 1 and (original[e - 1] in _TRAILING or (original[e - 1] == "." and sentence_end)):
        e -= 1
    return s, e


class Spans:
    """The items of `original` (the request's input) and, for each word of `spoken` (the normalized text the G2P
    reads, markup included), the item it belongs to."""

    def __init__(self, original: str, spoken: str) -> None:
        self.original = original
        plain = _unmarked(spoken)
        source = [(m.start(), m.end()) for m in WORD.finditer(original)]
        said = [m.group() for m in WORD.finditer(plain)]
        self.items: list[tuple[int, int]] = []
        self.item_of: list[int] = [-1] * len(said)  # spoken word → item
        matcher = SequenceMatcher(None, [_key(original[s:e]) for s, e in source], [_key(w) for w in said],
                                  autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                    s, e = source[i]
                    word = original[s:e].rstrip(".")
                    self.items.append(_trimmed(original, s, e, sentence_end="." not in word))
                    self.item_of[j] = len(self.items) - 1
            elif op == "replace":
                ends_sentence = said[j2 - 1].endswith((".", "!", "?"))
                self.items.append(_trimmed(original, source[i1][0], source[i2 - 1][1], sentence_end=ends_sentence))
                for j in range(j1, j2):
                    self.item_of[j] = len(self.items) - 1
            # "delete": input words nobody says (Markdown marks, emoji): no item
        # "insert": spoken words with no input word of their own belong to the item before them (or after)
        for j in range(len(said)):
            if self.item_of[j] < 0 and j > 0:
                self.item_of[j] = self.item_of[j - 1]
        for j in reversed(range(len(said))):
            if self.item_of[j] < 0 and j + 1 < len(said):
                self.item_of[j] = self.item_of[j + 1]
        # each non-space character of the spoken text → its word, to place the G2P's tokens
        self._char_word: list[int] = []
        for index, word in enumerate(said):
            self._char_word += [index] * sum(not c.isspace() for c in word)

    def word_at(self, char: int) -> int:
        """The spoken word holding the `char`-th non-space character of the spoken text."""
        return self._char_word[min(char, len(self._char_word) - 1)] if self._char_word else -1


def _fallback_tokens(text: str, phonemes: str) -> list[Token]:
    """Tokens for a G2P that gives none (espeak-ng, Japanese, Mandarin): the phoneme words paired with the text's
    words where they are as many, else each text word gets a share of the phonemes as long as its characters."""
    words = WORD.findall(text)
    said = phonemes.split()
    if len(words) == len(said):
        return [Token(w, p, " ") for w, p in zip(words, said, strict=True)]
    total = sum(map(len, words)) or 1
    tokens, taken = [], 0
    for index, word in enumerate(words):
        share = len(phonemes) if index == len(words) - 1 else round(len(phonemes) * (taken + len(word)) / total)
        tokens.append(Token(word, phonemes[round(len(phonemes) * taken / total) if index else 0:share], ""))
        taken += len(word)
    return tokens


@dataclass
class _Said:
    item: int  # -1: belongs to no item
    first: int  # its first symbol, counted over the non-space symbols of every piece
    end: int
    voiced: bool  # not only pauses (punctuation)


class Timeline:
    """One request's word times: sentences are registered as they are read (`read`, from the G2P's thread) and
    pieces timed as they are spoken (`piece`), each returning the items it completes."""

    def __init__(self, spans: Spans) -> None:
        self.spans = spans
        self._vocab = vocabulary()
        self._said: list[_Said] = []
        self._symbols = 0  # non-space symbols registered so far
        self._chars = 0  # non-space characters of the spoken text read so far
        self._timed = 0  # symbols timed so far
        self._next = 0  # the next token to time
        self._times: dict[int, list[float]] = {}  # item → [start, end] in seconds
        self._voice_of: dict[int, str] = {}  # item → who said it (with more than one voice)
        self._sent = -1  # the last item returned

    def _count(self, phonemes: str) -> int:
        return sum(1 for c in phonemes if c in self._vocab and not c.isspace())

    def read(self, sentence: str, phonemes: str, tokens: list[Token] | None) -> str:
        """Register a sentence's tokens; returns its phonemes, for the piece planner."""
        plain = _unmarked(sentence)
        if not {c for c in phonemes if c in self._vocab} - PAUSE_SYMBOLS:  # the planner skips it: punctuation alone
            self._chars += sum(not c.isspace() for c in plain)
            return phonemes
        if tokens is None or sum(self._count(t.phonemes) for t in tokens) != self._count(phonemes):
            tokens = _fallback_tokens(plain, phonemes)
        nonspace = np.cumsum([0] + [not c.isspace() for c in plain])
        cursor = 0
        for token in tokens:
            found = plain.find(token.text, cursor) if token.text else -1
            at = found if found >= 0 else cursor
            cursor = at + len(token.text) if found >= 0 else cursor
            word = self.spans.word_at(self._chars + int(nonspace[min(at, len(plain))]))
            count = self._count(token.phonemes)
            voiced = any(c in self._vocab and not c.isspace() and c not in PAUSE_SYMBOLS for c in token.phonemes)
            item = self.spans.item_of[word] if 0 <= word < len(self.spans.item_of) else -1
            self._said.append(_Said(item, self._symbols, self._symbols + count, voiced))
            self._symbols += count
        self._chars += int(nonspace[-1])
        unplaced = self._count(phonemes) - sum(self._count(t.phonemes) for t in tokens)
        if unplaced > 0:  # keep counting in step with the pieces, whatever the fallback missed
            self._said.append(_Said(-1, self._symbols, self._symbols + unplaced, False))
            self._symbols += unplaced
        return phonemes

    def piece(self, phonemes: str, durations: np.ndarray, kept: tuple[int, int], offset: int, *,
              voice: str | None = None) -> list[WordTime]:
        """Time one piece: `durations` the model's frames per token (pads included), `kept` the samples its trim
        kept, `offset` the samples of the stream before it, `voice` who says it. Returns the items now complete."""
        symbols = [c for c in phonemes if c in self._vocab]
        frames = np.asarray(durations, dtype=np.int64).reshape(-1)
        symbols = symbols[: len(frames) - 2]
        # each symbol's first sample in the model's audio, and where the last one ends
        bounds = (frames[0] + np.concatenate([[0], np.cumsum(frames[1:-1])])) * SAMPLES_PER_FRAME
        bounds = bounds - LEAD_FRAMES * SAMPLES_PER_FRAME
        voiced = [k for k, c in enumerate(symbols) if not c.isspace()]  # the non-space symbols, as counted
        first = self._timed
        self._timed += len(voiced)
        length = kept[1] - kept[0]

        def seconds(sample: float) -> float:
            return (offset + min(max(sample - kept[0], 0), length)) / SAMPLE_RATE

        def start_of(k: int) -> float:
            # a word begins halfway through the space before it: the model blends the two (as Kokoro's own
            # pipeline times words)
            if SPLIT_SPACES and k > 0 and symbols[k - 1].isspace():
                return (bounds[k - 1] + bounds[k]) / 2
            return float(bounds[k])

        def end_of(k: int) -> float:
            if SPLIT_SPACES and k + 1 < len(symbols) and symbols[k + 1].isspace():
                return (bounds[k + 1] + bounds[k + 2]) / 2
            return float(bounds[k + 1])

        while self._next < len(self._said) and self._said[self._next].first < self._timed:
            said = self._said[self._next]
            if said.end > self._timed:  # cut inside a word (only an unbroken run longer than a piece)
                break
            self._next += 1
            if said.item < 0 or not said.voiced or said.end <= said.first:
                continue
            start = seconds(start_of(voiced[max(said.first - first, 0)]))
            end = seconds(end_of(voiced[said.end - 1 - first]))
            times = self._times.setdefault(said.item, [start, end])
            times[0], times[1] = min(times[0], start), max(times[1], end)
            if voice is not None:
                self._voice_of.setdefault(said.item, voice)
        # an item is complete once a later item's token has been registered, or its sentence is over
        done = next((s.item for s in self._said[self._next:] if s.item >= 0), None)
        return self._release(lambda item: done is None or item < done)

    def finish(self) -> list[WordTime]:
        """The items still held at the end of the stream."""
        return self._release(lambda item: True)

    def _release(self, complete) -> list[WordTime]:
        out = []
        for item in sorted(i for i in self._times if i > self._sent and complete(i)):
            start, end = self._times.pop(item)
            s, e = self.spans.items[item]
            out.append(WordTime(self.spans.original[s:e], start, end, s, e, self._voice_of.pop(item, None)))
            self._sent = item
        return out

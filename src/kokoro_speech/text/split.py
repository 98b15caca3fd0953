"""Cutting text into pieces the model can speak: sentences first, then phoneme-token budgets.

The first piece is short (a clause or a few words) so that audio starts at once; budgets then double so
each piece is synthesized while the audio before it plays. No piece exceeds the model's window, and cuts
fall on sentence, then clause, then word boundaries, never inside a word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Literal

from kokoro_speech.kokoro import EDGE_FRAMES, MAX_TOKENS, MOST_FRAMES_PER_TOKEN, PAUSE_SYMBOLS, vocabulary

FIRST_PIECE_TOKENS = 32  # about five words: the model speaks them in ~0.7 s on two CPU cores
MAX_PIECE_TOKENS = 200  # longer pieces are slower per second of audio (attention), and cancel later
# The model's memory grows with the audio frames a call makes (~0.6 MB each), not with its tokens: pieces
# are sized by frames, so a slow request gets fewer tokens per piece (docs/bench/memory-options.md).
MAX_PIECE_FRAMES = 400  # 138 tokens at speed 1, 23 at speed 0.25: about +240 MB for the call
MIN_PIECE_TOKENS = 8  # a word or two: below this the cuts would fall inside words

Boundary = Literal["sentence", "clause", "word"]

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "ft", "vs", "etc", "e.g", "i.e", "no", "fig",
    "approx", "dept", "est", "gen", "gov", "lt", "col", "capt", "sgt", "rev", "hon", "ave", "rd", "blvd",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "a.m", "p.m", "u.s",
}
# Japanese and Chinese end sentences with full-width marks and no space after them
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*\s+|[。！？]+[」』”’）)\]]*\s*")
PARAGRAPH = re.compile(r"\n\s*\n")
# What the G2P reads at once: a run-on "sentence" (a list, a table, thousands of digits) is cut at its last clause
# mark or space before this, so neither the G2P's memory nor the wait for the first piece grows with the input.
MAX_SENTENCE_CHARACTERS = 500
CLAUSE_END = re.compile(r"[,;:—–]\s+|[，、；：]\s*")


def sentence_ends(paragraph: str) -> Iterator[int]:
    """Where each sentence of `paragraph` ends (past the whitespace after it): not after an abbreviation or an
    initial, nor before a lowercase word."""
    for match in _SENTENCE_END.finditer(paragraph):
        before = paragraph[: match.start()].rsplit(None, 1)
        last_word = before[-1].lower().strip("\"'“‘(") if before else ""
        following = paragraph[match.end() : match.end() + 1]
        if match.group().startswith(".") and (
            last_word in _ABBREVIATIONS or re.fullmatch(r"[a-z]", last_word) or following.islower()
        ):
            continue
        yield match.end()


def split_sentences(text: str) -> list[str]:
    """Sentences and paragraph-separated lines, without splitting after abbreviations or initials."""
    sentences: list[str] = []
    for paragraph in PARAGRAPH.split(text):
        paragraph = " ".join(paragraph.split())
        start = 0
        for end in sentence_ends(paragraph):
            sentences += _bounded(paragraph[start:end].strip())
            start = end
        if paragraph[start:].strip():
            sentences += _bounded(paragraph[start:].strip())
    return sentences


def _bounded(sentence: str) -> list[str]:
    """`sentence` in parts of at most MAX_SENTENCE_CHARACTERS, cut after a clause mark in the part's second half,
    else at its last space (text with no spaces at all, at the limit)."""
    parts = []
    while len(sentence) > MAX_SENTENCE_CHARACTERS:
        window = sentence[: MAX_SENTENCE_CHARACTERS + 1]
        clauses = [m.end() for m in CLAUSE_END.finditer(window) if m.end() > MAX_SENTENCE_CHARACTERS // 2]
        at = clauses[-1] if clauses else window.rfind(" ") + 1 or MAX_SENTENCE_CHARACTERS
        parts.append(sentence[:at].strip())
        sentence = sentence[at:].strip()
    return [*parts, sentence] if sentence else parts


_PHONEME_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|(?<=[.!?…][\"”)])\s+|\s*\n\s*")


def split_phoneme_sentences(phonemes: str) -> list[str]:
    """A phoneme string's sentences: misaki writes the text's sentence punctuation into its phonemes."""
    return [s for s in (" ".join(part.split()) for part in _PHONEME_SENTENCE_END.split(phonemes)) if s]


@dataclass(frozen=True)
class Piece:
    """One model call's worth of phonemes, what kind of boundary ends it, and the speed to speak it at (the
    request's, times an SSML prosody rate or a voice's pace), and who says it."""

    phonemes: str
    boundary: Boundary
    speed: float = 1.0
    voice: str | None = None  # the speaker's label in the request's cast (None: the request's voice)

    @property
    def token_count(self) -> int:
        return len(self.phonemes)


_CUTS: tuple[tuple[re.Pattern[str], Boundary], ...] = (
    (re.compile(r"[.!?…][\"”)]*\s"), "sentence"),
    (re.compile(r"[,;:—–\-][\"”)]*\s"), "clause"),
    (re.compile(r"\s"), "word"),
)


def cut(phonemes: str, budget: int) -> tuple[str, str, Boundary]:
    """Split phonemes into a head of at most `budget` symbols at the best boundary, and the rest."""
    window = phonemes[: budget + 1]
    for pattern, boundary in _CUTS:
        ends = [m.end() for m in pattern.finditer(window) if m.end() > budget // 3]
        if ends:
            return phonemes[: ends[-1]].rstrip(), phonemes[ends[-1] :].lstrip(), boundary
    return phonemes[:budget], phonemes[budget:], "word"  # one unbroken "word" longer than the budget


def budgets(speed: float, max_frames: int = MAX_PIECE_FRAMES) -> tuple[int, int]:
    """Token budgets (first piece, later pieces) whose audio at `speed` stays within `max_frames` frames; the
    first piece makes as much audio as at speed 1, so a slow request starts speaking as soon."""
    most = int((max_frames * speed - EDGE_FRAMES) / MOST_FRAMES_PER_TOKEN)
    most = max(MIN_PIECE_TOKENS, min(MAX_PIECE_TOKENS, most))
    first = max(MIN_PIECE_TOKENS, min(FIRST_PIECE_TOKENS, round(FIRST_PIECE_TOKENS * speed), most))
    return first, most


def _boundary_of(phonemes: str) -> Boundary:
    return "sentence" if re.search(r"[.!?…][\"”)]*$", phonemes) else "clause"


def plan_pieces(
    sentences: Iterable[str],
    phonemize: Callable[[str], str],
    *,
    first_budget: int = FIRST_PIECE_TOKENS,
    max_budget: int = MAX_PIECE_TOKENS,
    speed: float = 1.0,
) -> Iterator[Piece]:
    """Pieces with budgets growing from `first_budget` to `max_budget`; sentences are phonemized lazily."""
    vocab = vocabulary()
    max_budget = min(max_budget, MAX_TOKENS)
    budget = min(first_budget, max_budget)
    pending = ""
    for sentence in sentences:
        phonemes = "".join(p for p in phonemize(sentence) if p in vocab).strip()
        if not set(phonemes) - PAUSE_SYMBOLS:
            continue  # nothing to say: punctuation alone is silence
        pending = f"{pending} {phonemes}" if pending else phonemes
        # a whole short first sentence reads better than a cut one a few symbols shorter
        while len(pending) > budget and not (budget == first_budget and len(pending) <= budget * 3 // 2):
            head, pending, boundary = cut(pending, budget)
            yield Piece(head, boundary, speed)
            budget = min(budget * 2, max_budget)
        if len(pending) >= budget // 2 or budget == first_budget:
            # enough for a piece: send it rather than wait for more sentences
            yield Piece(pending, _boundary_of(pending), speed)
            pending = ""
            budget = min(budget * 2, max_budget)
    if pending:
        yield Piece(pending, _boundary_of(pending), speed)

"""A document → what the engine is asked to read, as a narrator reads it: each chapter's title first, then
its paragraphs, with pauses after titles, headings, paragraphs, scene breaks and chapters; cut into pieces of
whole paragraphs (sentences for a long one) that keep within one request's 4,096 characters.

The book's language picks the voice when none is given; pauses travel as `[pause:…]` markers, which the
engine (and any server) reads.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from kokoro_speech.errors import InvalidParameter
from kokoro_speech.kokoro import language_letter
from kokoro_speech.jobs.narration import Narration
from kokoro_speech.text.documents import Block, Document
from kokoro_speech.text.split import split_sentences
from kokoro_speech.text.ssml import PAUSE_MARKER, is_ssml

SENTENCE_PAUSE = 0.3  # between the pieces of one long paragraph: as the engine pauses between sentences
# the voice a book in each language is read with when none is asked for
DEFAULT_VOICES = {"a": "af_heart", "b": "bf_emma", "e": "ef_dora", "f": "ff_siwis", "h": "hf_alpha", "i": "if_sara",
                  "j": "jf_alpha", "p": "pf_dora", "z": "zf_xiaobei"}
_ENDS_SENTENCE = re.compile(r"[.!?…:;。！？]['\"”’)\]]*$")


@dataclass(frozen=True)
class Piece:
    """One request to the engine: `text` (pauses inside as markers), then `pause_after` seconds of silence.
    Timed documents (subtitles) say when it starts and how long it has until the next cue."""

    chapter: int  # index into the plan's chapters
    number: int  # in the whole plan
    text: str
    pause_after: float
    characters: int  # of the document's text it reads, for progress
    start: float | None = None
    slot: float | None = None

    @property
    def key(self) -> str:
        digest = hashlib.sha256(f"{self.text}\0{self.start}\0{self.slot}".encode()).hexdigest()[:16]
        return f"{self.number:05d}-{digest}"


@dataclass
class PlannedChapter:
    number: int  # 1-based, as the document lists it
    title: str | None
    pieces: list[Piece] = field(default_factory=list)

    @property
    def characters(self) -> int:
        return sum(p.characters for p in self.pieces)

    @property
    def label(self) -> str:
        return self.title or f"Chapter {self.number}"


def _safe(text: str) -> str:
    """Book text as plain text for the engine: a literal `[pause:…]` is not a pause, a leading `<speak>` not SSML."""
    text = PAUSE_MARKER.sub(lambda m: "(" + m.group()[1:-1] + ")", text)
    return text.lstrip("<") if is_ssml(text) else text


def _sentence(text: str) -> str:
    """A title or heading read as a sentence of its own (a falling end, not a run into the next line)."""
    return text if _ENDS_SENTENCE.search(text) else text + "."


def _same(a: str, b: str) -> bool:
    a, b = (re.sub(r"\W+", " ", s).strip().casefold() for s in (a, b))
    return bool(a) and bool(b) and (a == b or a in b or b in a)


def _units(title: str | None, blocks: list[Block], narration: Narration) -> list[tuple[str, float, int]]:
    """(text, pause after, characters) of each title, heading and paragraph, pauses merged at breaks."""
    units: list[tuple[str, float, int]] = []
    start = 0
    spoken = title
    if title:  # the page's own heading repeats the title: read once, the fuller of the two
        while start < len(blocks) and blocks[start].kind == "heading" and _same(blocks[start].text, title):
            if len(blocks[start].text) > len(spoken or ""):
                spoken = blocks[start].text  # "Chapter 1" in the contents, "Chapter 1: The Lighthouse" on the page
            start += 1
    if spoken and narration.read_titles:
        units.append((_sentence(_safe(spoken)), narration.title_pause, len(spoken)))
    for block in blocks[start:]:
        if block.kind == "break":
            if units:
                text, pause, count = units[-1]
                units[-1] = (text, max(pause, narration.scene_pause), count)
            continue
        text = _safe(block.text)
        if not text.strip():
            continue
        if block.kind == "heading":
            units.append((_sentence(text), narration.heading_pause, len(block.text)))
        elif len(text) <= narration.piece_characters:
            units.append((text, narration.paragraph_pause, len(block.text)))
        else:  # a long paragraph: whole sentences up to a piece each
            group: list[str] = []
            for sentence in split_sentences(text):
                if group and len(" ".join([*group, sentence])) > narration.piece_characters:
                    joined = " ".join(group)
                    units.append((joined, SENTENCE_PAUSE, len(joined)))
                    group = []
                group.append(sentence)
            joined = " ".join(group)
            units.append((joined, narration.paragraph_pause, len(joined)))
    if units:
        text, _, count = units[-1]
        units[-1] = (text, narration.chapter_pause, count)
    return units


def _pieces(units: list[tuple[str, float, int]], limit: int) -> list[tuple[str, float, int]]:
    """Units joined into pieces of up to `limit` characters, the pauses between them as markers."""
    pieces: list[tuple[str, float, int]] = []
    text, pause, count = "", 0.0, 0
    for unit_text, unit_pause, unit_count in units:
        joined = f"{text} [pause:{pause:g}s] {unit_text}" if text else unit_text
        if text and len(joined) > limit:
            pieces.append((text, pause, count))
            text, count = unit_text, unit_count
        else:
            text, count = joined, count + unit_count
        pause = unit_pause
    if text:
        pieces.append((text, pause, count))
    return pieces


def plan(document: Document, narration: Narration, chapters: set[int] | None = None) -> list[PlannedChapter]:
    """The chapters asked for (1-based numbers; all when None), each cut into its pieces, in order."""
    planned: list[PlannedChapter] = []
    number = 0
    for chapter_number, chapter in enumerate(document.chapters, 1):
        if chapters is not None and chapter_number not in chapters:
            continue
        current = PlannedChapter(chapter_number, chapter.title)
        if document.timed:  # each cue at its time, as fast as it must be to end before the next one
            cues = [b for b in chapter.blocks if b.text]
            for cue, following in zip(cues, [*cues[1:], None], strict=True):
                slot = (following.start if following is not None else cue.end) - cue.start
                current.pieces.append(Piece(len(planned), number, _safe(cue.text), 0.0, len(cue.text),
                                            start=cue.start, slot=max(slot, 0.1)))
                number += 1
        else:
            for text, pause, count in _pieces(_units(chapter.title, chapter.blocks, narration),
                                              narration.piece_characters):
                current.pieces.append(Piece(len(planned), number, text, pause, count))
                number += 1
        if current.pieces:
            planned.append(current)
    return planned


def parse_chapters(spec: str, count: int) -> set[int]:
    """`1-3,7` → {1, 2, 3, 7}, each within the document's `count` chapters."""
    chosen: set[int] = set()
    for part in spec.replace(" ", "").split(","):
        match = re.fullmatch(r"(\d+)(?:-(\d+)?)?", part)
        if not match:
            raise InvalidParameter(f"chapters '{spec}': write numbers and ranges such as 1-3,7", param="chapters")
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) else (count if part.endswith("-") else first)
        if not 1 <= first <= last <= count:
            raise InvalidParameter(f"chapters '{part}': the document has chapters 1 to {count}", param="chapters")
        chosen.update(range(first, last + 1))
    return chosen


def book_language(tag: str | None) -> str | None:
    """The Kokoro language letter of a BCP 47 tag from a book's metadata (`en-GB` → b, `fr` → f), or None."""
    if not tag:
        return None
    return language_letter(tag) or language_letter(tag.replace("_", "-").split("-")[0])


def choose_voice(document: Document, voice: str | None, lang_code: str | None) -> tuple[str, str | None]:
    """The voice and reading language (a letter, None for the voice's own): the book's language picks both
    unless the voice or lang_code is given."""
    asked = None
    if lang_code is not None:
        asked = language_letter(lang_code)
        if asked is None:
            raise InvalidParameter(f"unknown language '{lang_code}'", param="lang_code")
    if voice is not None:
        return voice, asked
    letter = asked or book_language(document.language) or "a"
    return DEFAULT_VOICES[letter], asked

"""What every document reader returns: a book's chapters of paragraphs and headings, its metadata, and the
limits a document must keep within."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BlockKind = Literal["paragraph", "heading", "break"]


@dataclass(frozen=True)
class Block:
    """One paragraph, heading or scene break (`text` empty), as a listener hears it; subtitle cues carry
    their time in the film (`start`, `end`, seconds)."""

    text: str
    kind: BlockKind = "paragraph"
    start: float | None = None
    end: float | None = None


@dataclass
class Chapter:
    title: str | None
    blocks: list[Block] = field(default_factory=list)

    @property
    def characters(self) -> int:
        return sum(len(b.text) for b in self.blocks) + len(self.title or "")


@dataclass
class Document:
    """A book: its chapters in reading order and what its metadata says (any of it may be missing)."""

    format: str
    chapters: list[Chapter]
    title: str | None = None
    author: str | None = None
    language: str | None = None  # a BCP 47 tag, as the metadata gives it
    cover: bytes | None = None  # JPEG or PNG
    timed: bool = False  # subtitles: each block is said at its `start`

    @property
    def characters(self) -> int:
        return sum(c.characters for c in self.chapters)


@dataclass(frozen=True)
class Limits:
    """What one document may be: its bytes as given, and (zip containers) unpacked."""

    max_bytes: int = 64 << 20
    max_unpacked_bytes: int = 256 << 20
    max_ratio: float = 100.0  # uncompressed ÷ compressed, for members over 1 MB
    max_members: int = 10_000
    max_characters: int = 3_000_000  # about 500,000 words: the longest novels in print

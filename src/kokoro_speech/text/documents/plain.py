"""Plain text → a Document: paragraphs at blank lines (hard-wrapped lines joined), chapters at lines that
read as chapter headings ("Chapter 3", "PART TWO", "Prologue"), the rules being the table below."""

from __future__ import annotations

import re

from kokoro_speech.text.documents.clean import PAGE_NUMBER, clean
from kokoro_speech.text.documents.document import Block, Chapter, Document, Limits

_NUMBER = r"(?:\d{1,4}|[ivxlcdm]{1,7}|[a-z]+(?:[- ][a-z]+)?)"
# a paragraph of one short line matching one of these starts a chapter
CHAPTER_HEADINGS = [
    re.compile(rf"^(?:chapter|part|book|volume)\s+{_NUMBER}\b.{{0,60}}$", re.IGNORECASE),
    re.compile(r"^(?:prologue|epilogue|preface|foreword|introduction|afterword|interlude|appendix"
               r"|acknowledge?ments)\b.{0,60}$", re.IGNORECASE),
]
MAX_HEADING_CHARACTERS = 80
SCENE_BREAK = re.compile(r"^\s*(?:[*#~•·-]\s*){3,}$")  # "* * *", "###", "---"
PARAGRAPH_GAP = re.compile(r"\n[ \t]*\n")


def decode(data: bytes) -> str:
    """UTF-8 (with or without a byte-order mark), else Windows-1252, which every byte decodes in."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def is_heading(paragraph: str) -> bool:
    line = paragraph.strip()
    return "\n" not in line and len(line) <= MAX_HEADING_CHARACTERS and any(p.match(line) for p in CHAPTER_HEADINGS)


def chapters_of(paragraphs: list[str]) -> list[Chapter]:
    chapters: list[Chapter] = []
    current: Chapter | None = None
    for paragraph in paragraphs:
        if is_heading(paragraph):
            current = Chapter(clean(paragraph))
            chapters.append(current)
            continue
        if current is None:
            current = Chapter(None)
            chapters.append(current)
        if SCENE_BREAK.match(paragraph):
            current.blocks.append(Block("", "break"))
        elif not PAGE_NUMBER.match(paragraph) and (text := clean(paragraph)):
            current.blocks.append(Block(text))
    return chapters


def read(data: bytes, limits: Limits) -> Document:
    text = decode(data)
    return Document("text", chapters_of(PARAGRAPH_GAP.split(text)))

"""Markdown → a Document through markdown-it (CommonMark): headings of the top level are chapters (a lone
first top-level heading is the book's title, and the next level are its chapters); deeper headings are
read as headings. Code blocks, images, raw HTML and footnote definitions are left out; links are read as
their text. A YAML-style front matter block gives title, author and lang."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

from kokoro_speech.text.documents.clean import clean
from kokoro_speech.text.documents.document import Block, Chapter, Document, Limits
from kokoro_speech.text.documents.plain import decode

FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*\n", re.DOTALL)
FRONT_MATTER_KEYS = {"title": "title", "author": "author", "lang": "language", "language": "language"}
FOOTNOTE_DEFINITION = re.compile(r"^\[\^[^\]]+\]:.*(?:\n(?: {4}|\t).*)*", re.MULTILINE)
# inline tokens whose text is read; images, raw HTML and the markup itself are not
READ_INLINE = {"text": "content", "code_inline": "content", "softbreak": None, "hardbreak": None}
SKIPPED_BLOCKS = {"fence", "code_block", "html_block"}


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    match = FRONT_MATTER.match(text)
    if not match:
        return {}, text
    found = {}
    for line in match.group(1).splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in FRONT_MATTER_KEYS and value.strip():
            found[FRONT_MATTER_KEYS[key.strip().lower()]] = value.strip().strip("\"'")
    return found, text[match.end():]


def _inline(token) -> str:
    parts = []
    for child in token.children or []:
        if child.type in READ_INLINE:
            parts.append(getattr(child, READ_INLINE[child.type]) if READ_INLINE[child.type] else " ")
    return clean("".join(parts))


def read(data: bytes, limits: Limits) -> Document:
    meta, text = _front_matter(decode(data))
    text = FOOTNOTE_DEFINITION.sub("", text)
    tokens = MarkdownIt("commonmark").parse(text)
    # (level, text) of each heading, then the level whose headings are chapters
    headings = [(int(t.tag[1]), _inline(tokens[i + 1])) for i, t in enumerate(tokens) if t.type == "heading_open"]
    title = meta.get("title")
    chapter_level = min((level for level, _ in headings), default=1)
    top = [h for h in headings if h[0] == chapter_level]
    if len(top) == 1 and headings[0][0] == chapter_level and any(level > chapter_level for level, _ in headings):
        title = title or top[0][1]  # "# Book title", then "## Chapter"s
        chapter_level = min(level for level, _ in headings if level > chapter_level)
    chapters: list[Chapter] = []
    current: Chapter | None = None
    skipping = 0
    for i, token in enumerate(tokens):
        if token.type in SKIPPED_BLOCKS:
            continue
        if token.type == "heading_open":
            level, heading = int(token.tag[1]), _inline(tokens[i + 1])
            if level < chapter_level:  # the book's title line
                skipping = 1
                continue
            if level == chapter_level:
                current = Chapter(heading or None)
                chapters.append(current)
                skipping = 1
                continue
            if current is None:
                current = Chapter(None)
                chapters.append(current)
            current.blocks.append(Block(heading, "heading"))
            skipping = 1
        elif token.type == "hr":
            if current is not None:
                current.blocks.append(Block("", "break"))
        elif token.type == "inline":
            if skipping:
                skipping = 0
                continue
            paragraph = _inline(token)
            if paragraph:
                if current is None:
                    current = Chapter(None)
                    chapters.append(current)
                current.blocks.append(Block(paragraph))
    return Document("markdown", chapters, title=title, author=meta.get("author"), language=meta.get("language"))

"""XHTML and HTML pages → paragraphs and headings, through lxml's HTML parser, reading what a narrator
reads: note markers, page-break markers, notes, navigation, scripts and images (alt text included) are
left out; figure captions and table cells are read as paragraphs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import lxml.etree
import lxml.html

from kokoro_speech.text.documents.clean import clean
from kokoro_speech.text.documents.document import Block

# elements never read: machinery, media, and the book's own navigation
SKIPPED_TAGS = frozenset({
    "head", "script", "style", "noscript", "template", "nav", "svg", "math", "img", "image", "audio", "video",
    "object", "embed", "iframe", "canvas", "button", "input", "select", "textarea", "rt", "rp",
})
# EPUB's epub:type and ARIA's role values of the parts a listener does not want in the flow of the text
SKIPPED_SEMANTICS = frozenset({
    "pagebreak", "doc-pagebreak", "page-list", "noteref", "doc-noteref", "footnote", "doc-footnote", "endnote",
    "endnotes", "doc-endnote", "doc-endnotes", "rearnote", "rearnotes", "footnotes", "backlink", "doc-backlink",
    "annoref", "toc", "doc-toc", "landmarks",
})
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
BLOCK_TAGS = frozenset({
    "p", "div", "section", "article", "main", "header", "footer", "aside", "blockquote", "pre", "li", "ul", "ol",
    "dl", "dt", "dd", "table", "tr", "td", "th", "caption", "figure", "figcaption", "body", "address", "center",
    "hgroup", "details", "summary",
}) | HEADING_TAGS
BREAK_TAGS = frozenset({"hr"})
# a link or superscript whose whole text is one of these is a note marker: 12, [12], *, a, iv
NOTE_MARKER = re.compile(r"^\s*[\[(]?(?:\d{1,4}|[a-z]|[ivxlc]{1,6}|\*{1,3})[\])]?\s*$", re.IGNORECASE)
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"


@dataclass
class Page:
    """A page's blocks, and where each element id falls among them (the block it starts, for fragment links)."""

    blocks: list[Block] = field(default_factory=list)
    anchors: dict[str, int] = field(default_factory=dict)
    title: str | None = None


def _semantics(element) -> set[str]:
    values = (element.get(EPUB_TYPE) or element.get("epub:type") or "") + " " + (element.get("role") or "")
    return set(values.lower().split())


def _tag(element) -> str:
    tag = element.tag if isinstance(element.tag, str) else ""
    return tag.rsplit("}", 1)[-1].lower()


def _is_note_marker(element, tag: str) -> bool:
    """A superscript, or an in-book link, that holds nothing but a note number or mark."""
    if tag not in ("a", "sup"):
        return False
    text = element.text_content()
    if not NOTE_MARKER.match(text):
        return False
    return tag == "sup" or ("#" in (element.get("href") or "") and not text.strip().isalpha())


class _Reader:
    def __init__(self) -> None:
        self.page = Page()
        self.buffer: list[str] = []
        self.kind = "paragraph"

    def flush(self) -> None:
        text = clean("".join(self.buffer))
        if text:
            self.page.blocks.append(Block(text, self.kind))  # type: ignore[arg-type]
        self.buffer = []
        self.kind = "paragraph"

    def walk(self, element) -> None:
        tag = _tag(element)
        if not isinstance(element.tag, str):  # comments, processing instructions
            self.buffer.append(element.tail or "")
            return
        skipped = tag in SKIPPED_TAGS or bool(_semantics(element) & SKIPPED_SEMANTICS) or _is_note_marker(element, tag)
        anchor = element.get("id") or element.get("name")
        if anchor:
            self.page.anchors.setdefault(anchor, len(self.page.blocks) + (1 if "".join(self.buffer).strip() else 0))
        if skipped:
            pass
        elif tag in BREAK_TAGS:
            self.flush()
            self.page.blocks.append(Block("", "break"))
        elif tag == "br":
            self.buffer.append("\n")
        elif tag in BLOCK_TAGS:
            self.flush()
            if tag in HEADING_TAGS:
                self.kind = "heading"
            self.buffer.append(element.text or "")
            for child in element:
                self.walk(child)
            self.flush()
        else:
            self.buffer.append(element.text or "")
            for child in element:
                self.walk(child)
        self.buffer.append(element.tail or "")


def read_page(data: bytes | str) -> Page:
    """A page's blocks in reading order, its <title>, and its element ids."""
    parser = lxml.html.HTMLParser(encoding="utf-8" if isinstance(data, bytes) else None, no_network=True,
                                  remove_comments=True, remove_pis=True)
    try:
        root = lxml.html.document_fromstring(data, parser=parser)
    except (lxml.etree.ParserError, ValueError):
        return Page()
    reader = _Reader()
    title = root.find(".//title")
    body = root.find("body")
    for element in ([body] if body is not None else list(root)):
        reader.walk(element)
    reader.flush()
    reader.page.title = clean(title.text_content()) or None if title is not None else None
    return reader.page

"""PDF with a text layer → a Document through pypdf: chapters from the outline (bookmarks) when there is
one, else one chapter; running headers and footers (lines repeated at the top or bottom of most pages) and
page numbers are dropped, lines are joined into paragraphs and words hyphenated across lines rejoined."""

from __future__ import annotations

import io
import logging
import re
import statistics
from collections import Counter
from dataclasses import dataclass

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError, PdfStreamError

from kokoro_speech.errors import DocumentError, ProtectedDocument
from kokoro_speech.text.documents.clean import PAGE_NUMBER, clean, titled
from kokoro_speech.text.documents.document import Block, Chapter, Document, Limits

log = logging.getLogger(__name__)

EDGE_LINES = 2  # lines at the top and at the bottom of a page where running headers and footers sit
RUNNING_SHARE = 0.5  # a line at an edge of at least this share of the pages (3 at least) is a running one
MIN_RUNNING_PAGES = 3
SHORT_LINE = 0.8  # a line shorter than this share of the usual length, ending a sentence, ends its paragraph
_SENTENCE_END = re.compile(r"[.!?…:][\"'”’)\]]*$")
_DIGITS = re.compile(r"\d+")
READ_ERRORS = (PdfReadError, PdfStreamError, ValueError, KeyError, TypeError, AttributeError, IndexError,
               RecursionError, OSError, AssertionError, ZeroDivisionError)


@dataclass(frozen=True)
class Line:
    page: int
    text: str


def _open(data: bytes) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data))
    except READ_ERRORS as exc:
        raise DocumentError(f"this PDF cannot be read ({type(exc).__name__}: {exc})") from None
    if reader.is_encrypted:
        try:  # owner-password PDFs (printing or copying restricted) open with the empty user password
            opened = reader.decrypt("")
        except (DependencyError, NotImplementedError, FileNotDecryptedError, *READ_ERRORS):
            opened = 0
        if not opened:
            raise ProtectedDocument("this PDF is encrypted with a password; only unprotected PDFs can be read")
    return reader


def _page_lines(reader: PdfReader) -> list[list[str]]:
    pages = []
    try:
        every = list(reader.pages)
    except READ_ERRORS as exc:
        raise DocumentError(f"this PDF's pages cannot be read ({type(exc).__name__}: {exc})") from None
    for number, page in enumerate(every):
        try:
            text = page.extract_text() or ""
        except READ_ERRORS as exc:
            log.warning("page %d of the PDF has no readable text (%s)", number + 1, exc)
            text = ""
        pages.append([line.strip() for line in text.splitlines() if line.strip()])
    return pages


def _without_running_lines(pages: list[list[str]]) -> list[Line]:
    """Every line in order, less page numbers and the headers and footers that repeat at the pages' edges."""
    def key(line: str) -> str:
        return _DIGITS.sub("#", line.casefold())

    edges = Counter()
    for lines in pages:
        edges.update({key(line) for line in lines[:EDGE_LINES] + lines[-EDGE_LINES:]})
    running = {k for k, n in edges.items() if len(pages) >= MIN_RUNNING_PAGES and n >= RUNNING_SHARE * len(pages)}
    kept = []
    for number, lines in enumerate(pages):
        for position, line in enumerate(lines):
            at_edge = position < EDGE_LINES or position >= len(lines) - EDGE_LINES
            if at_edge and (key(line) in running or PAGE_NUMBER.match(line)):
                continue
            kept.append(Line(number, line))
    return kept


def _outline(reader: PdfReader) -> list[tuple[int, str]]:
    """(page index, title) of each top-level bookmark (all levels when the top has one), in page order."""
    def flatten(items, depth: int, out: list) -> list:
        for item in items:
            if isinstance(item, list):
                flatten(item, depth + 1, out)
                continue
            try:
                page = reader.get_destination_page_number(item)
            except READ_ERRORS:
                continue
            if page is not None and page >= 0 and getattr(item, "title", None):
                out.append((depth, page, str(item.title)))
        return out

    try:
        entries = flatten(reader.outline, 0, [])
    except READ_ERRORS:
        return []
    top = [(page, title) for depth, page, title in entries if depth == 0]
    chosen = top if len(top) > 1 else [(page, title) for _, page, title in entries]
    return sorted(chosen, key=lambda entry: entry[0])


def _paragraphs(lines: list[Line]) -> list[tuple[int, str, list[Line]]]:
    """Lines joined into paragraphs: (first page, text, its lines)."""
    if not lines:
        return []
    usual = statistics.median(len(line.text) for line in lines)
    paragraphs, current = [], []
    for line in lines:
        current.append(line)
        if _SENTENCE_END.search(line.text) and len(line.text) < SHORT_LINE * usual:
            paragraphs.append(current)
            current = []
    if current:
        paragraphs.append(current)
    return [(group[0].page, "\n".join(line.text for line in group), group) for group in paragraphs]


def _same_title(line: str, title: str) -> bool:
    a, b = (re.sub(r"\W+", " ", s).strip().casefold() for s in (line, title))
    return bool(a) and (a == b or a.startswith(b))


def _chapters(lines: list[Line], outline: list[tuple[int, str]]) -> list[Chapter]:
    """Lines cut at each bookmark: at the line on its page that reads as its title, else at its page's top."""
    cuts: list[tuple[int, str | None]] = []  # (index into lines, title)
    for page, title in outline:
        on_page = [i for i, line in enumerate(lines) if line.page == page]
        after = next((i for i, line in enumerate(lines) if line.page >= page), len(lines))
        titled_at = next((i for i in on_page if _same_title(lines[i].text, title)), None)
        start = titled_at if titled_at is not None else after
        if cuts and start < cuts[-1][0]:
            start = cuts[-1][0]
        cuts.append((start, title))
        if titled_at is not None:  # the title's own line is read as the chapter's title, not as text
            lines[titled_at] = Line(lines[titled_at].page, "")
    if not cuts or cuts[0][0] > 0:
        cuts.insert(0, (0, None))
    chapters = []
    for (start, title), (end, _) in zip(cuts, [*cuts[1:], (len(lines), None)], strict=True):
        chunk = [line for line in lines[start:end] if line.text]
        blocks = [Block(text) for _, raw, _ in _paragraphs(chunk) if (text := clean(raw))]
        chapters.append(Chapter(titled(title), blocks))
    return chapters


def _language(reader: PdfReader) -> str | None:
    try:
        value = reader.trailer["/Root"].get("/Lang")
    except READ_ERRORS:
        return None
    return str(value).strip() or None if value is not None else None


def read(data: bytes, limits: Limits) -> Document:
    reader = _open(data)
    lines = _without_running_lines(_page_lines(reader))
    try:
        metadata = reader.metadata
        title, author = (metadata.title, metadata.author) if metadata is not None else (None, None)
    except READ_ERRORS:
        title = author = None
    return Document("pdf", _chapters(lines, _outline(reader)), title=titled(title) if title else None,
                    author=titled(author) if author else None, language=_language(reader))

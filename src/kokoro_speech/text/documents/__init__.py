"""Books and long documents → chapters of paragraphs: `read_document` picks the reader (EPUB, Markdown, text,
PDF, subtitles) by content and name, and checks what it returns.

Readers never write to disk and never follow a name inside a book; `guard.py` refuses bad input first.
"""

from __future__ import annotations

import logging
import zipfile
import zlib
from pathlib import PurePath
from typing import Callable

import lxml.etree
import pypdf.errors

from kokoro_speech.errors import DocumentError, DocumentTooLarge, NoTextInDocument, UnsupportedDocument
from kokoro_speech.text.documents import epub, markdown, pdf, plain, subtitles
from kokoro_speech.text.documents.document import Block, Chapter, Document, Limits

__all__ = ["Block", "Chapter", "Document", "Limits", "read_document", "detect", "FORMATS"]

log = logging.getLogger(__name__)

Reader = Callable[[bytes, Limits], Document]
# what the parsers raise on broken input (a bug of ours would be none of these, or would show in the tests)
UNREADABLE = (ValueError, LookupError, TypeError, AttributeError, OSError, EOFError, RecursionError, zlib.error,
              zipfile.BadZipFile, lxml.etree.Error, pypdf.errors.PyPdfError, AssertionError, NotImplementedError)

READERS: dict[str, Reader] = {
    "epub": epub.read, "markdown": markdown.read, "text": plain.read, "pdf": pdf.read,
    "srt": subtitles.read_srt, "vtt": subtitles.read_vtt,
}

DEFAULT_LIMITS = Limits()

# a file name's suffix → its format
SUFFIXES = {
    ".epub": "epub", ".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text",
    ".pdf": "pdf", ".srt": "srt", ".vtt": "vtt",
}
FORMATS = sorted(set(SUFFIXES.values()))


def sniff(data: bytes) -> str | None:
    """The format the content itself says, where it says one."""
    head = data[:64].lstrip(b"\xef\xbb\xbf")
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04") and b"application/epub+zip" in data[:128]:
        return "epub"
    if head.startswith(b"WEBVTT"):
        return "vtt"
    return None


def detect(name: str | None, data: bytes) -> str:
    """The reader for `data`: the content's own signature first, then the name's suffix."""
    found = sniff(data)
    suffix = PurePath(name).suffix.lower() if name else ""
    if found is not None:
        return found
    if suffix in SUFFIXES:
        return SUFFIXES[suffix]
    if data.startswith(b"PK\x03\x04"):
        raise UnsupportedDocument("a zip file that is not an EPUB (its 'mimetype' is not application/epub+zip)")
    if not suffix:
        try:
            data[:4096].decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return "text"
    raise UnsupportedDocument(f"'{name}' is not a type this reads: EPUB, Markdown, plain text, PDF, SRT or WebVTT "
                              f"({', '.join(sorted(SUFFIXES))})")


def read_document(data: bytes, name: str | None = None, *, limits: Limits = DEFAULT_LIMITS,
                  format: str | None = None) -> Document:
    """The document in `data` (named `name`, for its suffix), read by its format's reader; a DocumentError
    (4xx) when it is too large, unsafe, protected, corrupt or says nothing."""
    if len(data) > limits.max_bytes:
        raise DocumentTooLarge(f"the document is {len(data):,} bytes; the limit is {limits.max_bytes:,}")
    kind = format or detect(name, data)
    try:
        document = READERS[kind](data, limits)
    except DocumentError:
        raise
    except UNREADABLE as exc:  # a parser tripped on broken input: the input's fault, never the server's
        log.info("a %s document could not be read", kind, exc_info=True)
        raise DocumentError(f"this {kind} document cannot be read ({type(exc).__name__}: {exc})"[:300]) from None
    document.chapters = [c for c in document.chapters if any(b.text for b in c.blocks) or c.title]
    if not any(b.text for c in document.chapters for b in c.blocks):
        raise NoTextInDocument("the document has no text to read"
                               + (" (a PDF of scanned pages has no text layer: run OCR on it first)"
                                  if kind == "pdf" else ""))
    if document.characters > limits.max_characters:
        raise DocumentTooLarge(f"the document holds {document.characters:,} characters; the limit is "
                               f"{limits.max_characters:,}")
    return document

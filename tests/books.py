"""Short books the tests write themselves: EPUB (ebooklib), PDF with a text layer (pypdf objects), Markdown,
plain text and subtitles. The prose is written for these tests."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from ebooklib import epub
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject, TextStringObject

from support import cover_jpeg

CHAPTERS = [
    ("The Lighthouse", ["Mara climbed the stairs at dusk.", "The lamp was cold, and the sea was loud."]),
    ("The Storm", ["Rain came sideways over the rocks.", "She lit the wick with her last match."]),
    ("Morning", ["The boats came home one by one.", "Nobody knew her name, but they saw the light."]),
]


def make_epub(path: Path, chapters=CHAPTERS, *, title="The Keeper", author="Ada Writer", language="en",
              cover: bool = True, extra_html: str = "", version: int = 3) -> Path:
    book = epub.EpubBook()
    book.set_identifier("test-book-1")
    book.set_title(title)
    book.set_language(language)
    book.add_author(author)
    if cover:
        book.set_cover("cover.jpg", cover_jpeg(), create_page=False)
    items = []
    for number, (heading, paragraphs) in enumerate(chapters, 1):
        item = epub.EpubHtml(title=heading, file_name=f"chapter{number}.xhtml", lang=language)
        body = "".join(f"<p>{p}</p>" for p in paragraphs)
        item.content = (f"<html><head><title>{heading}</title></head><body><h1>{heading}</h1>{body}"
                        f"{extra_html if number == 1 else ''}</body></html>")
        book.add_item(item)
        items.append(item)
    book.toc = items
    book.spine = ["nav", *items]
    book.add_item(epub.EpubNcx())
    if version == 3:
        book.add_item(epub.EpubNav())
    epub.write_epub(str(path), book, {"epub3_pages": False} if version == 2 else {})
    return path


def rezip(source: Path, target: Path, *, add: dict[str, bytes] | None = None, drop: tuple[str, ...] = (),
          replace: dict[str, bytes] | None = None) -> Path:
    """A copy of an EPUB with members added, dropped or replaced (to build hostile ones)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename in drop:
                continue
            data = (replace or {}).get(info.filename, old.read(info.filename))
            new.writestr(info.filename, data, zipfile.ZIP_STORED if info.filename == "mimetype" else None)
        for name, data in (add or {}).items():
            new.writestr(name, data)
    return target


def _pdf_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(path: Path | None, pages: list[list[str]], *, outline: list[tuple[str, int]] = (),
             title: str | None = "A Test PDF", author: str | None = "Ada Writer", lang: str | None = "en-GB") -> bytes:
    """A PDF whose pages hold these lines in Helvetica (a real text layer), with bookmarks and metadata."""
    writer = PdfWriter()
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    font_ref = writer._add_object(font)
    for lines in pages:
        page = writer.add_blank_page(612, 792)
        ops = ["BT", "/F1 11 Tf", "14 TL", "72 740 Td"]
        for line in lines:
            ops += [f"({_pdf_string(line)}) Tj", "T*"]
        ops.append("ET")
        stream = DecodedStreamObject()
        stream.set_data("\n".join(ops).encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(stream)
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
            {NameObject("/F1"): font_ref})})
    for heading, page_number in outline:
        writer.add_outline_item(title=heading, page_number=page_number)
    if title or author:
        writer.add_metadata({k: v for k, v in (("/Title", title), ("/Author", author)) if v})
    if lang:
        writer.root_object[NameObject("/Lang")] = TextStringObject(lang)
    buffer = io.BytesIO()
    writer.write(buffer)
    if path is not None:
        path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


__all__ = ["CHAPTERS", "make_epub", "make_pdf", "rezip", "cover_jpeg", "ArrayObject"]

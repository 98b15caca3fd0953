"""Books and documents → chapters: each format's reader, what a listener should not hear, and bad input
refused with a typed 4xx error before any synthesis."""

from __future__ import annotations

import zipfile

import pytest
from ebooklib import epub
from pypdf import PdfReader, PdfWriter

from books import CHAPTERS, make_epub, make_pdf, rezip
from kokoro_speech.errors import (
    ApiError, DocumentError, DocumentTooLarge, NoTextInDocument, ProtectedDocument, UnsafeDocument,
    UnsupportedDocument,
)
from kokoro_speech.text.documents import Limits, read_document

pytestmark = pytest.mark.unit


def texts(chapter) -> list[str]:
    return [b.text for b in chapter.blocks if b.kind != "heading"]


@pytest.mark.parametrize("version", [2, 3])
def test_epub_chapters_follow_the_navigation_and_the_spine(tmp_path, version):
    path = make_epub(tmp_path / "book.epub", version=version)
    book = read_document(path.read_bytes(), path.name)
    assert [c.title for c in book.chapters] == [title for title, _ in CHAPTERS]
    assert [texts(c) for c in book.chapters] == [paragraphs for _, paragraphs in CHAPTERS]
    assert (book.title, book.author, book.language, book.format) == ("The Keeper", "Ada Writer", "en", "epub")
    assert book.cover is not None and book.cover.startswith(b"\xff\xd8")


def test_epub_leaves_out_what_a_listener_does_not_want(tmp_path):
    extra = ('<p>She waited<sup><a href="#n1" epub:type="noteref">1</a></sup> and watched[2].</p>'
             '<span epub:type="pagebreak" id="page7" title="7">7</span>'
             '<figure><img src="x.png" alt="A drawing of a lighthouse"/>'
             '<figcaption>The old tower.</figcaption></figure>'
             '<aside epub:type="footnote" id="n1"><p>A note about waiting.</p></aside>'
             '<hr/><p>Later, the tide.</p>')
    path = make_epub(tmp_path / "book.epub", extra_html=extra, cover=False)
    first = read_document(path.read_bytes(), path.name).chapters[0]
    said = " ".join(b.text for b in first.blocks)
    assert "She waited and watched." in said and "The old tower." in said and "Later, the tide." in said
    for unsaid in ("A drawing", "A note about", "7", "1", "[2]"):
        assert unsaid not in said.replace("The old", "")
    assert any(b.kind == "break" for b in first.blocks)  # the <hr/> scene break becomes a pause


def test_epub_chapters_can_start_inside_one_file_at_their_anchors(tmp_path):
    book = epub.EpubBook()
    book.set_identifier("anchors")
    book.set_title("Two in One")
    book.set_language("en")
    page = epub.EpubHtml(title="Both", file_name="both.xhtml", lang="en")
    page.content = ('<html><body><p>An opening line.</p><h2 id="one">First</h2><p>Alpha text.</p>'
                    '<h2 id="two">Second</h2><p>Beta text.</p></body></html>')
    book.add_item(page)
    book.toc = [epub.Link("both.xhtml#one", "First", "one"), epub.Link("both.xhtml#two", "Second", "two")]
    book.spine = [page]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    epub.write_epub(str(tmp_path / "a.epub"), book)
    chapters = read_document((tmp_path / "a.epub").read_bytes(), "a.epub").chapters
    assert [(c.title, texts(c)) for c in chapters] == [
        (None, ["An opening line."]), ("First", ["Alpha text."]), ("Second", ["Beta text."])]


def test_markdown_headings_are_chapters():
    text = """---
title: Sea Notes
author: Ada Writer
lang: en-GB
---
# Sea Notes

## One

The first *chapter* with a [link](http://example.com)[^1].

![a gull](gull.png)

```
code is not read
```

## Two

### A section

Second chapter text.

[^1]: A footnote nobody hears.
"""
    book = read_document(text.encode(), "notes.md")
    assert (book.title, book.author, book.language) == ("Sea Notes", "Ada Writer", "en-GB")
    assert [c.title for c in book.chapters] == ["One", "Two"]
    assert texts(book.chapters[0]) == ["The first chapter with a link."]
    assert [(b.kind, b.text) for b in book.chapters[1].blocks] == [("heading", "A section"),
                                                                    ("paragraph", "Second chapter text.")]


def test_plain_text_chapter_headings_page_numbers_and_wrapped_lines():
    text = ("The Keeper\n\nCHAPTER ONE\n\nMara climbed the stairs\nat dusk.\n\n12\n\nThe lamp was cold.\n\n"
            "* * *\n\nChapter 2: The Storm\n\nRain came sideways.\n")
    book = read_document(text.encode(), "book.txt")
    assert [c.title for c in book.chapters] == [None, "CHAPTER ONE", "Chapter 2: The Storm"]
    assert [b.text for b in book.chapters[1].blocks] == ["Mara climbed the stairs at dusk.", "The lamp was cold.", ""]
    assert book.chapters[1].blocks[-1].kind == "break"


def test_pdf_outline_chapters_without_running_headers_or_page_numbers():
    pages = [["The Keeper", "Chapter One", "Mara climbed the stairs at dusk and the lamp was",
              "cold; the sea was loud all night, and the wind was", "strong.", "1"],
             ["The Keeper", "The next morning the beach was wide and the light", "was thin.", "Chapter Two",
              "Rain came side-", "ways over the rocks.", "2"],
             ["The Keeper", "Chapter Three", "The boats came home.", "3"]]
    data = make_pdf(None, pages, outline=[("Chapter One", 0), ("Chapter Two", 1), ("Chapter Three", 2)])
    book = read_document(data, "book.pdf")
    assert [c.title for c in book.chapters] == ["Chapter One", "Chapter Two", "Chapter Three"]
    assert texts(book.chapters[0]) == [
        "Mara climbed the stairs at dusk and the lamp was cold; the sea was loud all night, and the wind was strong.",
        "The next morning the beach was wide and the light was thin."]
    assert texts(book.chapters[1]) == ["Rain came sideways over the rocks."]
    assert (book.title, book.author, book.language) == ("A Test PDF", "Ada Writer", "en-GB")
    every = " ".join(b.text for c in book.chapters for b in c.blocks)
    assert "The Keeper" not in every and " 2" not in every


def test_pdf_without_outline_is_one_chapter():
    book = read_document(make_pdf(None, [["Just one page of text."]]), "a.pdf")
    assert [(c.title, texts(c)) for c in book.chapters] == [(None, ["Just one page of text."])]


@pytest.mark.parametrize("name, data", [
    ("film.srt", b"1\n00:00:01,000 --> 00:00:02,500\nHello <i>there</i>.\n\n2\n00:00:04,000 --> 00:00:05,000\n"
                 b"Second cue.\n"),
    ("film.vtt", b"WEBVTT\n\n00:00:01.000 --> 00:00:02.500\n<v Ann>Hello there.\n\n00:00:04.000 --> 00:00:05.000\n"
                 b"Second cue.\n"),
])
def test_subtitle_cues_keep_their_times(name, data):
    book = read_document(data, name)
    assert book.timed
    assert [(b.text, b.start, b.end) for b in book.chapters[0].blocks] == [
        ("Hello there.", 1.0, 2.5), ("Second cue.", 4.0, 5.0)]


# bad input: each refused with its own 4xx error, naming the file parameter

def refused(error: type[ApiError], data: bytes, name: str, limits: Limits | None = None) -> ApiError:
    with pytest.raises(error) as caught:
        read_document(data, name, limits=limits or Limits())
    assert 400 <= caught.value.status < 500 and caught.value.param == "file" and caught.value.message
    return caught.value


def test_unknown_types_are_refused():
    assert refused(UnsupportedDocument, b"\x00\x01binary", "report.docx").status == 415
    refused(UnsupportedDocument, zip_bytes({"word/document.xml": b"<x/>"}), "x.zip")


def zip_bytes(members: dict[str, bytes]) -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_too_large_is_refused(tmp_path):
    assert refused(DocumentTooLarge, b"a" * 2000, "a.txt", Limits(max_bytes=1000)).status == 413
    path = make_epub(tmp_path / "b.epub")
    refused(DocumentTooLarge, path.read_bytes(), "b.epub", Limits(max_unpacked_bytes=2000))


def test_corrupt_epub_is_refused(tmp_path):
    data = make_epub(tmp_path / "b.epub").read_bytes()
    error = refused(DocumentError, data[: len(data) // 2], "b.epub")
    assert error.status == 422
    refused(DocumentError, rezip(tmp_path / "b.epub", tmp_path / "c.epub", drop=("META-INF/container.xml",))
            .read_bytes(), "c.epub")


ENCRYPTION = """<?xml version="1.0"?>
<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" xmlns:enc="http://www.w3.org/2001/04/xmlenc#">
<enc:EncryptedData><enc:EncryptionMethod Algorithm="{algorithm}"/>
<enc:CipherData><enc:CipherReference URI="EPUB/{target}"/></enc:CipherData></enc:EncryptedData></encryption>"""


def test_drm_encrypted_epub_is_refused_but_font_obfuscation_is_not(tmp_path):
    source = make_epub(tmp_path / "b.epub")
    aes = ENCRYPTION.format(algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc", target="chapter1.xhtml")
    drm = rezip(source, tmp_path / "drm.epub", add={"META-INF/encryption.xml": aes.encode()})
    refused(ProtectedDocument, drm.read_bytes(), "drm.epub")
    adept = rezip(source, tmp_path / "adept.epub", add={"META-INF/rights.xml": b"<rights/>"})
    refused(ProtectedDocument, adept.read_bytes(), "adept.epub")
    fonts = ENCRYPTION.format(algorithm="http://www.idpf.org/2008/embedding", target="font.otf")
    obfuscated = rezip(source, tmp_path / "fonts.epub", add={"META-INF/encryption.xml": fonts.encode()})
    assert len(read_document(obfuscated.read_bytes(), "fonts.epub").chapters) == 3


def test_zip_bomb_is_refused_from_its_directory(tmp_path):
    source = make_epub(tmp_path / "b.epub")
    bomb = rezip(source, tmp_path / "bomb.epub", add={"EPUB/padding.xhtml": b"\0" * (4 << 20)})
    assert "zip bomb" in refused(UnsafeDocument, bomb.read_bytes(), "bomb.epub").message
    many = rezip(source, tmp_path / "many.epub", add={f"EPUB/x{i}.txt": b"x" for i in range(30)})
    refused(UnsafeDocument, many.read_bytes(), "many.epub", Limits(max_members=20))


LAUGHS = ('<?xml version="1.0"?><!DOCTYPE html [<!ENTITY a "hahahahaha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
          '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><html xmlns="http://www.w3.org/1999/xhtml"><body><p>&c;</p>'
          '</body></html>')
EXTERNAL = ('<?xml version="1.0"?><!DOCTYPE package [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            '<package xmlns="http://www.idpf.org/2007/opf"><metadata>&x;</metadata></package>')


def test_xml_entity_attacks_are_refused(tmp_path):
    source = make_epub(tmp_path / "b.epub")
    laughs = rezip(source, tmp_path / "laughs.epub", replace={"EPUB/chapter1.xhtml": LAUGHS.encode()})
    refused(UnsafeDocument, laughs.read_bytes(), "laughs.epub")
    external = rezip(source, tmp_path / "external.epub", replace={"EPUB/content.opf": EXTERNAL.encode()})
    refused(UnsafeDocument, external.read_bytes(), "external.epub")


def test_names_pointing_outside_the_book_are_refused(tmp_path):
    source = make_epub(tmp_path / "b.epub")
    escape = rezip(source, tmp_path / "escape.epub", add={"../../evil.sh": b"echo"})
    refused(UnsafeDocument, escape.read_bytes(), "escape.epub")
    with zipfile.ZipFile(source) as archive:
        opf = archive.read("EPUB/content.opf").decode()
    outside = opf.replace('href="chapter1.xhtml"', 'href="../../../etc/passwd"')
    assert outside != opf
    sneaky = rezip(source, tmp_path / "sneaky.epub", replace={"EPUB/content.opf": outside.encode()})
    refused(UnsafeDocument, sneaky.read_bytes(), "sneaky.epub")
    absolute = opf.replace('href="chapter1.xhtml"', 'href="/etc/passwd"')
    refused(UnsafeDocument, rezip(source, tmp_path / "abs.epub", replace={"EPUB/content.opf": absolute.encode()})
            .read_bytes(), "abs.epub")


def test_pdf_without_text_or_with_a_password_is_refused(tmp_path):
    error = refused(NoTextInDocument, make_pdf(None, [[], []], outline=()), "scan.pdf")
    assert "OCR" in error.message
    writer = PdfWriter(clone_from=PdfReader(__import__("io").BytesIO(make_pdf(None, [["Secret text."]]))))
    writer.encrypt(user_password="hunter2", owner_password="owner", algorithm="RC4-128")
    path = tmp_path / "locked.pdf"
    writer.write(path)
    refused(ProtectedDocument, path.read_bytes(), "locked.pdf")
    refused(DocumentError, b"%PDF-1.7\n garbage", "broken.pdf")


def test_note_marks_go_but_powers_and_brackets_of_words_stay():
    from kokoro_speech.text.documents.clean import clean

    assert clean("She waited.³ Then³ more† and [12] less, [^3] over 5 km² where x² grows [sic].") == (
        "She waited. Then more and less, over 5 km² where x² grows [sic].")


def test_mangled_books_are_refused_with_a_4xx_never_a_crash(tmp_path):
    """Random damage to a good EPUB (its bytes, or one member inside a valid zip), PDF, Markdown and SRT: each
    is read or refused with a DocumentError, never another exception (a 500 at the API)."""
    import io
    import random

    rng = random.Random(27)
    epub_bytes = make_epub(tmp_path / "b.epub").read_bytes()
    samples = {"a.epub": epub_bytes, "a.pdf": make_pdf(None, [["Hello there."], ["Page two."]],
                                                          outline=[("One", 0), ("Two", 1)]),
               "a.md": b"# T\n\n## One\n\nText *here*.\n\n## Two\n\nMore.",
               "a.srt": b"1\n00:00:01,000 --> 00:00:02,000\nHi.\n\n2\n00:00:03,000 --> 00:00:04,000\nYo.\n"}

    def mangle(data: bytes) -> bytes:
        data = bytearray(data)
        for _ in range(rng.randint(1, 12)):
            at = rng.randrange(len(data))
            choice = rng.random()
            if choice < 0.5:
                data[at] = rng.randrange(256)
            elif choice < 0.75:
                del data[at:at + rng.randint(1, 40)]
            else:
                data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        return bytes(data) or b"x"

    def mangle_member() -> bytes:
        with zipfile.ZipFile(io.BytesIO(epub_bytes)) as source:
            target = rng.choice(source.namelist())
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w") as damaged:
                for name in source.namelist():
                    data = source.read(name)
                    damaged.writestr(name, mangle(data) if name == target else data)
        return out.getvalue()

    for _ in range(150):
        name = rng.choice([*samples, "member"])
        data = mangle_member() if name == "member" else mangle(samples[name])
        try:
            read_document(data, "a.epub" if name == "member" else name)
        except DocumentError as refusal:
            assert 400 <= refusal.status < 500

"""EPUB 2 and 3 → a Document: reading order from the spine, chapters and titles from the navigation (EPUB 3's
nav document, else EPUB 2's NCX), metadata and cover from the package file, through ebooklib.

The archive is checked first (guard.py) and read from memory: nothing is extracted, and no name inside the
book is opened on disk. DRM-protected books are refused; font obfuscation (not DRM) is allowed.
"""

from __future__ import annotations

import io
import logging
import posixpath
import warnings
import zipfile
import zlib
from urllib.parse import unquote, urldefrag

import ebooklib
import lxml.etree
from ebooklib import epub

from kokoro_speech.errors import DocumentError, ProtectedDocument, UnsafeDocument
from kokoro_speech.text.documents.clean import titled
from kokoro_speech.text.documents.document import Chapter, Document, Limits
from kokoro_speech.text.documents.guard import check_xml_members, inside, open_zip, parse_xml, read_member
from kokoro_speech.text.documents.xhtml import Page, read_page

log = logging.getLogger(__name__)

CONTAINER = "META-INF/container.xml"
ENCRYPTION = "META-INF/encryption.xml"
# files that only DRM schemes write: Adobe ADEPT's rights, Apple FairPlay's sinf
DRM_FILES = ("META-INF/rights.xml", "META-INF/sinf.xml")
# encryption.xml may only obfuscate fonts (IDPF's and Adobe's schemes); anything else hides the text
FONT_OBFUSCATION = frozenset({"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"})
XMLENC = "{http://www.w3.org/2001/04/xmlenc#}"
OPF = "{http://www.idpf.org/2007/opf}"
CONTAINER_NS = "{urn:oasis:names:tc:opendocument:xmlns:container}"
REMOTE = ("http:", "https:", "data:", "mailto:")
IMAGE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


def _check_drm(archive, names: set[str]) -> None:
    for name in DRM_FILES:
        if name in names:
            raise ProtectedDocument(f"this EPUB is protected by DRM ({name}); only DRM-free books can be read")
    if ENCRYPTION in names:
        tree = parse_xml(read_member(archive, ENCRYPTION), ENCRYPTION)
        for encrypted in tree.iter(f"{XMLENC}EncryptedData"):
            method = encrypted.find(f"{XMLENC}EncryptionMethod")
            algorithm = method.get("Algorithm") if method is not None else None
            if algorithm not in FONT_OBFUSCATION:
                raise ProtectedDocument("this EPUB's content is encrypted (DRM, META-INF/encryption.xml); only "
                                        "DRM-free books can be read")


def _check_package(archive, names: set[str]) -> None:
    """container.xml names a package inside the book, and every manifest entry stays inside it too."""
    if CONTAINER not in names:
        raise DocumentError(f"this EPUB lacks {CONTAINER}")
    container = parse_xml(read_member(archive, CONTAINER), CONTAINER)
    rootfiles = [r.get("full-path") or "" for r in container.iter(f"{CONTAINER_NS}rootfile")]
    if not rootfiles:
        raise DocumentError(f"{CONTAINER} names no package file")
    for path in rootfiles:
        package_path = inside("", unquote(path))
        if package_path is None:
            raise UnsafeDocument(f"{CONTAINER} names '{path[:80]}', outside the book")
        package = parse_xml(read_member(archive, package_path), package_path)
        base = posixpath.dirname(package_path)
        for item in package.iter(f"{OPF}item"):
            href = item.get("href") or ""
            if href.lower().startswith(REMOTE):
                continue
            if inside(base, unquote(urldefrag(href)[0])) is None:
                raise UnsafeDocument(f"the package names '{href[:80]}', outside the book")


def _toc(entries, out: list[tuple[str | None, str]]) -> list[tuple[str | None, str]]:
    """ebooklib's nested table of contents, flattened in order: (title, href)."""
    for entry in entries:
        if isinstance(entry, tuple) and len(entry) == 2:
            section, children = entry
            if getattr(section, "href", None):
                out.append((section.title, section.href))
            _toc(children, out)
        elif isinstance(entry, (list, tuple)):
            _toc(entry, out)
        elif getattr(entry, "href", None):
            out.append((entry.title, entry.href))
    return out


def _metadata(book: epub.EpubBook, name: str) -> list[str]:
    return [value.strip() for value, _ in book.get_metadata("DC", name) if value and value.strip()]


def _cover(book: epub.EpubBook) -> bytes | None:
    candidates = [item for item in book.get_items() if isinstance(item, epub.EpubCover)]
    for _, attributes in book.get_metadata("OPF", "cover"):
        item = book.get_item_with_id(attributes.get("content", ""))
        if item is not None:
            candidates.append(item)
    for item in candidates:
        content = item.get_content()
        if content and content.startswith(IMAGE_SIGNATURES):
            return content
    return None


def _load(data: bytes) -> epub.EpubBook:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return epub.read_epub(io.BytesIO(data), {"ignore_ncx": True})
    except DocumentError:
        raise
    except (epub.EpubException, KeyError, IndexError, AttributeError, TypeError, ValueError, lxml.etree.Error,
            zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
        raise DocumentError(f"this EPUB cannot be read ({type(exc).__name__}: {exc})") from None


def _chapters(pages: list[tuple[str, Page]], toc: list[tuple[str | None, str]], toc_folder: str = "") -> list[Chapter]:
    index = {name: number for number, (name, _) in enumerate(pages)}
    starts: dict[tuple[int, int], str | None] = {}
    for title, href in toc:
        path, fragment = urldefrag(unquote(href))
        page_number = index.get(posixpath.normpath(path))
        if page_number is None and toc_folder:  # an NCX in a folder of its own: its links are relative to it
            page_number = index.get(posixpath.normpath(posixpath.join(toc_folder, path)))
        if page_number is None:
            continue
        position = (page_number, pages[page_number][1].anchors.get(fragment, 0) if fragment else 0)
        starts.setdefault(position, titled(title))
    if not starts:  # no navigation: each spine document is a chapter, titled by its first heading
        chapters = []
        for _, page in pages:
            heading = next((b.text for b in page.blocks if b.kind == "heading"), None)
            chapters.append(Chapter(heading or page.title, list(page.blocks)))
        return chapters
    chapters: list[Chapter] = []
    current: Chapter | None = None
    for page_number, (_, page) in enumerate(pages):
        for block_number, block in enumerate([*page.blocks, None]):
            if (page_number, block_number) in starts:
                current = Chapter(starts[(page_number, block_number)])
                chapters.append(current)
            if block is None:
                continue
            if current is None:  # before the first entry: an opening without a title
                current = Chapter(None)
                chapters.append(current)
            current.blocks.append(block)
    return chapters


def read(data: bytes, limits: Limits) -> Document:
    archive = open_zip(data, limits)
    names = set(archive.namelist())
    _check_drm(archive, names)
    _check_package(archive, names)
    check_xml_members(archive)
    book = _load(data)
    pages: list[tuple[str, Page]] = []
    for idref, linear in book.spine:
        item = book.get_item_with_id(idref)
        # non-linear items (notes, answers) are out of the reading order; the nav document is read as the TOC
        if item is None or linear == "no" or isinstance(item, (epub.EpubNav, epub.EpubCoverHtml)) \
                or item.get_type() != ebooklib.ITEM_DOCUMENT:
            continue
        pages.append((posixpath.normpath(item.get_name()), read_page(item.get_content())))
    toc = _toc(book.toc, [])
    ncx = next((item for item in book.get_items() if isinstance(item, epub.EpubNcx)), None)
    toc_folder = posixpath.dirname(ncx.get_name()) if ncx is not None else ""
    language = _metadata(book, "language")
    title = titled(book.title) or next(iter(_metadata(book, "title")), None)
    return Document("epub", _chapters(pages, toc, toc_folder), title=title,
                    author=", ".join(_metadata(book, "creator")) or None,
                    language=language[0] if language else None, cover=_cover(book))

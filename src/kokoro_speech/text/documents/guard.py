"""Refusing hostile containers before a reader opens them: zip bombs (sizes and ratios read from the
directory, before any member is inflated), member names that point outside the book, and XML with DTD
entities or external references (defusedxml's stance: no entity expansion, no outside fetches)."""

from __future__ import annotations

import io
import posixpath
import re
import zipfile

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

from kokoro_speech.errors import DocumentError, DocumentTooLarge, UnsafeDocument
from kokoro_speech.text.documents.document import Limits

LARGE_MEMBER = 1 << 20  # ratios are judged on members this large; small files compress as they please
XML_SUFFIXES = (".xml", ".opf", ".ncx", ".xhtml", ".html", ".htm", ".svg", ".smil")
_DRIVE = re.compile(r"^[a-zA-Z]:")


def unsafe_name(name: str) -> bool:
    """Whether a member name could point outside the book: absolute, a drive, `..`, a backslash or a control
    character."""
    return (name.startswith("/") or "\\" in name or bool(_DRIVE.match(name))
            or any(part == ".." for part in name.split("/")) or any(ord(c) < 32 for c in name))


def inside(base: str, href: str) -> str | None:
    """Where `href` (relative to the folder `base`) lands inside the book, or None when it leaves it."""
    joined = posixpath.normpath(posixpath.join(base, href)) if base else posixpath.normpath(href)
    if joined.startswith("../") or joined == ".." or joined.startswith("/") or unsafe_name(joined):
        return None
    return joined


def open_zip(data: bytes, limits: Limits, what: str = "EPUB") -> zipfile.ZipFile:
    """The archive, once its directory shows it small, honest and self-contained."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise DocumentError(f"this {what} is not a readable zip file ({exc})") from None
    if len(members) > limits.max_members:
        raise UnsafeDocument(f"this {what} holds {len(members):,} files; the limit is {limits.max_members:,}")
    unpacked = sum(m.file_size for m in members)
    if unpacked > limits.max_unpacked_bytes:
        raise DocumentTooLarge(f"this {what} unpacks to {unpacked:,} bytes; the limit is "
                               f"{limits.max_unpacked_bytes:,}")
    names = set()
    for member in members:
        if unsafe_name(member.filename):
            raise UnsafeDocument(f"this {what} holds a file named '{member.filename[:80]}', which points outside "
                                 "the book")
        if member.filename in names:
            raise UnsafeDocument(f"this {what} holds two files named '{member.filename[:80]}'")
        names.add(member.filename)
        if member.file_size > LARGE_MEMBER and member.file_size > limits.max_ratio * max(1, member.compress_size):
            raise UnsafeDocument(f"'{member.filename[:80]}' in this {what} inflates {member.file_size:,} bytes "
                                 f"from {member.compress_size:,} (a zip bomb); the most allowed is "
                                 f"{limits.max_ratio:g} times")
    return archive


def read_member(archive: zipfile.ZipFile, name: str, what: str = "EPUB") -> bytes:
    """A member's bytes (the zip module stops at its declared size and checks its CRC)."""
    try:
        return archive.read(name)
    except KeyError:
        raise DocumentError(f"this {what} lacks '{name[:80]}', which it names") from None
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise DocumentError(f"'{name[:80]}' in this {what} cannot be read ({exc})") from None


def parse_xml(data: bytes, name: str, *, strict: bool = True):
    """An XML member's tree through defusedxml; entity declarations and external references are refused.
    Returns None when the XML is malformed and `strict` is off (an HTML parser reads such pages later)."""
    try:
        return safe_xml.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsafeDocument(f"'{name[:80]}' declares XML entities or external references ({type(exc).__name__}); "
                             "they are refused") from None
    except safe_xml.ParseError as exc:
        if strict:
            raise DocumentError(f"'{name[:80]}' is not well-formed XML ({exc})") from None
        return None


def check_xml_members(archive: zipfile.ZipFile, what: str = "EPUB") -> None:
    """Every XML-like member parsed once with defusedxml, so no entity trick reaches the readers' parsers."""
    for member in archive.infolist():
        if member.filename.lower().endswith(XML_SUFFIXES):
            data = read_member(archive, member.filename, what)
            if re.search(rb"<!ENTITY", data, re.IGNORECASE):  # even where the page is too broken to parse
                raise UnsafeDocument(f"'{member.filename[:80]}' declares XML entities; they are refused")
            strict = not member.filename.lower().endswith((".xhtml", ".html", ".htm", ".svg"))
            parse_xml(data, member.filename, strict=strict)

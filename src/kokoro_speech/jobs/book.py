"""A book from file to finished audiobook, for the `book` command (and the jobs that build on it): every
check before any synthesis (`prepare`), then the reading and the outputs (`produce`)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from kokoro_speech.audio.book import BOOK_FORMATS, BookTags
from kokoro_speech.errors import DocumentTooLarge, InvalidParameter
from kokoro_speech.jobs.audiobook import (
    ENCODED_ALONG, Audiobook, Progress, RunningEncode, manifest, write_audio, write_chapter_files,
    write_manifest, write_subtitles,
)
from kokoro_speech.jobs.narrate import Narration, PlannedChapter, choose_voice, parse_chapters, plan
from kokoro_speech.jobs.speakers import Speaker
from kokoro_speech.jobs.work import PieceStore, work_folder, work_key
from kokoro_speech.text.documents import Document, Limits, read_document
from kokoro_speech.text.ssml import MAX_RATE, MIN_RATE

log = logging.getLogger(__name__)

OUTPUT_SUFFIXES = {".m4b": "m4b", ".m4a": "m4a", ".mp3": "mp3", ".opus": "opus", ".ogg": "opus", ".flac": "flac",
                   ".wav": "wav"}


@dataclass(frozen=True)
class BookOptions:
    voice: str | None = None  # default: the book's language's voice
    speed: float = 1.0
    lang_code: str | None = None
    chapters: str | None = None  # "1-3,7"
    narration: Narration = field(default_factory=Narration)
    subtitles: Path | None = None  # .vtt or .srt
    manifest: Path | None = None  # .json
    split_chapters: bool = False  # one file per chapter, in a folder named as the output without its suffix
    limits: Limits = field(default_factory=Limits)

    def shaping(self, voice: str, language: str | None) -> dict:
        """What changes the audio of a piece (the work folder's key): not the output's format or files."""
        return {"voice": voice, "language": language, "speed": self.speed, "chapters": self.chapters,
                "narration": self.narration.__dict__, "words": self.subtitles is not None}


@dataclass
class PreparedBook:
    document: Document
    chapters: list[PlannedChapter]
    voice: str
    language: str | None  # the reading language's letter, None for the voice's own
    output: Path
    format: str
    folder: Path
    options: BookOptions


def output_format(output: Path) -> str:
    fmt = OUTPUT_SUFFIXES.get(output.suffix.lower())
    if fmt is None:
        raise InvalidParameter(f"'{output.name}': the output must end in one of {', '.join(OUTPUT_SUFFIXES)}",
                               param="output")
    return fmt


def prepare(source: Path, output: Path, options: BookOptions) -> PreparedBook:
    """Read and plan the book; every refusal (type, size, safety, DRM, no text, bad options) happens here,
    before anything is synthesized."""
    fmt = output_format(output)
    if not MIN_RATE <= options.speed <= MAX_RATE:
        raise InvalidParameter(f"speed must be between {MIN_RATE:g} and {MAX_RATE:g}", param="speed")
    if options.subtitles is not None and options.subtitles.suffix.lower() not in (".vtt", ".srt"):
        raise InvalidParameter(f"'{options.subtitles.name}': subtitles end in .vtt (WebVTT) or .srt (SubRip)",
                               param="subtitles")
    try:
        size = source.stat().st_size
    except OSError as exc:
        raise InvalidParameter(f"'{source}' cannot be read ({exc.strerror})", param="file") from None
    if size > options.limits.max_bytes:
        raise DocumentTooLarge(f"'{source.name}' is {size:,} bytes; the limit is {options.limits.max_bytes:,}")
    data = source.read_bytes()
    document = read_document(data, source.name, limits=options.limits)
    chosen = parse_chapters(options.chapters, len(document.chapters)) if options.chapters else None
    voice, language = choose_voice(document, options.voice, options.lang_code)
    chapters = plan(document, options.narration, chosen)
    key = work_key(data, options.shaping(voice, language))
    return PreparedBook(document, chapters, voice, language, output, fmt, work_folder(output, key), options)


async def produce(book: PreparedBook, speaker: Speaker, *, parallel: int = 1,
                  on_progress: Callable[[Progress], None] | None = None, keep_work: bool = False) -> dict:
    """Read what is not yet read, then write the outputs; returns the manifest. Killed at any moment, the
    next call with the same book continues from the finished pieces."""
    store = PieceStore(book.folder)
    reading = Audiobook(book.document, book.chapters, store, speed=book.options.speed)
    along = None
    if book.format in ENCODED_ALONG and not book.options.split_chapters:  # one M4B: encoded along the reading
        along = RunningEncode(reading, book.format, book.folder / f".along.{os.getpid()}.{ENCODED_ALONG[book.format]}")
        along.start()

    def progress(made: Progress) -> None:
        if along is not None:
            along.saved()
        if on_progress is not None:
            on_progress(made)

    try:
        await reading.read(speaker, parallel=parallel, on_progress=progress)
        layout = reading.layout()
        document = book.document
        tags = BookTags(title=document.title or book.output.stem, author=document.author,
                        language=document.language, cover=document.cover)
        if book.options.split_chapters:
            files = write_chapter_files(reading, layout, book.output.with_suffix(""), book.format, tags)
        else:
            write_audio(reading, layout, book.output, book.format, tags, along=along)
            files = [book.output]
    finally:
        if along is not None:
            along.abort()  # after the book is written, only the follower is left to stop
    content = manifest(reading, layout, voice=book.voice, speed=book.options.speed, format=book.format,
                       files=[str(f.name if not book.options.split_chapters else f"{f.parent.name}/{f.name}")
                              for f in files])
    if book.options.subtitles is not None:
        write_subtitles(reading, layout, book.options.subtitles, book.options.subtitles.suffix.lower().lstrip("."))
    if book.options.manifest is not None:
        write_manifest(book.options.manifest, content)
    if not keep_work:
        store.remove()
    return content


__all__ = ["BOOK_FORMATS", "BookOptions", "PreparedBook", "prepare", "produce", "output_format"]

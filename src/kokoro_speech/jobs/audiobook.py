"""A planned book read piece by piece (any number at once) into its work folder, then put together: the
audiobook with its chapters, one file per chapter, subtitles of the whole book and a JSON manifest, each
appearing only when complete (written beside, then renamed).

Subtitle documents place each cue at its start time, read faster (up to the model's 4×) when it would
otherwise run into the next cue.
"""

from __future__ import annotations

import asyncio
import glob
import json
import logging
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from kokoro_speech.audio.book import BOOK_FORMATS, BookFormat, BookTags, BookWriter, ChapterMark, remux
from kokoro_speech.audio.subtitles import SubtitleFormat, subtitles
from kokoro_speech.kokoro import SAMPLE_RATE
from kokoro_speech.jobs.narrate import Piece, PlannedChapter
from kokoro_speech.jobs.speakers import Speaker, Word
from kokoro_speech.jobs.work import PieceStore, atomic_write
from kokoro_speech.text.documents import Document
from kokoro_speech.text.ssml import MAX_RATE

log = logging.getLogger(__name__)

# a cue read faster is aimed a little under its slot, and tried again if still too long: the audio shortens
# less than the speed grows (pauses and short words shrink less), so each try learns how much it did
FIT_MARGIN = 1.05
FIT_TRIES = 4


@dataclass
class Progress:
    chapters: int
    characters: int
    chapters_done: int = 0
    characters_done: int = 0
    audio_seconds: float = 0.0
    pieces_resumed: int = 0
    pieces_read: int = 0


@dataclass
class Layout:
    """Where every piece and chapter falls in the book's audio, in samples."""

    pieces: list[tuple[Piece, int, int, int]] = field(default_factory=list)  # piece, silence before, start, end
    chapters: list[ChapterMark] = field(default_factory=list)
    characters: list[int] = field(default_factory=list)

    @property
    def samples(self) -> int:
        return self.chapters[-1].end if self.chapters else 0


class Audiobook:
    """One book's plan, its store of finished pieces and who reads them."""

    def __init__(self, document: Document, chapters: list[PlannedChapter], store: PieceStore, *, speed: float,
                 fit_cues: bool = True) -> None:
        self.document, self.chapters, self.store, self.speed, self.fit_cues = document, chapters, store, speed, fit_cues
        self.progress = Progress(len(chapters), sum(c.characters for c in chapters))
        self._done: set[int] = set()  # numbers of the pieces in the store

    @property
    def pieces(self) -> list[Piece]:
        return [p for c in self.chapters for p in c.pieces]

    def _count_done(self) -> None:
        self.progress.chapters_done = sum(all(p.number in self._done for p in c.pieces) for c in self.chapters)

    async def _read(self, speaker: Speaker, piece: Piece) -> None:
        spoken = await speaker.speak(piece.text, self.speed)
        speed = self.speed
        tries, exponent, before = 0, 1.0, None
        while (self.fit_cues and piece.slot is not None and spoken.seconds > piece.slot and speed < MAX_RATE
               and tries < FIT_TRIES):
            if before is not None and before[1] > spoken.seconds:  # how the length really answered the speed
                exponent = min(1.5, max(0.3, np.log(before[1] / spoken.seconds) / np.log(speed / before[0])))
            before = (speed, spoken.seconds)
            speed = min(MAX_RATE, speed * (spoken.seconds * FIT_MARGIN / piece.slot) ** (1 / exponent))
            spoken = await speaker.speak(piece.text, speed)
            tries += 1
        words = [{"word": w.word, "start_time": w.start_time, "end_time": w.end_time} for w in spoken.words]
        self.store.save(piece, spoken.samples, words, speed)
        self._done.add(piece.number)
        self.progress.pieces_read += 1
        self.progress.characters_done += piece.characters
        self.progress.audio_seconds += spoken.seconds + piece.pause_after

    @property
    def complete(self) -> bool:
        return all(p.number in self._done for p in self.pieces)

    async def read(self, speaker: Speaker, *, parallel: int = 1,
                   on_progress: Callable[[Progress], None] | None = None,
                   stop: asyncio.Event | None = None) -> Progress:
        """Every piece not yet in the store, `parallel` at a time, in reading order; the first failure stops
        the rest (what is finished stays finished). Once `stop` is set no piece is begun, and those in flight
        are finished (`complete` then says whether the reading is)."""
        waiting = []
        for piece in self.pieces:
            if self.store.done(piece):
                info = self.store.info(piece)
                self._done.add(piece.number)
                self.progress.pieces_resumed += 1
                self.progress.characters_done += piece.characters
                self.progress.audio_seconds += info["samples"] / SAMPLE_RATE + piece.pause_after
            else:
                waiting.append(piece)
        self._count_done()
        if on_progress:
            on_progress(self.progress)
        queue: asyncio.Queue[Piece] = asyncio.Queue()
        for piece in waiting:
            queue.put_nowait(piece)

        async def worker() -> None:
            while not queue.empty() and not (stop is not None and stop.is_set()):
                piece = queue.get_nowait()
                await self._read(speaker, piece)
                self._count_done()
                if on_progress:
                    on_progress(self.progress)

        workers = [asyncio.ensure_future(worker()) for _ in range(max(1, min(parallel, len(waiting) or 1)))]
        try:
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        return self.progress

    def place(self, piece: Piece, cursor: int) -> tuple[int, int, int, int]:
        """A saved piece placed at `cursor` (where the audio before it ends): the silence before it, its start,
        its end and where the next piece may begin (after its pause), in samples."""
        silence = 0
        if piece.start is not None:  # a cue at its start time, or as soon after as the cue before it ends
            silence = max(0, round(piece.start * SAMPLE_RATE) - cursor)
        start = cursor + silence
        end = start + self.store.info(piece)["samples"]
        return silence, start, end, end + round(piece.pause_after * SAMPLE_RATE)

    def layout(self) -> Layout:
        """Chapters and pieces placed end to end."""
        layout = Layout()
        cursor = 0
        for chapter in self.chapters:
            chapter_start = cursor
            for piece in chapter.pieces:
                silence, start, end, cursor = self.place(piece, cursor)
                layout.pieces.append((piece, silence, start, end))
            layout.chapters.append(ChapterMark(chapter.label, chapter_start, cursor))
            layout.characters.append(chapter.characters)
        return layout

    def audio(self, layout: Layout, chapter: int | None = None) -> Iterator[np.ndarray]:
        """The book's samples in order (one chapter's alone when `chapter` is given), a piece at a time."""
        for piece, silence, _, _ in layout.pieces:
            if chapter is None or piece.chapter == chapter:
                yield from self.piece_audio(piece, silence)

    def piece_audio(self, piece: Piece, silence: int) -> Iterator[np.ndarray]:
        """A saved piece's samples, with `silence` samples before it and its pause after."""
        if silence:
            yield np.zeros(silence, np.float32)
        yield self.store.audio(piece)
        if piece.pause_after:
            yield np.zeros(round(piece.pause_after * SAMPLE_RATE), np.float32)

    def words(self, layout: Layout) -> list[Word]:
        """Every word of the book, timed from its start."""
        found = []
        for piece, _, start, _ in layout.pieces:
            offset = start / SAMPLE_RATE
            for w in self.store.info(piece)["words"]:
                found.append(Word(w["word"], w["start_time"] + offset, w["end_time"] + offset))
        return found


def _partial(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.partial")


def write_audio(book: Audiobook, layout: Layout, path: Path, fmt_name: str, tags: BookTags,
                chapter: int | None = None, *, along: RunningEncode | None = None) -> None:
    """The whole book (or one chapter) at `path`, appearing only once complete: from what `along` encoded
    while the book was read, when it holds every piece, else encoded now."""
    fmt = BOOK_FORMATS[fmt_name]
    if chapter is None:
        marks = layout.chapters
    else:
        mark = layout.chapters[chapter]
        marks = [ChapterMark(mark.title, 0, mark.end - mark.start)]
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.partial"):  # left by a run killed while writing
        stale.unlink(missing_ok=True)
    temporary = _partial(path)
    try:
        if along is None or not along.finish(temporary, fmt, marks, tags):
            writer = BookWriter(temporary, fmt, marks, tags)
            try:
                for samples in book.audio(layout, chapter):
                    writer.write(samples)
                writer.close()
            except BaseException:
                writer.abort()
                raise
        with open(temporary, "rb") as f:
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


# the formats encoded while their book is read (the AAC ones: an MP4's packets copy exactly, priming included)
ENCODED_ALONG = {"m4b": "m4a", "m4a": "m4a"}


class RunningEncode:
    """A book's audio encoded while it is read, so that the audiobook is ready as soon as its last piece is:
    each piece once every piece before it is saved (whoever read it), into a file of the output's codec without
    chapters; then `finish` copies its packets into the audiobook with the chapters, tags and cover, which only
    the whole book gives (write_audio's `along`). `start` it on the event loop and call `saved` there after
    each piece: the encoding runs on a thread. A run stopped or killed meanwhile leaves a file that the work
    folder's removal takes, and the book is then encoded whole."""

    def __init__(self, book: Audiobook, fmt_name: str, path: Path) -> None:
        self.book, self.path = book, path
        self._pieces = book.pieces
        self._next, self._cursor = 0, 0  # the first piece not yet encoded, and where it will go
        self._lock = threading.Lock()  # one encoding step at a time: the follower's, or `finish`/`abort`'s
        self._writer: BookWriter | None = BookWriter(path, BOOK_FORMATS[ENCODED_ALONG[fmt_name]], [], BookTags())
        self._saved = asyncio.Event()
        self._follower: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def complete(self) -> bool:
        return self._next == len(self._pieces)

    def start(self) -> None:
        """Encode along from now, beginning with the pieces already saved (a resumed book, another replica's)."""
        self._loop = asyncio.get_running_loop()
        self._saved.set()
        self._follower = asyncio.ensure_future(self._follow())

    def saved(self) -> None:
        """A piece was saved (on the event loop)."""
        self._saved.set()

    async def _follow(self) -> None:
        while not self.complete:
            await self._saved.wait()
            self._saved.clear()
            await asyncio.to_thread(self.advance)  # a piece takes a tenth of a second or so

    def advance(self) -> None:
        """Every saved piece that follows the encoded ones, in order, encoded."""
        with self._lock:
            while self._writer is not None and not self.complete:
                piece = self._pieces[self._next]
                if not self.book.store.done(piece):
                    return
                silence, _, _, self._cursor = self.book.place(piece, self._cursor)
                for samples in self.book.piece_audio(piece, silence):
                    self._writer.write(samples)
                self._next += 1

    def finish(self, path: Path, fmt: BookFormat, chapters: list[ChapterMark], tags: BookTags) -> bool:
        """What follows the last encoded piece encoded, and the whole at `path` as `fmt` (the codec's own
        container) with `chapters`, `tags` and cover, when every piece is saved; False, and nothing written,
        otherwise."""
        self.advance()
        with self._lock:
            if self._writer is None or not self.complete:
                return False
            self._writer.close()
            self._writer = None
            try:
                remux(self.path, path, fmt, chapters, tags)
            finally:
                self.path.unlink(missing_ok=True)
            return True

    def abort(self) -> None:
        """Stopped, and its file removed; from any thread, once an encoding step in flight is done."""
        if self._follower is not None and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._follower.cancel)
        with self._lock:
            if self._writer is not None:
                self._writer.abort()
                self._writer = None
            self.path.unlink(missing_ok=True)


def _file_name(number: int, title: str, suffix: str) -> str:
    safe = re.sub(r"[^\w ,.'()&-]+", "", title).strip(" .")[:80] or "Chapter"
    return f"{number:02d} {safe}.{suffix}"


def write_chapter_files(book: Audiobook, layout: Layout, folder: Path, fmt_name: str, tags: BookTags) -> list[Path]:
    """One file per chapter in `folder` (made beside, then renamed into place whole)."""
    temporary = folder.with_name(f".{folder.name}.{os.getpid()}.partial")
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    names = []
    for index, mark in enumerate(layout.chapters):
        name = _file_name(index + 1, mark.title, fmt_name)
        chapter_tags = BookTags(title=mark.title, author=tags.author, language=tags.language,
                                track=f"{index + 1}/{len(layout.chapters)}", cover=tags.cover)
        write_audio(book, layout, temporary / name, fmt_name, chapter_tags, chapter=index)
        names.append(name)
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(temporary, folder)
    return [folder / name for name in names]


def write_subtitles(book: Audiobook, layout: Layout, path: Path, fmt: SubtitleFormat) -> None:
    atomic_write(path, subtitles(book.words(layout), fmt).encode("utf-8"))


def manifest(book: Audiobook, layout: Layout, **extra) -> dict:
    """The book's chapters with their start, end (seconds), title and characters, and what it was read with."""
    document = book.document
    return {
        "title": document.title, "author": document.author, "language": document.language, **extra,
        "duration": round(layout.samples / SAMPLE_RATE, 3),
        "chapters": [{"number": planned.number, "title": mark.title, "start": round(mark.start / SAMPLE_RATE, 3),
                      "end": round(mark.end / SAMPLE_RATE, 3), "characters": characters}
                     for planned, mark, characters in zip(book.chapters, layout.chapters, layout.characters,
                                                          strict=True)],
    }


def write_manifest(path: Path, content: dict) -> None:
    atomic_write(path, (json.dumps(content, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))

"""Audiobook files through PyAV (FFmpeg's muxers): M4B (AAC in MP4) with titled chapters, the book's title,
author and cover; MP3 (ID3v2 chapter frames and picture), Opus in Ogg (chapters as Vorbis comments), FLAC
and WAV (no chapters). No container bytes are written here; FFmpeg writes them all.

Chapters and metadata are given up front because MP3 and Ogg write them in the header, before any audio; so a
book encoded while it is read (jobs/audiobook.py) goes first to a file of its codec without them, and `remux`
copies its packets into the audiobook once they are known, encoding nothing again.
"""

from __future__ import annotations

import fractions
import io
import logging
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from kokoro_speech.audio.encode import to_s16
from kokoro_speech.kokoro import SAMPLE_RATE

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BookFormat:
    name: str
    container: str
    codec: str
    bit_rate: int | None
    chapters: bool  # whether the container carries chapter marks
    cover: bool  # whether it carries a cover picture
    options: tuple[tuple[str, str], ...] = ()
    stream_metadata: bool = False  # Ogg keeps its tags on the stream
    # Ogg's chapters are Vorbis comments (CHAPTER001=00:01:02.500, CHAPTER001NAME=…); FFmpeg's own writer of
    # them rounds the seconds to the nearest (1.5 s is written 00:00:02.500), so they go in as the tags they are
    chapter_comments: bool = False


# spoken word needs less than music: 64 kb/s AAC or MP3 and 32 kb/s Opus are common audiobook rates for mono
BOOK_FORMATS: dict[str, BookFormat] = {
    "m4b": BookFormat("m4b", "mp4", "aac", 64_000, True, True, (("brand", "M4B "), ("movflags", "+faststart"))),
    "m4a": BookFormat("m4a", "mp4", "aac", 64_000, True, True, (("brand", "M4A "), ("movflags", "+faststart"))),
    "mp3": BookFormat("mp3", "mp3", "libmp3lame", 64_000, True, True),
    "opus": BookFormat("opus", "ogg", "libopus", 32_000, True, False, stream_metadata=True, chapter_comments=True),
    "flac": BookFormat("flac", "flac", "flac", None, False, True),  # FFmpeg writes no chapters in FLAC
    "wav": BookFormat("wav", "wav", "pcm_s16le", None, False, False),
}


@dataclass(frozen=True)
class ChapterMark:
    """A chapter's place in the audio, in samples at 24 kHz: [start, end)."""

    title: str
    start: int
    end: int


@dataclass(frozen=True)
class BookTags:
    title: str | None = None
    author: str | None = None
    language: str | None = None  # BCP 47
    track: str | None = None  # "3/12", for one file per chapter
    cover: bytes | None = None  # JPEG or PNG

    def metadata(self) -> dict[str, str]:
        tags = {"title": self.title, "album": self.title, "artist": self.author, "album_artist": self.author,
                "genre": "Audiobook", "language": self.language, "track": self.track}
        return {key: value for key, value in tags.items() if value}


def _picture_size(data: bytes) -> tuple[str, int, int] | None:
    """(codec, width, height) of a JPEG or PNG cover, read by FFmpeg's decoders; None when it is not one."""
    codec = "mjpeg" if data.startswith(b"\xff\xd8") else "png" if data.startswith(b"\x89PNG") else None
    if codec is None:
        return None
    try:
        with av.open(io.BytesIO(data)) as picture:
            frame = next(picture.decode(video=0))
            return codec, frame.width, frame.height
    except (av.error.FFmpegError, StopIteration, ValueError):
        return None


def _clock(samples: int) -> str:
    millis = round(samples * 1000 / SAMPLE_RATE)
    return f"{millis // 3_600_000:02d}:{millis // 60_000 % 60:02d}:{millis // 1000 % 60:02d}.{millis % 1000:03d}"


def _chapter_comments(chapters: list[ChapterMark]) -> dict[str, str]:
    """The Vorbis comment chapter tags (the Ogg chapter extension that players and FFmpeg read)."""
    tags = {}
    for number, mark in enumerate(chapters, 1):
        tags[f"CHAPTER{number:03d}"] = _clock(mark.start)
        tags[f"CHAPTER{number:03d}NAME"] = mark.title
    return tags


class BookWriter:
    """Write a book's audio (float32 at 24 kHz, in any chunks) to `path` with its chapters and tags; or, given
    the `template` stream of an encoded book, copy that stream's packets (`copy`)."""

    def __init__(self, path: Path, fmt: BookFormat, chapters: list[ChapterMark], tags: BookTags, *,
                 template: av.audio.stream.AudioStream | None = None) -> None:
        self.format = fmt
        self._encodes = template is None
        self._container = av.open(str(path), mode="w", format=fmt.container, options=dict(fmt.options))
        if template is not None:
            self._stream = self._container.add_stream_from_template(template)
        else:
            self._stream = self._container.add_stream(fmt.codec, rate=SAMPLE_RATE, layout="mono")
            if fmt.bit_rate:
                self._stream.bit_rate = fmt.bit_rate
        metadata = tags.metadata()
        self._container.metadata.update(metadata)
        if fmt.stream_metadata:
            self._stream.metadata.update(metadata)
        if fmt.chapter_comments:
            self._stream.metadata.update(_chapter_comments(chapters))
        elif fmt.chapters and chapters:
            self._container.set_chapters([
                {"id": number, "start": mark.start, "end": mark.end, "time_base": fractions.Fraction(1, SAMPLE_RATE),
                 "metadata": {"title": mark.title}}
                for number, mark in enumerate(chapters, 1)])
        self._cover = None
        picture = _picture_size(tags.cover) if fmt.cover and tags.cover else None
        if picture is not None:
            codec, width, height = picture
            self._cover_stream = self._container.add_stream(codec)
            self._cover_stream.width, self._cover_stream.height = width, height
            self._cover_stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "rgb24"
            self._cover_stream.time_base = fractions.Fraction(1, 1)
            self._cover_stream.disposition = av.stream.Disposition.attached_pic
            self._cover = tags.cover
        elif fmt.cover and tags.cover:
            log.warning("the cover is not a JPEG or PNG picture FFmpeg can read; the book is written without it")
        self._pts = 0

    def write(self, samples: np.ndarray) -> None:
        pcm = to_s16(samples) if samples.dtype != np.int16 else samples
        if pcm.size == 0:
            return
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._pts
        self._pts += pcm.size
        for packet in self._stream.encode(frame):
            self._mux(packet)

    def copy(self, packet: av.Packet) -> None:
        """One packet of the template's stream, as it is."""
        if packet.dts is not None:  # the demuxer's empty packet at the end carries nothing
            packet.stream = self._stream
            self._mux(packet)

    def _mux(self, packet: av.Packet) -> None:
        self._container.mux(packet)
        if self._cover is not None:  # the picture goes in once the muxer has its header
            picture = av.Packet(self._cover)
            picture.stream = self._cover_stream
            picture.pts = picture.dts = 0
            picture.is_keyframe = True
            self._container.mux(picture)
            self._cover = None

    def close(self) -> None:
        if self._encodes:
            for packet in self._stream.encode(None):
                self._mux(packet)
        self._container.close()

    def abort(self) -> None:
        try:
            self._container.close()
        except (av.error.FFmpegError, ValueError):
            pass


def remux(source: Path, path: Path, fmt: BookFormat, chapters: list[ChapterMark], tags: BookTags) -> None:
    """The audio of `source` (a file `BookWriter` wrote in `fmt`'s codec, without chapters) at `path` with its
    chapters, tags and cover: the same packets, so the same samples, encoded once."""
    with av.open(str(source)) as encoded:
        stream = encoded.streams.audio[0]
        writer = BookWriter(path, fmt, chapters, tags, template=stream)
        try:
            for packet in encoded.demux(stream):
                writer.copy(packet)
            writer.close()
        except BaseException:
            writer.abort()
            raise

"""SRT and WebVTT → a timed Document: one block per cue, said at the cue's start, through pysubs2 (which
parses both and drops their styling tags)."""

from __future__ import annotations

import re

import pysubs2

from kokoro_speech.errors import DocumentError
from kokoro_speech.text.documents.clean import clean
from kokoro_speech.text.documents.document import Block, Chapter, Document, Limits
from kokoro_speech.text.documents.plain import decode

SPEAKER_TAG = re.compile(r"<v(?:\.[^ >]*)?\s[^>]*>|</v>|\{\\[^}]*\}")  # WebVTT voice spans, leftover ASS tags


def _read(data: bytes, fmt: str) -> Document:
    text = decode(data)
    try:
        subtitles = pysubs2.SSAFile.from_string(text, format_=fmt)
    except (pysubs2.exceptions.Pysubs2Error, ValueError, IndexError) as exc:
        raise DocumentError(f"these {fmt.upper()} subtitles cannot be read ({exc})") from None
    blocks = []
    for event in sorted((e for e in subtitles if not e.is_comment), key=lambda e: e.start):
        spoken = clean(SPEAKER_TAG.sub("", event.plaintext))
        if spoken:
            blocks.append(Block(spoken, start=event.start / 1000, end=event.end / 1000))
    return Document(fmt, [Chapter(None, blocks)], timed=True)


def read_srt(data: bytes, limits: Limits) -> Document:
    return _read(data, "srt")


def read_vtt(data: bytes, limits: Limits) -> Document:
    return _read(data, "vtt")

"""Subtitles from word timestamps: WebVTT and SubRip (SRT) cues of a few words each.

Both formats are a few lines of text per cue, so they are written here rather than through a library: the ones
on PyPI (webvtt-py, srt, pysubs2) parse and convert files, and would add a dependency for two format strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal, Protocol

SubtitleFormat = Literal["vtt", "srt"]
MAX_CUE_CHARACTERS = 42  # a common caption line length (BBC, Netflix guidelines)
MAX_CUE_SECONDS = 5.0
PAUSE_SECONDS = 0.25  # a silence this long ends a cue: the server pauses 0.3 s after a sentence
_BREAK_AFTER = (".", "!", "?", "。", "！", "？")


class Timed(Protocol):
    word: str
    start_time: float
    end_time: float
    voice: str | None  # who says it, when several voices speak


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str
    voice: str | None = None


def cues(words: Iterable[Timed]) -> list[Cue]:
    """Words grouped into cues: a cue ends at a pause, after a sentence mark or where the speaker changes, or
    before it would pass MAX_CUE_CHARACTERS or MAX_CUE_SECONDS."""
    out: list[Cue] = []
    group: list[Timed] = []

    def flush() -> None:
        if group:
            out.append(Cue(group[0].start_time, group[-1].end_time, " ".join(w.word for w in group),
                           getattr(group[0], "voice", None)))
            group.clear()

    for word in words:
        if group and (getattr(word, "voice", None) != getattr(group[-1], "voice", None)
                      or len(" ".join(w.word for w in group)) + 1 + len(word.word) > MAX_CUE_CHARACTERS
                      or word.end_time - group[0].start_time > MAX_CUE_SECONDS
                      or word.start_time - group[-1].end_time >= PAUSE_SECONDS):
            flush()
        group.append(word)
        if word.word.endswith(_BREAK_AFTER):
            flush()
    flush()
    return out


def _clock(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _text(text: str) -> str:
    # a cue's text ends at a blank line, and "-->" would read as a timing line
    return " ".join(text.split()).replace("-->", "->")


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webvtt(words: Iterable[Timed]) -> str:
    """A WebVTT file (text/vtt); with several speakers each cue names its own in a voice span, `<v NAME>`."""
    lines = ["WEBVTT", ""]
    for cue in cues(words):
        text = _escaped(_text(cue.text))
        if cue.voice:  # a voice span's annotation ends at ">"
            text = f"<v {_escaped(_text(cue.voice))}>{text}"
        lines += [f"{_clock(cue.start, '.')} --> {_clock(cue.end, '.')}", text, ""]
    return "\n".join(lines)


def srt(words: Iterable[Timed]) -> str:
    """A SubRip file (application/x-subrip); with several speakers each cue starts `NAME: `."""
    lines = []
    for number, cue in enumerate(cues(words), 1):
        text = f"{_text(cue.voice)}: {_text(cue.text)}" if cue.voice else _text(cue.text)
        lines += [str(number), f"{_clock(cue.start, ',')} --> {_clock(cue.end, ',')}", text, ""]
    return "\n".join(lines)


def subtitles(words: Iterable[Timed], fmt: SubtitleFormat) -> str:
    return webvtt(words) if fmt == "vtt" else srt(words)


CONTENT_TYPES = {"vtt": "text/vtt; charset=utf-8", "srt": "application/x-subrip; charset=utf-8"}

"""Books read by the real model: an EPUB becomes an M4B whose chapters start where their titles are said,
a server reads the same pieces over HTTP, subtitle cues are said at their times, and a run killed at any
moment continues without redoing a finished piece (the output appearing only when complete)."""

from __future__ import annotations

import asyncio
import json
import signal
import time

import numpy as np
import pytest

from books import CHAPTERS, make_epub
from support import READS_PROC, audiobook, book_command, chapters, decode, proc_status, word_error_rate
from kokoro_speech.jobs.book import BookOptions, prepare, produce
from kokoro_speech.jobs.speakers import EngineSpeaker, ServerSpeaker


def decoded(path) -> np.ndarray:
    return decode(path.read_bytes(), path.suffix[1:]).samples


def cues(vtt: str) -> list[tuple[float, float, str]]:
    def seconds(clock: str) -> float:
        h, m, s = clock.split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)

    blocks = [b.splitlines() for b in vtt.split("\n\n")[1:] if "-->" in b]
    return [(seconds(b[0].split(" --> ")[0]), seconds(b[0].split(" --> ")[1]), " ".join(b[1:])) for b in blocks]


def test_an_epub_becomes_an_m4b_with_its_chapters_titles_and_pauses(engine, tmp_path, transcribe):
    source = make_epub(tmp_path / "keeper.epub")
    options = BookOptions(subtitles=tmp_path / "keeper.vtt", manifest=tmp_path / "keeper.json")
    book = prepare(source, tmp_path / "keeper.m4b", options)
    speaker = EngineSpeaker(engine, book.voice, book.language, words=True)
    content = asyncio.run(produce(book, speaker))
    assert not book.folder.exists(), "the work folder goes once the book is done"
    assert json.loads((tmp_path / "keeper.json").read_text()) == content
    made = audiobook(tmp_path / "keeper.m4b")
    assert made.tags["title"] == "The Keeper" and made.tags["artist"] == "Ada Writer" and made.cover
    assert abs(made.duration - content["duration"]) < 0.15
    marks = made.chapters
    assert [title for title, _ in marks] == [title for title, _ in CHAPTERS]
    assert [start for _, start in marks] == pytest.approx([c["start"] for c in content["chapters"]], abs=0.002)

    # each chapter is its title, then its text, as a listener hears it
    samples = decoded(tmp_path / "keeper.m4b")
    rate = samples.size / content["duration"]
    for chapter, (title, paragraphs) in zip(content["chapters"], CHAPTERS, strict=True):
        audio = samples[int(chapter["start"] * rate): int(chapter["end"] * rate)]
        heard = transcribe(audio, round(rate))
        assert word_error_rate(f"{title}. {' '.join(paragraphs)}", heard) <= 0.25, heard

    # the pauses, read from the word times: after each title, between paragraphs, between chapters
    timed = cues((tmp_path / "keeper.vtt").read_text())
    words = {text: (start, end) for start, end, text in timed}
    assert words["The Lighthouse"][0] < 0.3
    first_paragraph = next(start for start, _, text in timed if text.startswith("Mara"))
    assert first_paragraph - words["The Lighthouse"][1] >= 1.2
    storm = words["The Storm"][0]
    assert storm - max(end for _, end, _ in timed if end < storm) >= 2.0
    assert content["chapters"][1]["start"] <= storm < content["chapters"][1]["start"] + 0.3


def test_a_server_reads_the_pieces_over_http(server, tmp_path, transcribe):
    source = make_epub(tmp_path / "keeper.epub", cover=False)
    options = BookOptions(subtitles=tmp_path / "keeper.srt", chapters="2-3")
    book = prepare(source, tmp_path / "keeper.mp3", options)

    async def run() -> dict:
        speaker = ServerSpeaker(server.url, book.voice, None, words=True)
        try:
            return await produce(book, speaker, parallel=2)
        finally:
            await speaker.aclose()

    content = asyncio.run(run())
    assert [c["title"] for c in content["chapters"]] == ["The Storm", "Morning"]
    assert chapters(tmp_path / "keeper.mp3") == ["The Storm", "Morning"]
    samples = decoded(tmp_path / "keeper.mp3")
    heard = transcribe(samples, 24_000)
    said = " ".join(f"{t}. {' '.join(p)}" for t, p in CHAPTERS[1:])
    assert word_error_rate(said, heard) <= 0.25, heard
    assert "Rain came sideways" in (tmp_path / "keeper.srt").read_text()


SRT = """1
00:00:01,000 --> 00:00:02,500
The tide is turning.

2
00:00:04,000 --> 00:00:05,000
Every boat in the harbour lifted its anchor and set out towards the open sea at once.

3
00:00:06,000 --> 00:00:07,500
Then, silence.
"""


def test_subtitle_cues_are_said_at_their_times_faster_when_they_must(engine, tmp_path):
    (tmp_path / "film.srt").write_text(SRT)
    book = prepare(tmp_path / "film.srt", tmp_path / "film.wav", BookOptions(manifest=tmp_path / "film.json"))
    speaker = EngineSpeaker(engine, book.voice, book.language, words=False)
    asyncio.run(produce(book, speaker, keep_work=True))
    samples = decoded(tmp_path / "film.wav")
    loud = np.flatnonzero(np.abs(samples) > 0.02) / 24_000

    def onset(after: float) -> float:
        return float(loud[loud >= after][0])

    assert 1.0 <= onset(0.0) < 1.15  # the first cue starts at 1 s
    assert 4.0 <= onset(3.0) < 4.15  # the second at 4 s, though the first ended long before
    infos = [json.loads(p.read_text()) for p in sorted(book.folder.glob("*.json"))]
    # the long second cue (~5 s at speed 1) was read faster, to end within its 2 s before the third
    assert infos[0]["speed"] == 1.0 and 2.0 < infos[1]["speed"] <= 4.0
    assert infos[1]["samples"] / 24_000 <= 2.0
    assert 6.0 <= onset(4.0 + infos[1]["samples"] / 24_000) < 6.15  # so the third starts on time, at 6 s


def finished_pieces(folder) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.glob("*") if not p.name.startswith(".")}


def stop_after(process, folder, pieces: int, sig: int) -> str:
    deadline = time.monotonic() + 240
    while len(list(folder.glob("*.json"))) < pieces:
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "no piece was finished in time"
        time.sleep(0.05)
    masks = proc_status(process.pid)["signals"] if READS_PROC else ""  # why a Ctrl-C went unheard, if one does
    process.send_signal(sig)
    process.wait(timeout=60)
    return masks


def test_a_killed_book_continues_where_it_stopped(tmp_path):
    book = [*CHAPTERS, ("The Return", ["She climbed down at noon.", "The keeper's log lay open on the desk."])]
    source = make_epub(tmp_path / "keeper.epub", book, cover=False)
    output = tmp_path / "keeper.m4b"
    arguments = (str(source), "-o", str(output), "--voice", "bf_emma")
    folder = prepare(source, output, BookOptions(voice="bf_emma")).folder

    first = book_command(*arguments)
    masks = stop_after(first, folder, 1, signal.SIGINT)  # Ctrl-C
    said = first.stderr.read()
    assert first.returncode == 130 and "run the same command again" in said, (first.returncode, masks, said[-2000:])
    assert not output.exists()
    after_interrupt = finished_pieces(folder)
    assert after_interrupt

    second = book_command(*arguments)
    stop_after(second, folder, len(after_interrupt) // 2 + 1, signal.SIGKILL)  # kill -9
    assert second.returncode == -signal.SIGKILL and not output.exists()
    after_kill = finished_pieces(folder)
    assert after_kill.items() >= after_interrupt.items(), "a finished piece was written again"

    third = book_command(*arguments, "--keep-work")
    assert third.wait(timeout=300) == 0, third.stderr.read()
    final = finished_pieces(folder)
    assert final.items() >= after_kill.items(), "a finished piece was written again"
    assert len([n for n in final if n.endswith(".json")]) == len(book)
    assert chapters(output) == [t for t, _ in book]
    assert not list(tmp_path.glob(".*partial")), "no partial output is left behind"

"""The book's plumbing without the model: the narrator's plan, the containers' chapters and tags, the server
speaker's retries, the work folder's atomic pieces, and the command's refusals (exit 2, before loading)."""

from __future__ import annotations

import asyncio
import json
import os
import time

import httpx
import numpy as np
import pytest

from books import make_epub
from support import audiobook, cover_jpeg, decode
from kokoro_speech.audio.book import BOOK_FORMATS, BookTags, BookWriter, ChapterMark
from kokoro_speech.cli import main
from kokoro_speech.errors import InvalidParameter
from kokoro_speech.jobs.narrate import choose_voice, parse_chapters, plan
from kokoro_speech.jobs.narration import MAX_PIECE_CHARACTERS, Narration
from kokoro_speech.jobs.speakers import ServerSpeaker, SpeakerFailed
from kokoro_speech.jobs.work import PieceStore
from kokoro_speech.text.documents import Block, Chapter, Document
from kokoro_speech.text.ssml import PAUSE_MARKER, script

pytestmark = pytest.mark.unit


def book(*chapters: Chapter, language: str | None = None) -> Document:
    return Document("text", list(chapters), language=language)


def test_titles_are_read_first_with_the_pauses_between_as_markers():
    chapter = Chapter("The Storm", [Block("The Storm", "heading"), Block("Rain came."), Block("", "break"),
                                    Block("A section", "heading"), Block("Wind too.")])
    narration = Narration(title_pause=1.5, paragraph_pause=0.5, scene_pause=2.5, heading_pause=0.8,
                          chapter_pause=3.0)
    [planned] = plan(book(chapter), narration)
    [piece] = planned.pieces
    # the page's heading repeats the title: read once; the scene break lengthens the pause before the section
    assert piece.text == "The Storm. [pause:1.5s] Rain came. [pause:2.5s] A section. [pause:0.8s] Wind too."
    assert piece.pause_after == 3.0
    pauses = [s.seconds for s in script(piece.text, max_pause=10) if hasattr(s, "seconds")]
    assert pauses == [1.5, 2.5, 0.8]  # the engine reads the markers as exactly these pauses
    [untitled] = plan(book(chapter), Narration(read_titles=False))
    assert untitled.pieces[0].text.startswith("Rain came.")
    fuller = Chapter("Chapter 2", [Block("Chapter 2: The Storm", "heading"), Block("Rain came.")])
    assert plan(book(fuller), narration)[0].pieces[0].text.startswith("Chapter 2: The Storm. [pause:1.5s] Rain")


def test_pieces_keep_within_a_request_and_long_paragraphs_split_at_sentences():
    sentence = "The keeper wrote in her log every night before the lamp was lit. "
    long_paragraph = Block((sentence * 60).strip())  # ~3,900 characters
    chapters = plan(book(Chapter("One", [long_paragraph, Block("Short one.")] * 3)), Narration(piece_characters=1000))
    pieces = chapters[0].pieces
    assert len(pieces) > 6 and all(len(p.text) <= 1000 for p in pieces)
    assert all(len(p.text) <= MAX_PIECE_CHARACTERS for p in pieces)
    spoken = " ".join(PAUSE_MARKER.sub(" ", p.text) for p in pieces)
    assert spoken.split().count("keeper") == 180  # nothing lost, nothing doubled
    assert sum(p.characters for p in pieces) >= 3 * len(long_paragraph.text)


def test_book_text_never_reads_as_markup():
    [planned] = plan(book(Chapter(None, [Block("<speak>Hi</speak> and [pause:9s] here.")])), Narration())
    text = planned.pieces[0].text
    assert not PAUSE_MARKER.search(text) and not text.startswith("<")


def test_subtitle_cues_become_timed_pieces_with_their_slots():
    cues = Document("srt", [Chapter(None, [Block("One.", start=1.0, end=2.0), Block("Two.", start=2.5, end=4.0)])],
                    timed=True)
    pieces = plan(cues, Narration())[0].pieces
    assert [(p.text, p.start, p.slot, p.pause_after) for p in pieces] == [("One.", 1.0, 1.5, 0.0),
                                                                          ("Two.", 2.5, 1.5, 0.0)]


def test_chapter_selection():
    assert parse_chapters("1-3,7", 9) == {1, 2, 3, 7}
    assert parse_chapters("8-", 9) == {8, 9}
    for wrong in ("0", "3-1", "10", "a-b"):
        with pytest.raises(InvalidParameter) as caught:
            parse_chapters(wrong, 9)
        assert caught.value.param == "chapters"
    chapters = [Chapter(f"C{i}", [Block(f"Text {i}.")]) for i in range(1, 5)]
    assert [c.number for c in plan(book(*chapters), Narration(), {2, 4})] == [2, 4]


def test_the_books_language_picks_the_voice_unless_told_otherwise():
    assert choose_voice(book(language="fr-FR"), None, None) == ("ff_siwis", None)
    assert choose_voice(book(language="en-GB"), None, None) == ("bf_emma", None)
    assert choose_voice(book(language="xx"), None, None) == ("af_heart", None)
    assert choose_voice(book(language="fr"), "am_adam", None) == ("am_adam", None)
    assert choose_voice(book(language="fr"), None, "es") == ("ef_dora", "e")
    with pytest.raises(InvalidParameter):
        choose_voice(book(), None, "klingon")


def tone(seconds: float) -> np.ndarray:
    return (0.3 * np.sin(np.arange(int(seconds * 24_000)) * 0.07)).astype(np.float32)


@pytest.mark.parametrize("fmt, chapters, cover", [("m4b", True, True), ("mp3", True, True), ("opus", True, False),
                                                  ("wav", False, False)])
def test_containers_carry_chapters_tags_and_cover(tmp_path, fmt, chapters, cover):
    marks = [ChapterMark("Dawn", 0, 24_000), ChapterMark("Noon", 24_000, 60_000), ChapterMark("Dusk", 60_000, 72_000)]
    path = tmp_path / f"book.{fmt}"
    writer = BookWriter(path, BOOK_FORMATS[fmt], marks, BookTags("The Keeper", "Ada Writer", "en", cover=cover_jpeg()))
    for seconds in (1.0, 1.5, 0.5):
        writer.write(tone(seconds))
    writer.close()
    made = audiobook(path)
    assert abs(made.duration - 3.0) < 0.1
    assert made.chapters == ([("Dawn", 0.0), ("Noon", 1.0), ("Dusk", 2.5)] if chapters else [])
    assert made.tags.get("title") == "The Keeper" and made.tags.get("artist") == "Ada Writer"
    assert made.cover == cover


def test_server_speaker_waits_out_429_and_retry_after():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(json.loads(request.content))
        if len(calls) < 3:
            return httpx.Response(429, headers={"Retry-After": "0"}, json={"error": {"message": "busy"}})
        return httpx.Response(200, content=(np.ones(2400, "<i2") * 1000).tobytes())

    speaker = ServerSpeaker("http://fleet", "af_heart", "b", words=False,
                            client=httpx.AsyncClient(transport=httpx.MockTransport(handler)))
    spoken = asyncio.run(speaker.speak("Hello.", 1.25))
    assert spoken.samples.size == 2400 and speaker.waits == 2
    assert calls[-1] == {"model": "tts-1", "input": "Hello.", "voice": "af_heart", "speed": 1.25,
                         "response_format": "pcm", "lang_code": "b"}

    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": {"message": "voice 'nope' not found"}})

    refusing = ServerSpeaker("http://fleet", "nope", None, words=False,
                             client=httpx.AsyncClient(transport=httpx.MockTransport(refuse)))
    with pytest.raises(SpeakerFailed, match="not found") as caught:
        asyncio.run(refusing.speak("Hello.", 1.0))
    assert caught.value.status == 400


def test_finished_pieces_are_whole_or_absent(tmp_path):
    [planned] = plan(book(Chapter("One", [Block("Text.")])), Narration())
    piece = planned.pieces[0]
    store = PieceStore(tmp_path / "work")
    assert not store.done(piece)
    cut_off = store.folder / f".{piece.key}.json.123.tmp"  # a kill in mid-write, long ago
    cut_off.write_bytes(b"{cut off")
    os.utime(cut_off, (time.time() - 3600, time.time() - 3600))
    in_flight = store.folder / f".{piece.key}.flac.456.tmp"  # another replica writing now
    in_flight.write_bytes(b"fLaC")
    store = PieceStore(tmp_path / "work")
    assert not cut_off.exists() and in_flight.exists() and not store.done(piece)
    store.save(piece, tone(0.5), [{"word": "Text", "start_time": 0.1, "end_time": 0.4}], 1.0)
    assert store.done(piece) and store.info(piece)["samples"] == 12_000
    assert np.abs(store.audio(piece) - tone(0.5)).max() < 1e-3  # FLAC of the 16-bit samples


@pytest.mark.parametrize("arguments, says", [
    (["missing.epub"], "cannot be read"),
    (["{bad}"], "not a type this reads"),
    (["{book}", "-o", "out.aiff"], "the output must end in"),
    (["{book}", "--chapters", "9"], "chapters 1 to 3"),
    (["{book}", "--speed", "9"], "speed must be between"),
    (["{book}", "--subtitles", "x.txt"], "subtitles end in"),
    (["{book}", "--paragraph-pause", "-1"], "paragraph_pause"),
])
def test_bad_input_exits_2_with_a_clear_message_before_loading_the_model(tmp_path, capsys, arguments, says):
    epub = make_epub(tmp_path / "book.epub", cover=False)
    (tmp_path / "bad.docx").write_bytes(b"\x00\x01")
    arguments = [a.format(book=epub, bad=tmp_path / "bad.docx") for a in arguments]
    with pytest.raises(SystemExit) as caught:
        main(["book", *arguments, "--offline", "--model", str(tmp_path / "no-model.onnx")])
    assert caught.value.code == 2
    assert says in capsys.readouterr().err


def test_list_shows_the_chapters(tmp_path, capsys):
    main(["book", str(make_epub(tmp_path / "book.epub", cover=False)), "--list"])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("chars")[1].strip() for line in lines] == ["The Lighthouse", "The Storm", "Morning"]


class ToneSpeaker:
    """Plumbing only: a tone as long as the text (0.05 s a character), one word per word, every call counted;
    it fails on the call numbered `fail_at` (a crash in mid-book)."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.calls: list[str] = []
        self.fail_at = fail_at

    async def speak(self, text: str, speed: float):
        from kokoro_speech.jobs.speakers import Spoken, Word

        self.calls.append(text)
        if self.fail_at is not None and len(self.calls) == self.fail_at:
            raise RuntimeError("the power went out")
        spoken = PAUSE_MARKER.sub(" ", text).split()
        words = [Word(w, i * 0.3, i * 0.3 + 0.25) for i, w in enumerate(spoken)]
        return Spoken(tone(0.05 * len(text) / speed), words)


def test_split_chapters_manifest_subtitles_and_resume_without_the_model(tmp_path):
    from kokoro_speech.jobs.book import BookOptions, prepare, produce

    source = make_epub(tmp_path / "keeper.epub", cover=False)
    options = BookOptions(split_chapters=True, manifest=tmp_path / "keeper.json", subtitles=tmp_path / "keeper.srt",
                          narration=Narration(piece_characters=200))
    book = prepare(source, tmp_path / "keeper.opus", options)
    crashing = ToneSpeaker(fail_at=2)
    with pytest.raises(RuntimeError):
        asyncio.run(produce(book, crashing))
    assert not (tmp_path / "keeper").exists() and not (tmp_path / "keeper.json").exists()
    resumed = ToneSpeaker()
    content = asyncio.run(produce(book, resumed))
    assert crashing.calls[0] not in resumed.calls and len(resumed.calls) == 2, "the finished piece was not redone"
    files = sorted(p.name for p in (tmp_path / "keeper").iterdir())
    assert files == ["01 The Lighthouse.opus", "02 The Storm.opus", "03 Morning.opus"]
    assert content["files"] == [f"keeper/{name}" for name in files]
    chapters = content["chapters"]
    for chapter, name in zip(chapters, files, strict=True):
        made = audiobook(tmp_path / "keeper" / name)
        assert abs(made.duration - (chapter["end"] - chapter["start"])) < 0.05
        assert made.tags["title"] == chapter["title"]
    assert [c["start"] for c in chapters][1:] == [c["end"] for c in chapters][:-1]
    assert json.loads((tmp_path / "keeper.json").read_text()) == content
    srt = (tmp_path / "keeper.srt").read_text()
    assert "The Storm" in srt and srt.startswith("1\n00:00:00,000 --> ")
    assert not book.folder.exists() and not list(tmp_path.glob(".*partial"))


def test_the_command_sends_pieces_to_a_server_and_waits_out_its_429s(tmp_path, capsys):
    """Plumbing: a stand-in speech server (standard library) that is busy for each piece's first try."""
    import http.server
    import threading

    seen: list[dict] = []

    class Busy(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
            if len(seen) % 2:
                self.send_response(429)
                self.send_header("Retry-After", "0")
                self.end_headers()
                return
            pcm = (tone(0.02 * len(body["input"])) * 32767).astype("<i2").tobytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(pcm)))
            self.end_headers()
            self.wfile.write(pcm)

        def log_message(self, *args) -> None:
            pass

    stand_in = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Busy)
    threading.Thread(target=stand_in.serve_forever, daemon=True).start()
    try:
        source = make_epub(tmp_path / "keeper.epub", cover=False)
        output = tmp_path / "keeper.mp3"
        main(["book", str(source), "-o", str(output), "--server", f"http://127.0.0.1:{stand_in.server_port}",
              "--api-key", "sk-book", "--parallel", "2", "--voice", "bm_george", "--speed", "1.2", "-q"])
    finally:
        stand_in.shutdown()
    assert len(seen) == 6 and {s["path"] for s in seen} == {"/v1/audio/speech"}
    assert {(s["auth"], s["voice"], s["speed"], s["response_format"]) for s in seen} == {
        ("Bearer sk-book", "bm_george", 1.2, "pcm")}
    assert [title for title, _ in audiobook(output).chapters] == ["The Lighthouse", "The Storm", "Morning"]


def test_a_book_encoded_along_its_reading_is_the_book_encoded_at_the_end(tmp_path):
    from kokoro_speech.jobs.audiobook import Audiobook, RunningEncode, write_audio
    from kokoro_speech.jobs.narrate import Piece, PlannedChapter

    pieces = [Piece(n // 2, n, f"piece {n}", 0.4 + n / 10, 10, start=None if n != 3 else 9.0) for n in range(5)]
    planned = [PlannedChapter(c + 1, f"Part {c + 1}", [p for p in pieces if p.chapter == c]) for c in range(3)]
    reading = Audiobook(book(), planned, PieceStore(tmp_path / "work"), speed=1.0)
    along = RunningEncode(reading, "m4b", tmp_path / "work" / ".along.m4a")
    for number in (1, 0, 4, 2, 3):  # saved out of order, as pieces read two at a time (or by replicas) are
        reading.store.save(pieces[number], tone(1.0 + number / 3), [], 1.0)
        along.advance()
        assert along.complete == (number == 3)  # each piece goes in once those before it are there
    layout = reading.layout()
    tags = BookTags("The Keeper", "Ada Writer", "en", cover=cover_jpeg())
    write_audio(reading, layout, tmp_path / "along.m4b", "m4b", tags, along=along)
    assert not (tmp_path / "work" / ".along.m4a").exists(), "the book was written from the encode along"
    write_audio(reading, layout, tmp_path / "whole.m4b", "m4b", tags)
    assert not list(tmp_path.glob(".*partial"))
    made, whole = audiobook(tmp_path / "along.m4b"), audiobook(tmp_path / "whole.m4b")
    assert made == whole and [t for t, _ in made.chapters] == ["Part 1", "Part 2", "Part 3"] and made.cover
    samples = [decode((tmp_path / name).read_bytes(), "m4b").samples for name in ("along.m4b", "whole.m4b")]
    assert np.array_equal(*samples)  # the same samples

    unfinished = RunningEncode(reading, "m4b", tmp_path / "work" / ".other.m4a")
    reading.store.folder.joinpath(f"{pieces[2].key}.json").unlink()  # a piece missing: nothing is written
    unfinished.advance()
    assert not unfinished.finish(tmp_path / "never.m4b", BOOK_FORMATS["m4b"], layout.chapters, tags)
    assert not (tmp_path / "never.m4b").exists()
    unfinished.abort()
    assert not (tmp_path / "work" / ".other.m4a").exists()


def test_the_command_s_m4b_is_encoded_along_its_reading(tmp_path, monkeypatch):
    from kokoro_speech.jobs.book import BookOptions, prepare, produce

    def encoded_again(*args, **kwargs):
        raise AssertionError("the M4B was encoded after the reading, not along it")

    monkeypatch.setattr("kokoro_speech.jobs.audiobook.Audiobook.audio", encoded_again)  # a whole-book encode
    book = prepare(make_epub(tmp_path / "keeper.epub"), tmp_path / "keeper.m4b",
                   BookOptions(narration=Narration(piece_characters=200)))
    content = asyncio.run(produce(book, ToneSpeaker(), parallel=2))
    made = audiobook(tmp_path / "keeper.m4b")
    assert [t for t, _ in made.chapters] == [c["title"] for c in content["chapters"]] and made.cover
    assert abs(made.duration - content["duration"]) < 0.05
    assert not book.folder.exists() and not list(tmp_path.glob(".*partial"))

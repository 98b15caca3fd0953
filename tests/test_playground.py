"""The web playground at /, end to end in headless Chromium against a live keyed server on the real model.

Needs Debian's `chromium` (or CHROMIUM=/path/to/chrome) and Playwright for Python; never `playwright install`.
Set PLAYGROUND_SCREENSHOT=docs/playground.png to save a screenshot after playback.
"""

from __future__ import annotations

import os
import re
import shutil

import httpx
import numpy as np
import pytest

from conftest import API_KEY
from support import decode, pitch

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM:
    pytest.skip("no Chromium found (apt-get install chromium, or set CHROMIUM)", allow_module_level=True)

expect = sync_api.expect
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 900, "height": 760})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def open_with_key(page, server) -> None:
    """Load the page, see it ask for the key (from the API's JSON error), enter it, wait for the voices."""
    page.goto(server.url)
    expect(page.locator("#error")).to_contain_text("You didn't provide an API key")
    expect(page.locator("#key-box")).to_have_attribute("open", "")
    page.fill("#key", API_KEY)
    page.press("#key", "Enter")  # fires "change": the key is stored and the voices reload with it
    expect(page.locator("#voice option[value=bm_george]")).to_have_count(1)
    expect(page.locator("#error")).to_be_hidden()
    assert page.evaluate("localStorage.getItem('kokoro-speech.api-key')") == API_KEY


def test_voice_picker_groups_voices_and_marks_openai_aliases(keyed_server, page):
    open_with_key(page, keyed_server)
    groups = page.eval_on_selector_all("#voice optgroup", "gs => gs.map(g => g.label)")
    assert "American English · female" in groups and "British English · male" in groups
    assert len(groups) == len(set(groups)), "each language and gender is one group"
    assert page.locator('#voice optgroup[label="British English · male"] option[value=bm_george]').count() == 1
    bella = page.locator("#voice option[value=af_bella]")
    assert bella.get_attribute("data-aliases") == "shimmer"
    assert "★ shimmer" in bella.inner_text()
    assert page.locator("#voice option[value=bm_george]").get_attribute("data-aliases") == ""
    assert page.locator("#voice").input_value() == "af_heart"  # the default


def test_pcm_player_joins_samples_split_across_chunks(keyed_server, page):
    page.goto(keyed_server.url)
    scheduled = page.evaluate("""() => {
        const got = [];
        const start = AudioBufferSourceNode.prototype.start;
        AudioBufferSourceNode.prototype.start = function (...args) {
            got.push(Array.from(this.buffer.getChannelData(0)));
            return start.apply(this, args);
        };
        const player = new PcmPlayer();
        player.push(new Uint8Array([0x01]), 24000);                       // half a sample
        player.push(new Uint8Array([0x00, 0xfe, 0xff, 0x00]), 24000);     // 1, -2 and half of the next
        player.push(new Uint8Array([0x99, 0x40, 0x00, 0xc0]).subarray(1), 24000);  // odd byte offset
        AudioBufferSourceNode.prototype.start = start;
        player.close();
        return {got, samples: player.samples};
    }""")
    assert scheduled["got"] == [[1 / 32768, -2 / 32768], [0.5, -0.5]]  # 0x4000, 0xc000
    assert scheduled["samples"] == 4


def test_play_streams_pcm_and_shows_time_to_first_audio(keyed_server, page):
    open_with_key(page, keyed_server)
    page.select_option("#voice", "bm_george")
    page.fill("#input", "Good morning, and welcome.")
    page.click("#play")

    status = page.locator("#status")
    expect(status).to_have_attribute("data-state", "done", timeout=90_000)
    expect(page.locator("#error")).to_be_hidden()
    pcm_bytes = int(status.get_attribute("data-pcm-bytes"))
    samples = int(status.get_attribute("data-samples"))
    assert samples == pcm_bytes // 2
    assert samples > 24_000 * 0.8, "less than 0.8 s of speech arrived"
    ttfa = int(status.get_attribute("data-ttfa-ms"))
    assert 0 < ttfa < 60_000
    expect(page.locator("#ttfa")).to_have_text(f"{ttfa} ms")
    expect(page.locator("#received")).to_have_text(re.compile(r"^\d+\.\d\d s \([\d,]+ bytes\)$"))
    assert page.evaluate("localStorage.getItem('kokoro-speech.voice')") == "bm_george"

    if shot := os.environ.get("PLAYGROUND_SCREENSHOT"):
        page.screenshot(path=shot, full_page=True)


def test_download_saves_the_chosen_format(keyed_server, page, tmp_path):
    open_with_key(page, keyed_server)
    page.select_option("#voice", "bm_george")
    page.select_option("#format", "wav")
    page.fill("#input", "Hi.")
    with page.expect_download(timeout=60_000) as info:
        page.click("#download")
    download = info.value
    assert download.suggested_filename == "speech-bm_george.wav"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    data = saved.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE" and len(data) > 44 + 2 * 2400


def test_controls_reach_the_request_and_the_stream_plays_at_the_chosen_rate(keyed_server, page):
    open_with_key(page, keyed_server)
    page.click("#example-pause")
    assert "[pause:1.5s]" in page.input_value("#input")
    page.click("#example-ssml")
    assert page.input_value("#input").startswith("<speak>")
    page.fill("#input", "One. [pause:1s] Two.")
    page.fill("#volume", "0.5")
    page.dispatch_event("#volume", "input")
    expect(page.locator("#volume-value")).to_have_text("0.5×")
    page.select_option("#sample-rate", "16000")
    with page.expect_request("**/v1/audio/speech") as sent:
        page.click("#play")
    body = sent.value.post_data_json
    assert (body["volume_multiplier"], body["sample_rate"], body["response_format"]) == (0.5, 16000, "pcm")
    status = page.locator("#status")
    expect(status).to_have_attribute("data-state", "done", timeout=90_000)
    expect(page.locator("#error")).to_be_hidden()
    assert status.get_attribute("data-sample-rate") == "16000"
    seconds = int(status.get_attribute("data-samples")) / 16000
    assert 1.5 < seconds < 4.0, seconds  # two words and a second of silence, counted at 16 kHz


def test_save_this_blend_adds_a_voice_and_selects_it(keyed_server, page):
    open_with_key(page, keyed_server)
    page.fill("#blend", "af_heart(2)+bm_george(1)")
    page.fill("#voice-name", "playground_blend")
    page.click("#save-voice")
    expect(page.locator("#notice")).to_contain_text("Saved “playground_blend”")
    saved = page.locator('#voice optgroup[label="Your saved voices"] option[value=playground_blend]')
    expect(saved).to_have_count(1)
    assert page.locator("#voice").input_value() == "playground_blend"
    assert page.input_value("#blend") == ""
    page.click("#save-voice")  # the same name again: the API's 409 is shown
    expect(page.locator("#error")).to_contain_text("exists")
    page.evaluate("""key => fetch('/v1/audio/voices/playground_blend',
                     {method: 'DELETE', headers: {Authorization: `Bearer ${key}`}})""", API_KEY)
def test_read_along_highlights_each_word_while_it_is_spoken(keyed_server, page):
    open_with_key(page, keyed_server)
    # (a word that a piece boundary cuts is only known when the piece that ends it is made: none is cut here)
    text = "Good morning, my friend. It costs $4.50 today."
    page.fill("#input", text)
    page.evaluate("""() => {
        const element = document.getElementById("read-along");
        window.highlighted = [];
        new MutationObserver(() => {
            const word = element.dataset.word;
            if (word && window.highlighted.at(-1)?.word !== word)
                window.highlighted.push({word, at: playing ? playing.player.position() : null});
        }).observe(element, {attributes: true, attributeFilter: ["data-word"]});
    }""")
    page.click("#play")
    expect(page.locator("#status")).to_have_attribute("data-state", "done", timeout=90_000)
    page.wait_for_function("window.highlighted.at(-1)?.word === 'today'", timeout=30_000)
    expect(page.locator("#error")).to_be_hidden()

    words = ["Good", "morning", "my", "friend", "It", "costs", "$4.50", "today"]
    assert page.eval_on_selector_all("#read-along span", "s => s.map(x => x.textContent)") == words
    assert page.locator("#read-along").inner_text() == text  # the user's own text, words wrapped in place
    highlighted = page.evaluate("window.highlighted")
    assert [h["word"] for h in highlighted] == words, "every word is highlighted, in order"
    # ...while it is spoken: each is highlighted when the audio played so far reaches its start time
    starts = [float(s) for s in page.eval_on_selector_all("#read-along span", "s => s.map(x => x.dataset.start)")]
    for seen, start in zip(highlighted, starts, strict=True):
        assert seen["at"] is not None and 0 <= seen["at"] - start < 0.15, (seen, start)


def test_books_tab_reads_a_book_and_navigates_its_chapters(keyed_server, page, tmp_path):
    from books import make_epub

    book = make_epub(tmp_path / "keeper.epub")
    open_with_key(page, keyed_server)
    page.click("#tab-books")
    expect(page.locator("#speech")).to_be_hidden()
    expect(page.locator("#books")).to_be_visible()
    expect(page.locator("#book-voice option[value=bm_george]")).to_have_count(1)
    page.set_input_files("#book-file", str(book))
    page.select_option("#book-voice", "bm_george")
    page.select_option("#book-format", "mp3")
    page.click("#book-start")
    expect(page.locator("#book-status")).to_have_attribute("data-status", "succeeded", timeout=180_000)
    expect(page.locator("#book-summary")).to_contain_text("3 of 3 chapters")
    jumps = page.locator("#book-chapters button.chapter")
    expect(jumps).to_have_count(3)
    expect(jumps.nth(1)).to_contain_text("The Storm")
    download = page.locator("#book-download")
    expect(download).to_have_attribute("download", "keeper.mp3")
    page.wait_for_function("document.getElementById('book-audio').readyState >= 1")
    duration = page.evaluate("document.getElementById('book-audio').duration")
    assert duration > 5
    jumps.nth(2).click()  # "Morning": the player goes to where that chapter starts
    start = float(re.search(r"\((\d+):(\d+)\)", jumps.nth(2).inner_text()).group(2))
    start += 60 * float(re.search(r"\((\d+):", jumps.nth(2).inner_text()).group(1))
    position = page.evaluate("document.getElementById('book-audio').currentTime")
    assert start <= position < start + 2 and position > 0
    page.click("#tab-speech")
    expect(page.locator("#speech")).to_be_visible()
    expect(page.locator("#books")).to_be_hidden()


# --- many voices: the cast, the dialogue editor, speakers in the read-along -------------------------------------

SENTENCE = "The weather is lovely today."
AUTH = {"Authorization": f"Bearer {API_KEY}"}


def watch_speakers(page) -> None:
    """Note each speaker the read-along names while it plays (window.speakers), in order."""
    page.evaluate("""() => {
        const element = document.getElementById("read-along");
        window.speakers = [];
        new MutationObserver(() => {
            const speaker = element.dataset.speaker;
            if (speaker && window.speakers.at(-1) !== speaker) window.speakers.push(speaker);
        }).observe(element, {attributes: true, attributeFilter: ["data-speaker"]});
    }""")


def halves_pitch(samples: np.ndarray) -> tuple[float, float]:
    """The pitch before and after the first second of silence (the pause between two speakers)."""
    quiet = np.flatnonzero(np.convolve(np.abs(samples) < 2 / 32768, np.ones(12_000), "valid") == 12_000)
    cut = int(quiet[0]) + 12_000
    return pitch(samples[:cut]), pitch(samples[cut:])


def test_the_cast_is_sent_heard_and_named_in_the_read_along(keyed_server, page):
    open_with_key(page, keyed_server)
    page.click("#cast-box summary")
    for name, voice, rate in (("narrator", "am_adam", "1"), ("hero", "af_heart", "1.2")):
        page.click("#cast-add")
        row = page.locator("#cast tbody tr").last.locator("input")
        row.nth(0).fill(name)
        row.nth(1).fill(voice)
        row.nth(2).fill(rate)
    expect(page.locator("#voice-tags")).to_be_checked()  # a cast is for tags
    assert page.eval_on_selector_all("#speakers option", "os => os.map(o => o.value)")[:2] == ["narrator", "hero"]
    page.fill("#input", f"[voice:narrator] {SENTENCE} [pause:1s] [voice:hero] {SENTENCE}")
    watch_speakers(page)
    with page.expect_request("**/v1/audio/speech") as sent:
        page.click("#play")
    body = sent.value.post_data_json
    assert body["allow_voice_tags"] is True
    assert body["voice_aliases"] == {"narrator": "am_adam", "hero": {"voice": "af_heart", "rate": 1.2}}
    expect(page.locator("#status")).to_have_attribute("data-state", "done", timeout=90_000)
    page.wait_for_function("window.speakers.at(-1) === 'hero'", timeout=30_000)
    expect(page.locator("#error")).to_be_hidden()

    read_along = page.locator("#read-along")
    assert page.eval_on_selector_all("#read-along b.speaker", "s => s.map(x => x.textContent)") == ["narrator", "hero"]
    assert page.evaluate("window.speakers") == ["narrator", "hero"]  # who speaks, shown while they speak
    expect(read_along.locator("b.speaker.now")).to_have_text("hero")
    assert "[" not in read_along.inner_text()  # the tags and the pause are not shown, the words are
    words = page.eval_on_selector_all("#read-along span", "s => s.map(x => x.textContent)")
    assert words == ["The", "weather", "is", "lovely", "today"] * 2
    # heard: the page's request, as plain audio, speaks the narrator's half in am_adam's voice, the hero's in af_heart's
    audio = httpx.post(f"{keyed_server.url}/v1/audio/speech", headers=AUTH, timeout=120,
                       json={**body, "stream_format": "audio", "timestamps": False})
    assert audio.status_code == 200, audio.text
    narrator, hero = halves_pitch(decode(audio.content, "pcm").samples)
    assert hero > 1.4 * narrator, (narrator, hero)


def test_the_dialogue_editor_plays_its_turns_and_downloads_them_from_dev_dialogue(keyed_server, page, tmp_path):
    open_with_key(page, keyed_server)
    page.click("#example-dialogue")  # an example cast and scene, to start from
    expect(page.locator("#cast tbody tr")).to_have_count(3)
    expect(page.locator("#turns li")).to_have_count(4)
    assert page.input_value("#input").startswith("[voice:narrator] The door creaked open.")
    while page.locator("#turns li").count():
        page.locator("#turns li button").first.click()
    for speaker in ("am_adam", "af_heart"):  # voice ids work as speakers too
        page.click("#turn-add")
        turn = page.locator("#turns li").last
        turn.locator(".who").fill(speaker)
        turn.locator(".line").fill(SENTENCE)
    page.fill("#turn-pause", "1")
    page.dispatch_event("#turn-pause", "input")
    expect(page.locator("#turn-pause-value")).to_have_text("1 s")

    watch_speakers(page)
    page.click("#dialogue-play")  # the turns, as tagged text, read along
    assert page.input_value("#input") == f"[voice:am_adam] {SENTENCE} [pause:1s]\n[voice:af_heart] {SENTENCE}"
    expect(page.locator("#status")).to_have_attribute("data-state", "done", timeout=90_000)
    page.wait_for_function("window.speakers.at(-1) === 'af_heart'", timeout=30_000)
    expect(page.locator("#error")).to_be_hidden()
    assert page.evaluate("window.speakers") == ["am_adam", "af_heart"]

    page.select_option("#format", "wav")
    with page.expect_request("**/dev/dialogue") as sent, page.expect_download(timeout=60_000) as info:
        page.click("#dialogue-download")
    body = sent.value.post_data_json
    assert body["turns"] == [{"voice": "am_adam", "text": SENTENCE}, {"voice": "af_heart", "text": SENTENCE}]
    assert (body["pause_between_turns"], body["response_format"]) == (1, "wav")
    assert info.value.suggested_filename == "dialogue.wav"
    saved = tmp_path / "dialogue.wav"
    info.value.save_as(saved)
    first, second = halves_pitch(decode(saved.read_bytes(), "wav").samples)
    assert second > 1.4 * first, (first, second)  # two turns, two voices

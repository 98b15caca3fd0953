"""Word timestamps: the durations output, the alignment back to the input, and the routes, on the real model."""

from __future__ import annotations

import base64
import json

import httpx
import numpy as np
import onnx
import pytest

from kokoro_speech.audio.subtitles import srt, webvtt
from kokoro_speech.kokoro import SAMPLE_RATE, SAMPLES_PER_FRAME, to_token_ids
from kokoro_speech.model.derived import with_durations
from kokoro_speech.model.session import KokoroModel
from kokoro_speech.pipeline.timestamps import Spans, WordTime
from kokoro_speech.text.normalize import normalize

MIXED = ('Dr. Smith paid $4.50 on 3/14/2024 at 10:30am, didn\'t he? "Yes," she said. '
         "The 2nd train left at 5 pm; it was 12.5 km away. Kokoro reads it all.")


def items_of(original: str) -> list[str]:
    spans = Spans(original, normalize(original))
    return [original[s:e] for s, e in spans.items]


@pytest.mark.unit
def test_expanded_words_are_one_item_carrying_the_original_text():
    assert items_of("Dr. Smith paid $4.50 on 3/14/2024.") == ["Dr.", "Smith", "paid", "$4.50", "on", "3/14/2024"]
    assert items_of('"Hello," she said (quietly).') == ["Hello", "she", "said", "quietly"]
    spans = Spans("It costs $4.50 now", normalize("It costs $4.50 now"))
    words = normalize("It costs $4.50 now").split()
    money = {spans.item_of[j] for j, w in enumerate(words) if w in ("four", "dollars", "and", "fifty", "cents")}
    assert len(money) == 1 and spans.items[money.pop()] == (9, 14)


def _hi_five_dollars():
    import kokoro_speech.pipeline.timestamps as timestamps
    from kokoro_speech.text.phonemize import Token

    timeline = timestamps.Timeline(Spans("Hi $5 ok.", "Hi five dollars ok."))
    tokens = [Token("Hi", "hˈI", " "), Token("five", "fˈIv", " "), Token("dollars", "dˈɑləɹz", " "),
              Token("ok", "ˌOkˈA", ""), Token(".", ".", "")]
    timeline.read("Hi five dollars ok.", "hˈI fˈIv dˈɑləɹz ˌOkˈA.", tokens)
    return timeline


@pytest.mark.unit
@pytest.mark.parametrize(("lead_frames", "split_spaces"), [(1, False), (0, True)])
def test_the_alignment_knobs_move_the_times(monkeypatch, lead_frames, split_spaces):
    """LEAD_FRAMES and SPLIT_SPACES (0 and False, as calibrated) do move the times when set otherwise."""
    import kokoro_speech.pipeline.timestamps as timestamps

    frames = np.array([2] + [2, 2, 2, 1, 2, 2, 2, 2] + [3])
    default = _hi_five_dollars().piece("hˈI fˈIv", frames, kept=(600, 9000), offset=1000)
    monkeypatch.setattr(timestamps, "LEAD_FRAMES", lead_frames)
    monkeypatch.setattr(timestamps, "SPLIT_SPACES", split_spaces)
    moved = _hi_five_dollars().piece("hˈI fˈIv", frames, kept=(600, 9000), offset=1000)
    assert (moved[0].start_time, moved[0].end_time) != (default[0].start_time, default[0].end_time)
    if lead_frames:
        assert moved[0].start_time == pytest.approx(default[0].start_time - lead_frames * 600 / 24000)


@pytest.mark.unit
def test_pieces_are_timed_from_durations_shifted_by_trim_and_offset():
    import kokoro_speech.pipeline.timestamps as timestamps
    from kokoro_speech.text.phonemize import Token

    assert (timestamps.LEAD_FRAMES, timestamps.SPLIT_SPACES) == (0, False)  # the calibrated alignment
    timeline = timestamps.Timeline(Spans("Hi $5 ok.", "Hi five dollars ok."))
    tokens = [Token("Hi", "hˈI", " "), Token("five", "fˈIv", " "), Token("dollars", "dˈɑləɹz", " "),
              Token("ok", "ˌOkˈA", ""), Token(".", ".", "")]
    timeline.read("Hi five dollars ok.", "hˈI fˈIv dˈɑləɹz ˌOkˈA.", tokens)
    first = "hˈI fˈIv"  # a piece cut inside "$5": its item waits for the piece that ends it
    frames = np.array([2] + [2, 2, 2, 1, 2, 2, 2, 2] + [3])  # pads, then one per symbol (the space: 1)
    words = timeline.piece(first, frames, kept=(600, 9000), offset=1000)
    assert words == [WordTime("Hi", (1000 + 2 * 600 - 600) / 24000, (1000 + 8 * 600 - 600) / 24000, 0, 2)]
    second = "dˈɑləɹz ˌOkˈA."
    frames = np.array([1] + [1] * len(second) + [1])
    words = timeline.piece(second, frames, kept=(0, len(frames) * 600), offset=20_000)
    assert [(w.word, w.start_index, w.end_index) for w in words] == [("$5", 3, 5), ("ok", 6, 8)]
    assert words[0].start_time == (1000 + 9 * 600 - 600) / 24000  # "five" in the first piece
    assert words[0].end_time == (20_000 + (1 + 7) * 600) / 24000  # "dollars" in the second
    assert words[1].end_time == (20_000 + (1 + 13) * 600) / 24000  # the period is a pause, not the word
    assert timeline.finish() == []


def test_the_durations_model_speaks_bit_identical_audio_and_times_every_sample(settings):
    from kokoro_speech.model.weights import resolve_model

    original = resolve_model(None, settings.cache_dir, offline=True)
    derived = with_durations(original, settings.cache_dir)
    assert derived != original and with_durations(original, settings.cache_dir) == derived  # cached, not redone
    plain, timed = KokoroModel(original, threads=2), KokoroModel(derived, threads=2)
    assert plain.durations_output is None and timed.durations_output is not None
    tokens = to_token_ids("ðə kwˈɪk bɹˈWn fˈɑks, ʤˈʌmps.")
    style = np.random.default_rng(0).normal(0, 0.1, 256).astype(np.float32)
    for speed in (1.0, 1.6):
        audio, durations = timed.timed(tokens, style, speed)
        assert np.array_equal(audio, plain(tokens, style, speed))
        assert durations.shape == (len(tokens) + 2,) and durations.sum() * SAMPLES_PER_FRAME == audio.size


@pytest.mark.unit
def test_a_model_without_durations_is_used_as_it_is(tmp_path):
    graph = onnx.helper.make_graph([onnx.helper.make_node("Identity", ["x"], ["y"])], "g",
                                   [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])],
                                   [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])])
    path = tmp_path / "tiny.onnx"
    onnx.save(onnx.helper.make_model(graph), str(path))
    assert with_durations(path, tmp_path) == path
    assert not list(tmp_path.glob("*.durations.onnx"))


def test_timestamps_without_a_durations_output_are_a_clear_400(server, engine, monkeypatch):
    monkeypatch.setattr(engine.model, "durations_output", None)
    body = {"input": "Hello there.", "voice": "af_heart", "stream": False}
    response = httpx.post(f"{server.url}/dev/captioned_speech", json=body, timeout=60)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "return_timestamps"
    assert "durations" in response.json()["error"]["message"]
    sse = {"input": "Hello.", "voice": "af_heart", "stream_format": "sse", "timestamps": True}
    response = httpx.post(f"{server.url}/v1/audio/speech", json=sse, timeout=60)
    assert response.status_code == 400 and response.json()["error"]["param"] == "timestamps"


def test_timestamps_ask_for_the_sse_stream(server):
    body = {"input": "Hello.", "voice": "af_heart", "timestamps": True}
    response = httpx.post(f"{server.url}/v1/audio/speech", json=body, timeout=60)
    assert response.status_code == 400 and response.json()["error"]["param"] == "timestamps"


def check_invariants(text: str, words: list[dict], samples: np.ndarray) -> None:
    """Spans index the input, times increase and stay inside the audio, and each word is heard in its span."""
    assert words
    seconds = samples.size / SAMPLE_RATE
    peak = float(np.max(np.abs(samples)))
    previous_end = 0.0
    for w in words:
        assert text[w["start_index"]:w["end_index"]] == w["word"]
        assert previous_end - 1e-3 <= w["start_time"] < w["end_time"] <= seconds + 1e-3, w
        previous_end = w["end_time"]
        # (50 ms of slack: a short word such as "at" is mostly the silence of its stop consonant)
        said = samples[max(0, int((w["start_time"] - 0.05) * SAMPLE_RATE)):int((w["end_time"] + 0.05) * SAMPLE_RATE)]
        frames = said[: said.size // 240 * 240].reshape(-1, 240)  # 10 ms
        loudest = float(np.sqrt(np.mean(frames**2, axis=1)).max()) if frames.size else 0.0
        assert loudest > 0.05 * peak, f"{w['word']!r} is silent where it is said to be: {w}"
    starts = [w["start_index"] for w in words]
    assert starts == sorted(starts)


def pcm(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768


@pytest.mark.parametrize("speed", [1.0, 1.4])
def test_captioned_speech_streamed_and_whole_agree_and_keep_the_invariants(server, speed):
    body = {"input": MIXED, "voice": "af_heart", "response_format": "pcm", "speed": speed}
    with httpx.stream("POST", f"{server.url}/dev/captioned_speech", json=body, timeout=180) as response:
        assert response.status_code == 200 and response.headers["content-type"] == "application/x-ndjson"
        lines = [json.loads(line) for line in response.iter_lines() if line]
    audio, words = b"", []
    for line in lines:
        assert line["audio_format"] == "audio/pcm"
        for w in line["timestamps"]:
            # each item comes no later than its audio: its word is not over before the chunk it comes with
            assert w["end_time"] > len(audio) / 2 / SAMPLE_RATE, w
        audio += base64.b64decode(line["audio"])
        words += line["timestamps"]
    assert len(lines) > 2, "pieces arrive as they are made"
    check_invariants(MIXED, words, pcm(audio))
    by_word = {w["word"]: w for w in words}
    assert {"$4.50", "3/14/2024", "10:30am", "Dr.", "12.5 km", "2nd"} <= set(by_word), sorted(by_word)
    assert by_word["$4.50"]["end_time"] - by_word["$4.50"]["start_time"] > 0.8 / speed  # all five words said

    whole = httpx.post(f"{server.url}/dev/captioned_speech", json={**body, "stream": False}, timeout=180).json()
    assert base64.b64decode(whole["audio"]) == audio  # the sum over pieces is the stream
    assert whole["timestamps"] == words
    plain = httpx.post(f"{server.url}/v1/audio/speech", json=body, timeout=180)
    assert plain.content == audio, "asking for timestamps leaves the audio bit-identical"


@pytest.mark.parametrize("text", [
    "Take a breath. [pause:1.2s] Now, let it out at 5 pm.",
    '<speak>Take a <emphasis>breath</emphasis>. <break time="1200ms"/> Now, let it out at '
    '<say-as interpret-as="time">5 pm</say-as>.</speak>',
])
def test_pauses_and_ssml_shift_the_times_and_spans_point_at_the_words(server, text):
    body = {"input": text, "voice": "af_heart", "response_format": "pcm", "stream": False}
    result = httpx.post(f"{server.url}/dev/captioned_speech", json=body, timeout=120).json()
    words = result["timestamps"]
    check_invariants(text, words, pcm(base64.b64decode(result["audio"])))
    assert [w["word"] for w in words] == ["Take", "a", "breath", "Now", "let", "it", "out", "at", "5", "pm"]
    gap = words[3]["start_time"] - words[2]["end_time"]
    assert 1.2 <= gap < 1.2 + 0.6, gap  # the exact pause, plus the silence the words end and start with


def test_sse_sends_each_piece_timestamps_before_its_audio(server):
    text = "One sentence comes first. Then a second one, with a clause; and a third: the end."
    body = {"input": text, "voice": "bf_emma", "response_format": "pcm", "stream_format": "sse", "timestamps": True}
    events = []
    with httpx.stream("POST", f"{server.url}/v1/audio/speech", json=body, timeout=120) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    assert events[-1]["type"] == "speech.audio.done"
    assert events[0]["type"] == "speech.audio.timestamps"
    audio, words = b"", []
    for event in events:
        if event["type"] == "speech.audio.timestamps":
            assert all(w["end_time"] > len(audio) / 2 / SAMPLE_RATE for w in event["timestamps"])
            words += event["timestamps"]
        elif event["type"] == "speech.audio.delta":
            audio += base64.b64decode(event["audio"])
    assert sum(e["type"] == "speech.audio.timestamps" for e in events) >= 2
    check_invariants(text, words, pcm(audio))
    assert [w["word"] for w in words] == [w.strip(".,;:") for w in text.split()]


def test_subtitles_come_with_the_captions(server):
    body = {"input": "Hello there, world. This is a test of captions & subtitles.", "voice": "af_heart",
            "stream": False, "subtitles": "vtt"}
    vtt = httpx.post(f"{server.url}/dev/captioned_speech", json=body, timeout=120).json()["subtitles"]
    assert vtt.startswith("WEBVTT\n\n00:00:00.")
    assert "\nHello there world\n\n" in vtt and "captions &amp; subtitles" in vtt  # a cue per sentence
    streamed = httpx.post(f"{server.url}/dev/captioned_speech", json={**body, "stream": True, "subtitles": "srt"},
                          timeout=120).text.splitlines()
    assert json.loads(streamed[-1])["subtitles"].startswith("1\n00:00:00,")
    bad = httpx.post(f"{server.url}/dev/captioned_speech", json={**body, "subtitles": "ass"}, timeout=60)
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "subtitles"


@pytest.mark.unit
def test_subtitle_files_group_words_into_timed_cues():
    words = [WordTime(w, i * 0.5, i * 0.5 + 0.4, 0, len(w)) for i, w in enumerate("Hi there. How are you?".split())]
    assert webvtt(words) == ("WEBVTT\n\n00:00:00.000 --> 00:00:00.900\nHi there.\n\n"
                             "00:00:01.000 --> 00:00:02.400\nHow are you?\n")
    long = [WordTime("word", i * 0.3, i * 0.3 + 0.2, 0, 4) for i in range(40)]
    cues = srt(long).split("\n\n")
    assert cues[0].startswith("1\n00:00:00,000 --> ") and len(cues) > 3
    assert all(len(cue.splitlines()[-1]) <= 42 for cue in cues if cue)
    assert srt([WordTime("x", 3725.5, 3726.25, 0, 1)]) == "1\n01:02:05,500 --> 01:02:06,250\nx\n"


@pytest.mark.parametrize(("voice", "text"), [
    ("jf_alpha", "こんにちは。今日はいい天気ですね、散歩に行きましょう。公園で、友達に会いました。"),
    ("zf_xiaobei", "你好，世界。今天天气很好，我们去散步吧。"),
    ("ef_dora", "Hola, ¿cómo estás? Muy bien, gracias."),
])
def test_other_languages_get_items_per_word_or_character_group(server, engine, voice, text):
    if engine.phonemizers.missing(voice[0]):
        pytest.skip(f"the G2P packages for {voice} are not installed")
    body = {"input": text, "voice": voice, "response_format": "pcm", "stream": False}
    response = httpx.post(f"{server.url}/dev/captioned_speech", json=body, timeout=180)
    assert response.status_code == 200, response.text
    words = response.json()["timestamps"]
    check_invariants(text, words, pcm(base64.b64decode(response.json()["audio"])))
    assert len(words) >= 4, words  # clause groups (Japanese, Mandarin) or words, never one item for it all

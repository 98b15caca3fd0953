"""Several voices in one text: [voice:]/[rate:] tags, voice_aliases, /dev/dialogue, SSML voices and languages,
/dev/ssml, and timestamps that name the speaker; on the real model (pitch and durations measured in the audio)."""

from __future__ import annotations

import io
import json
import wave

import httpx
import numpy as np
import pytest

from support import pitch
from kokoro_speech.audio.subtitles import srt, webvtt
from kokoro_speech.errors import InvalidParameter
from kokoro_speech.model.vendor_voices import vendor_voice
from kokoro_speech.pipeline.cast import MAX_SWITCHES, MAX_VOICES, aliases_of
from kokoro_speech.pipeline.timestamps import WordTime
from kokoro_speech.text.ssml import (
    SAY_AS, SILENT_ELEMENTS, VENDOR_ELEMENTS, Pause, Speech, local_name, say_as, script, tagged, to_misaki,
)

TEXT = "The quick brown fox jumps over the lazy dog and keeps on running through the open field."
REL = 0.15
AZURE = ('<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" '
         'xmlns:mstts="https://www.w3.org/2001/mstts" xml:lang="en-US"><voice name="en-US-AvaNeural">'
         '<mstts:express-as style="cheerful" styledegree="2">What a day!</mstts:express-as>'
         '<mstts:silence type="Sentenceboundary" value="200ms"/><bookmark mark="here"/> '
         '<lang xml:lang="fr-FR">Bonjour mes amis.</lang></voice></speak>')
# Polly without its xmlns, Google's <voice gender language>, W3C's <audio> fallback and <desc>
POLLY_GOOGLE_W3C = ('<speak><amazon:effect name="whispered">Quiet now.</amazon:effect> <amazon:breath/>'
                    '<audio src="bell.mp3">Ding<desc>a bell rings</desc></audio> '
                    '<voice gender="male" language="en-GB">Cheerio.</voice> <mark name="m1"/>'
                    '<phoneme alphabet="x-sampa" ph=\'t@"meIt@U\'>tomato</phoneme> '
                    '<phoneme alphabet="ipa" ph="ʘ̥">click</phoneme></speak>')


def pcm(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768


def speak(server, **body) -> httpx.Response:
    payload = {"model": "tts-1", "voice": "af_heart", "response_format": "pcm", **body}
    return httpx.post(f"{server.url}/v1/audio/speech", json=payload, timeout=120)


def wav_seconds(audio: bytes) -> float:
    """Kokoro-FastAPI's measure (its test_rate_durations.py): a streamed WAV's data chunk, sized."""
    with wave.open(io.BytesIO(audio), "rb") as wf:
        bytes_per_second = wf.getframerate() * wf.getnchannels() * wf.getsampwidth()
    return (len(audio) - (audio.find(b"data") + 8)) / bytes_per_second


def seconds(server, text: str = TEXT, voice: str = "af_bella", **extra) -> float:
    response = speak(server, input=text, voice=voice, response_format="wav", **extra)
    assert response.status_code == 200, response.text
    return wav_seconds(response.content)


# --- the text layer and the tables (no model) -------------------------------------------------------------------

@pytest.mark.unit
def test_tags_give_each_span_its_voice_and_rate_and_a_voice_tag_resets_the_rate():
    segments = script("Hi. [voice:am_adam] Hello. [rate:1.5] Fast. [pause:0.5s] [voice:Narrator]End.", max_pause=10,
                      voice_tags=True)
    speech = [(s.voice, s.rate, s.text.strip()) for s in segments if isinstance(s, Speech)]
    assert speech == [(None, 1.0, "Hi."), ("am_adam", 1.0, "Hello."), ("am_adam", 1.5, "Fast."),
                      ("Narrator", 1.0, "End.")]
    assert Pause(0.5) in segments
    # without voice_tags the brackets are words, as they always were
    assert [s.text for s in script("Hi [voice:am_adam] there", max_pause=10)] == ["Hi [voice:am_adam] there"]


@pytest.mark.unit
@pytest.mark.parametrize(("text", "where"), [
    ("Hello [voice:] there", "the tag '[voice:]' at character 6"),
    ("Hello [voice:af_heart;drop] there", "the tag '[voice:af_heart;drop]' at character 6"),
    ("Hi. [rate:fast] ok", "the tag '[rate:fast]' at character 4"),
    ("Hi. [rate:9] ok", "the rate must be a number from 0.25 to 4"),
])
def test_a_malformed_tag_is_a_400_naming_it_and_where_it_stands(text, where):
    with pytest.raises(InvalidParameter, match=None) as caught:
        script(text, max_pause=10, voice_tags=True)
    assert where in caught.value.message and caught.value.param == "input"


@pytest.mark.unit
def test_aliases_that_nest_are_refused_and_names_match_in_any_case():
    assert aliases_of({"Narrator": {"voice": "bm_george", "rate": 0.8}})["narrator"].rate == 0.8
    with pytest.raises(InvalidParameter, match="names the alias 'hero'"):
        aliases_of({"hero": "af_bella", "sidekick": "HERO(2)+am_adam"})


@pytest.mark.unit
def test_vendor_voice_names_map_by_language_and_gender():
    assert vendor_voice("en-US-AvaNeural") == "af_heart"
    assert vendor_voice("en-US-AndrewMultilingualNeural") == "am_michael"
    assert vendor_voice("en-GB-RyanNeural") == "bm_george"
    assert vendor_voice("es-MX-JorgeNeural") == "em_alex"
    assert vendor_voice("ja-JP-NanamiNeural") == "jf_alpha"
    assert vendor_voice("fr-FR-Neural2-A") == "ff_siwis"
    assert vendor_voice("Matthew") == "am_michael"  # Polly: no locale in the name
    assert vendor_voice("Mizuki") == "jf_alpha"
    assert vendor_voice("en-US-male") == "am_michael"  # <voice gender="male">
    assert vendor_voice("narrator") is None and vendor_voice("my-voice") is None
    assert vendor_voice("af_heart(0)+bf_emma") is None and vendor_voice("xx_emma") is None  # blends, Kokoro ids


@pytest.mark.unit
def test_vendor_ssml_reads_its_content_and_drops_what_is_not_speech():
    said = [s for s in script(AZURE, max_pause=10) if isinstance(s, Speech) and s.text.strip()]
    assert [(s.text.strip(), s.voice, s.language) for s in said] == [
        ("What a day!", "en-US-AvaNeural", None), ("Bonjour mes amis.", "en-US-AvaNeural", "fr-FR")]
    text = " ".join(s.text for s in script(POLLY_GOOGLE_W3C, max_pause=10) if isinstance(s, Speech))
    assert "Quiet now." in text and "Ding" in text and "bell rings" not in text and "Cheerio" in text
    assert "[tomato](/təˈmAtQ/)" in text and " click " in text  # a symbol Kokoro lacks: the word, as written
    assert any(s.voice == "en-GB-male" for s in script(POLLY_GOOGLE_W3C, max_pause=10) if isinstance(s, Speech))
    assert to_misaki("n̥ɔr̥", "ipa") == "nɔɹ"  # the voiceless ring dropped


@pytest.mark.unit
def test_ssml_as_tagged_text_is_kokoro_fastapis():
    doc = ('<speak><prosody rate="slow">The fox</prosody> and <voice name="am_adam">me<break time="500ms"/>'
           '</voice> done</speak>')
    assert tagged(script(doc, max_pause=10), "af_bella") == (
        "[rate:0.75] The fox [rate:1] and [voice:am_adam] me [pause:0.5s] [voice:af_bella] done")
    # its own examples' pauses (api/tests/test_ssml.py), written as it writes them
    assert tagged(script('<speak>Hi<break time="1s"/>there<break time="750ms"/>now</speak>', max_pause=10)) == (
        "Hi [pause:1.0s] there [pause:0.75s] now")


@pytest.mark.unit
def test_subtitles_name_each_speaker():
    words = [WordTime("Hello", 0.1, 0.4, 0, 5, "narrator"), WordTime("there", 0.45, 0.7, 6, 11, "narrator"),
             WordTime("Hi", 0.8, 1.0, 20, 22, "am_adam")]
    vtt = webvtt(words)
    assert "<v narrator>Hello there\n" in vtt and "<v am_adam>Hi\n" in vtt
    assert "narrator: Hello there" in srt(words) and "am_adam: Hi" in srt(words)
    assert "voice" not in WordTime("a", 0, 1, 0, 1).as_dict()  # one voice: the items are as before


@pytest.mark.unit
@pytest.mark.parametrize("name", [name for names in VENDOR_ELEMENTS.values() for name in names])
def test_each_vendor_element_is_read_as_get_dev_ssml_says(name):
    # the prefix undeclared, as hand-written vendor SSML often has it: still read, never a 400
    said = " ".join(s.text for s in script(f'<speak>Before <{name} name="x">inside</{name}> after.</speak>',
                                             max_pause=10) if isinstance(s, Speech))
    assert "Before" in said and "after." in said and "<" not in said and "name" not in said
    assert ("inside" in said) == (local_name(name) not in SILENT_ELEMENTS), said


@pytest.mark.unit
@pytest.mark.parametrize("interpret_as", [value for values in SAY_AS.values() for value in values])
def test_each_say_as_value_get_dev_ssml_lists_is_interpreted(interpret_as):
    sample = "3/14/2025" if interpret_as == "date" else "AB" if interpret_as in SAY_AS["letter by letter"] else "12"
    assert say_as(sample, interpret_as, "mdy").strip() not in ("", sample)


# --- on the real model ------------------------------------------------------------------------------------------

def test_two_voices_in_one_request_sound_as_the_voices_do(server):
    female = pcm(speak(server, input="The weather is lovely today.", voice="af_heart").content)
    male = pcm(speak(server, input="The weather is lovely today.", voice="am_adam").content)
    both = speak(server, input="[voice:af_heart] The weather is lovely today. [pause:1s] "
                               "[voice:am_adam] The weather is lovely today.", allow_voice_tags=True)
    assert both.status_code == 200, both.text
    audio = pcm(both.content)
    quiet = np.flatnonzero(np.convolve(np.abs(audio) < 2 / 32768, np.ones(12_000), "valid") == 12_000)
    cut = int(quiet[0]) + 12_000  # the end of the 1 s pause's first half second
    first, second = pitch(audio[:cut]), pitch(audio[cut:])
    assert pitch(female) > 1.4 * pitch(male), (pitch(female), pitch(male))
    assert abs(first / pitch(female) - 1) < 0.15 and abs(second / pitch(male) - 1) < 0.15, (first, second)
    # without allow_voice_tags the text is read as written: one voice, tags said as words, longer
    plain = speak(server, input="[voice:af_heart] The weather is lovely today. [voice:am_adam] The weather is "
                                "lovely today.")
    assert plain.status_code == 200 and abs(pitch(pcm(plain.content)) / pitch(female) - 1) < 0.15


def test_an_unknown_voice_in_a_tag_is_a_400_naming_it_and_where_it_stands(server):
    response = speak(server, input="Hello. [voice:af_nobody] Hi.", allow_voice_tags=True)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "input" and "'[voice:af_nobody]' at character 7" in error["message"]
    assert "af_nobody" in error["message"] and error["code"] == "voice_not_found"
    many = "".join(f"[voice:{'ab'[i % 2]}]a." for i in range(MAX_SWITCHES + 2))
    response = speak(server, input=many, allow_voice_tags=True, voice_aliases={"a": "af_heart", "b": "am_adam"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "too_many_voice_switches"
    response = speak(server, input="Hi.", voice_aliases={"a": "b", "b": "af_heart"})
    assert response.status_code == 400 and response.json()["error"]["param"] == "voice_aliases"


# Kokoro-FastAPI's own integration tests (api/tests/integration/test_rate_durations.py), against this server
@pytest.fixture(scope="module")
def baseline_seconds(server) -> float:
    return seconds(server)


def test_speed_param_scales_duration(server, baseline_seconds):
    assert seconds(server, speed=0.5) / baseline_seconds == pytest.approx(2.0, rel=REL)


def test_rate_tag_scales_duration(server, baseline_seconds):
    slow = seconds(server, text=f"[rate:0.5] {TEXT}", allow_voice_tags=True)
    assert slow / baseline_seconds == pytest.approx(2.0, rel=REL)


def test_rate_tag_scales_the_alias_base_rate(server, baseline_seconds):
    ratio = seconds(server, text=f"[rate:1.1] {TEXT}", voice="slowpoke", allow_voice_tags=True,
                    voice_aliases={"slowpoke": {"voice": "af_bella", "rate": 0.8}}) / baseline_seconds
    assert ratio > 1.0 and ratio == pytest.approx(1 / 0.88, rel=REL)


def test_ssml_prosody_rate_slows_duration(server, baseline_seconds):
    response = httpx.post(f"{server.url}/dev/ssml", json={"text": f'<speak><prosody rate="slow">{TEXT}</prosody>'
                                                                  "</speak>", "voice": "af_bella"}, timeout=10)
    assert response.status_code == 200, response.text
    translated = response.json()["text"]
    assert "[rate:0.75]" in translated
    assert seconds(server, text=translated, allow_voice_tags=True) / baseline_seconds == pytest.approx(1 / 0.75,
                                                                                                     rel=REL)


def test_alias_rate_alone_slows_duration(server, baseline_seconds):
    slow = seconds(server, voice="slowpoke", voice_aliases={"slowpoke": {"voice": "af_bella", "rate": 0.8}})
    assert slow / baseline_seconds == pytest.approx(1 / 0.8, rel=REL)


def test_dialogue_in_kokoro_fastapis_shape(server):
    turns = [{"voice": "af_heart", "text": "Did you hear that?"}, {"voice_id": "af_heart", "text": "Listen."},
             {"voice": "bm_george", "text": "I heard nothing at all."}]
    response = httpx.post(f"{server.url}/dev/dialogue", json={"inputs": turns, "response_format": "pcm",
                                                              "pause_between_turns": 0.8}, timeout=120)
    assert response.status_code == 200, response.text
    audio = pcm(response.content)
    quiet = np.abs(audio) < 2 / 32768
    runs = np.diff(np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]]))))[::2] / 24_000
    # one pause between the two speakers: the two turns of af_heart are one turn
    assert sum(0.75 < r < 1.0 for r in runs) == 1, sorted(runs)[-4:]
    cut = int(np.flatnonzero(np.convolve(quiet, np.ones(18_000), "valid") == 18_000)[0]) + 18_000
    assert pitch(audio[:cut]) > 1.4 * pitch(audio[cut:]), (pitch(audio[:cut]), pitch(audio[cut:]))
    whole = httpx.post(f"{server.url}/dev/dialogue", json={"turns": turns, "stream": False, "response_format": "wav"},
                       timeout=120)
    assert whole.status_code == 200 and whole.content[:4] == b"RIFF"
    bad = httpx.post(f"{server.url}/dev/dialogue", json={"turns": [{"voice": "af_heart", "text": "  "}]}, timeout=10)
    assert bad.status_code == 400
    unknown = httpx.post(f"{server.url}/dev/dialogue", json={"turns": [{"voice": "af_nobody", "text": "Hi."}]},
                         timeout=10)
    assert unknown.status_code == 400 and unknown.json()["error"]["param"] == "turns"
    assert "af_nobody" in unknown.json()["error"]["message"]


def test_ssml_voices_and_languages_are_heard(server, engine):
    doc = ('<speak xml:lang="en-US"><voice name="en-US-AvaNeural">Good morning.</voice> '
           '<voice name="en-US-GuyNeural">Good morning to you. <lang xml:lang="es-ES">Hola, amigo.</lang></voice>'
           '</speak>')
    reading = engine.phonemize(doc, "af_heart")
    spans = [(s["voice"], s["language"]) for s in reading.segments if s["type"] == "speech"]
    assert spans == [("af_heart", "a"), ("am_michael", "a"), ("am_michael", "e")]
    assert "ˈola" in reading.phonemes  # Spanish G2P, not English letters
    response = speak(server, input=doc)
    assert response.status_code == 200, response.text


def test_ssml_voice_switches_are_heard(server):
    sentence = "The weather is lovely today."
    doc = (f'<speak><voice name="en-US-AvaNeural">{sentence}</voice><break time="1s"/>'
           f'<voice name="en-US-GuyNeural">{sentence}</voice></speak>')
    response = speak(server, input=doc, voice="af_heart")
    assert response.status_code == 200, response.text
    audio = pcm(response.content)
    quiet = np.flatnonzero(np.convolve(np.abs(audio) < 2 / 32768, np.ones(12_000), "valid") == 12_000)
    cut = int(quiet[0]) + 12_000
    assert pitch(audio[:cut]) > 1.4 * pitch(audio[cut:]), (pitch(audio[:cut]), pitch(audio[cut:]))


def test_more_voices_than_one_request_may_use_is_a_400_naming_the_tag(engine):
    blends = [f"af_heart(1)+af_sky({k})" for k in range(1, MAX_VOICES + 1)]  # with af_heart: one too many
    segments = script("".join(f"[voice:{b}] Hi. " for b in blends), max_pause=10, voice_tags=True)
    with pytest.raises(InvalidParameter) as caught:
        engine.cast("af_heart").assign(segments)
    assert caught.value.code == "too_many_voices" and blends[-1] in caught.value.message


def test_languages_follow_the_speaker_unless_lang_code_says_otherwise(engine):
    text = "[voice:af_heart] Hello. [voice:ef_dora] Hola, ¿qué tal? [voice:jf_alpha] こんにちは。"
    spans = [s for s in engine.phonemize(text, "af_heart", voice_tags=True).segments if s["type"] == "speech"]
    assert [s["language"] for s in spans] == ["a", "e", "j"]
    forced = [s for s in engine.phonemize(text, "af_heart", language="a", voice_tags=True).segments
              if s["type"] == "speech"]
    assert {s["language"] for s in forced} == {"a"}


def test_captioned_speech_names_the_speaker_of_each_word(server):
    body = {"input": "Hello there. [voice:Narrator] Once upon a time.", "voice": "af_heart", "stream": False,
            "allow_voice_tags": True, "voice_aliases": {"narrator": "bm_george"}, "subtitles": "vtt",
            "response_format": "pcm"}
    response = httpx.post(f"{server.url}/dev/captioned_speech", json=body, timeout=120)
    assert response.status_code == 200, response.text
    result = response.json()
    voices = [(item["word"], item["voice"]) for item in result["timestamps"]]
    assert voices[0] == ("Hello", "af_heart") and voices[-1] == ("time", "narrator"), voices
    assert "<v af_heart>Hello there" in result["subtitles"] and "<v narrator>Once upon a time" in result["subtitles"]
    one = httpx.post(f"{server.url}/dev/captioned_speech", json={"input": "Hello there.", "stream": False},
                     timeout=120).json()
    assert all("voice" not in item for item in one["timestamps"])


def test_each_distinct_voice_is_loaded_once_per_request(engine):
    cast = engine.cast("af_heart", aliases={"a": "af_bella(2)+af_sky", "b": "af_bella(2)+af_sky"})
    segments = script("[voice:a] x. [voice:b] y. [voice:A] z. [voice:af_bella(2)+af_sky] w.", max_pause=10,
                      voice_tags=True)
    cast.assign(segments)
    styles = {id(v.styles) for v in cast.voices.values()}
    assert len(styles) == 2, cast.voices  # af_heart and the one blend, computed once
    assert json.dumps(sorted(cast.voices))


def test_the_websocket_reads_tags_and_a_tag_holds_into_later_sentences(server):
    from test_speech_stream import connect, send, turn, ws_url

    text = "Good morning, everyone, and welcome. [voice:host] Thank you. It is lovely to be here today, truly."
    with connect(ws_url(server)) as ws:
        send(ws, "session.update", voice="af_heart", allow_voice_tags=True, voice_aliases={"host": "am_adam"})
        audio, _ = turn(ws, text)
    samples = pcm(audio)
    # the last sentence is a unit of its own, opened after the tag's: still the host's voice
    assert pitch(samples[: 24_000]) > 1.4 * pitch(samples[-36_000:]), (pitch(samples[:24_000]),
                                                                      pitch(samples[-36_000:]))


def test_get_dev_ssml_lists_what_the_reader_reads_in_kokoro_fastapis_shape(server, settings):
    response = httpx.get(f"{server.url}/dev/ssml", timeout=10)
    assert response.status_code == 200, response.text
    body = response.json()
    # Kokoro-FastAPI's own assertions on its GET /dev/ssml
    assert body["elements"]["break"] and "emphasis" in body["ignored"]
    assert set(body["elements"]).isdisjoint(body["ignored"])
    assert body["rate_range"] == [0.25, 4.0] and body["break_strengths"]["strong"] == 1.0
    # and ours: attributes, what is silent, the vendors' dialects, the limits
    assert "name" in body["attributes"]["voice"] and "xml:lang" in body["attributes"]["lang"]
    assert {"desc", "mark", "bookmark"} <= set(body["silent"]) <= set(body["elements"])
    assert body["dialects"]["azure"]["mstts:express-as"] == "spoken"
    assert body["dialects"]["azure"]["mstts:silence"] == "silent"
    assert body["dialects"]["amazon"]["amazon:breath"] == "silent"
    assert "x-sampa" in body["phoneme_alphabets"] and "telephone" in body["say_as"]["digit groups (a phone number)"]
    assert body["limits"]["max_pause_seconds"] == settings.max_pause_seconds


def test_phonemize_reads_voice_tags_and_aliases(server):
    response = httpx.post(f"{server.url}/v1/audio/phonemize", timeout=60, json={
        "input": "[voice:Narrator] Once upon a time. [voice:ef_dora] [rate:1.2] Hola, amigos.", "voice": "af_heart",
        "allow_voice_tags": True, "voice_aliases": {"narrator": "bm_george"}})
    assert response.status_code == 200, response.text
    spans = [(s["voice"], s["language"], s["rate"]) for s in response.json()["segments"] if s["type"] == "speech"]
    assert spans == [("narrator", "b", 1.0), ("ef_dora", "e", 1.2)], spans  # the alias as voice_aliases spells it
    plain = httpx.post(f"{server.url}/v1/audio/phonemize", json={"input": "[voice:ef_dora] Hola."}, timeout=60)
    assert plain.status_code == 200 and "voice" in plain.json()["normalized"]  # without the flag: words


@pytest.mark.parametrize("body", [
    # Kokoro-FastAPI v0.8's README requests, as written there (model "kokoro", an alias as the voice, ssml: true)
    {"model": "kokoro", "voice": "narrator", "input": "[voice:narrator] Once upon a time. [voice:villain] Never!",
     "allow_voice_tags": True, "voice_aliases": {"narrator": "af_bella(2)+af_sky", "villain": "am_michael"},
     "response_format": "mp3"},
    {"model": "kokoro", "voice": "af_heart", "input": "The narrator opens. [voice:af_bella] Did it land? "
     "[pause:0.3s] [voice:am_michael] It did.", "allow_voice_tags": True, "response_format": "mp3"},
    {"model": "kokoro", "input": '<speak>Hi<break time="750ms"/>there</speak>', "voice": "af_bella",
     "allow_voice_tags": True, "ssml": True},
])
def test_kokoro_fastapis_documented_tag_requests_work_unchanged(server, body):
    response = httpx.post(f"{server.url}/v1/audio/speech", json=body, timeout=120)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/mpeg" and len(response.content) > 2_000


@pytest.mark.parametrize("doc", [AZURE, POLLY_GOOGLE_W3C], ids=["azure", "polly-google-w3c"])
def test_vendor_ssml_is_a_200_and_no_markup_is_read(server, doc):
    reading = httpx.post(f"{server.url}/v1/audio/phonemize", json={"input": doc}, timeout=60)
    assert reading.status_code == 200, reading.text
    said = reading.json()["normalized"].lower()
    assert not any(mark in said for mark in ("<", ">", "mstts", "amazon", "bookmark", "bell rings")), said
    speech = httpx.post(f"{server.url}/v1/audio/speech", json={"input": doc, "voice": "af_heart",
                                                               "response_format": "pcm"}, timeout=120)
    assert speech.status_code == 200 and len(speech.content) > 24_000, speech.text[:200]

"""Saying real-world text correctly: heteronyms, custom pronunciations, /phonemize, speaking phonemes,
and a speech-to-text round trip over tricky sentences."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import httpx
import numpy as np
import pytest

from conftest import API_KEY
from support import decode, word_error_rate
from kokoro_speech.config import Settings
from kokoro_speech.errors import InvalidLexicon, SetupError
from kokoro_speech.kokoro import MAX_TOKENS
from kokoro_speech.pipeline.engine import Engine
from kokoro_speech.text.lexicon import Lexicon
from kokoro_speech.text.markup import MARKUP
from kokoro_speech.text.normalize import Reading, normalize
from kokoro_speech.text.split import split_phoneme_sentences

# prices, dates, units, acronyms, URLs, Markdown...: bench/timestamps.py reads the same file
SENTENCES = json.loads((Path(__file__).parent / "tricky_sentences.json").read_text(encoding="utf-8"))
# the same kinds and more (identifiers, ranges, typography, what language models write), each with its category and
# the readings a careful reader may give it: bench/pronunciation.py speaks them through each normalizer
PRONUNCIATION_SET = json.loads((Path(__file__).parent / "pronunciation_set.json").read_text(encoding="utf-8"))


def post(server, path: str, body: dict, **kwargs) -> httpx.Response:
    return httpx.post(f"{server.url}/v1/audio/{path}", json=body, timeout=120, **kwargs)


def assert_400(response: httpx.Response, param: str) -> dict:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == param and error["message"], error
    return error


# ---------------------------------------------------------------------------------------------- heteronyms


@pytest.mark.parametrize(
    "sentence, said, language",
    [
        ("I read it yesterday.", "ɹˈɛd", "a"),
        ("I read every day.", "ɹˈid", "a"),
        ("She has read the book.", "ɹˈɛd", "a"),
        ("I will read it.", "ɹˈid", "a"),
        ("Lead is heavy.", "lˈɛd", "a"),
        ("Old lead pipes leak.", "lˈɛd", "a"),
        ("The box is made of lead.", "lˈɛd", "a"),
        ("They lead the way.", "lˈid", "a"),
        ("She took the lead.", "lˈid", "a"),
        ("We saw a live concert.", "lˈIv", "a"),
        ("We live here.", "lˈɪv", "a"),
        ("Close the door.", "klˈOz", "a"),
        ("It is close to home.", "klˈOs", "a"),
        ("The bass player smiled.", "bˈAs", "a"),
        ("He caught a bass.", "bˈæs", "a"),
        ("Tear the paper.", "tˈɛɹ", "a"),
        ("A tear fell.", "tˈɪɹ", "a"),
        ("I read every day.", "ɹˈiːd", "b"),
        ("Lead is heavy.", "lˈɛd", "b"),
        ("Close the door.", "klˈQz", "b"),
    ],
)
def test_heteronyms_follow_their_part_of_speech(engine, sentence, said, language):
    phonemes = engine.phonemizers.phonemize(sentence, language)
    assert said in re.findall(r"[^\s.,!?;:]+", phonemes), phonemes


def test_heteronym_rules_leave_marked_words_alone(engine):
    assert "lˈid" in engine.phonemizers.phonemize("[Lead](/lˈid/) is heavy.", "a")


# ----------------------------------------------------------------------------------------- lexicon (units)

KOKORO = {"Kokoro": "kˈOkəɹO"}


def test_lexicon_marks_whole_words_in_any_case():
    lexicon = Lexicon.parse({**KOKORO, "New York": "nu jˈɔɹk"})
    text = lexicon.apply("kokoro, KOKORO and Kokoro's new  york; not kokorokoro or ekokoro.")
    assert text == ("[kokoro](/kˈOkəɹO/), [KOKORO](/kˈOkəɹO/) and [Kokoro](/kˈOkəɹO/)'s "
                    "[new  york](/nu jˈɔɹk/); not kokorokoro or ekokoro.")


def test_lexicon_keys_are_normalized_like_the_text_and_markup_is_kept():
    lexicon = Lexicon.parse({"GPT-4": "ʤˌipˌitˈi fˈɔɹ", "Dr.": "dˈɑk"})
    assert lexicon.apply(normalize("GPT-4 is here.")) == "[GPT four](/ʤˌipˌitˈi fˈɔɹ/) is here."
    assert lexicon.apply(normalize("Dr. Who came.")) == "[Doctor](/dˈɑk/) Who came."
    assert lexicon.apply("[gpt four](/ɡˈʌ/) GPT four") == "[gpt four](/ɡˈʌ/) [GPT four](/ʤˌipˌitˈi fˈɔɹ/)"


@pytest.mark.parametrize(
    "data",
    [[], "x", {"": "kˈO"}, {"a]b": "kˈO"}, {"word": ""}, {"word": 3}, {"word": "ko%"}, {"word": "k(O)"},
     {"word": "kɔ."}, {"word": "x" * 201}],
)
def test_invalid_lexicons_name_the_parameter(data):
    with pytest.raises(InvalidLexicon) as raised:
        Lexicon.parse(data)
    assert raised.value.param == "lexicon" and raised.value.message


@pytest.mark.parametrize("content", [None, "{not json", '["a"]', '{"Kokoro": "k%"}'])
def test_bad_server_lexicon_file_is_a_setup_error_naming_it(tmp_path, content):
    path = tmp_path / "lexicon.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(SetupError, match="lexicon.json"):
        Lexicon.load(path)


def test_server_lexicon_applies_and_request_lexicon_wins(engine, tmp_path):
    path = tmp_path / "lexicon.json"
    path.write_text(json.dumps({"Kokoro": "kˈOkəɹO", "tomato": "təmˈɑtO"}), encoding="utf-8")
    served = Engine(engine.model, engine.voices, engine.phonemizers, engine.scheduler, Lexicon.load(path))
    _, phonemes, _, _ = served.phonemize("Kokoro likes a tomato.", "af_heart")
    assert "kˈOkəɹO" in phonemes and "təmˈɑtO" in phonemes
    _, phonemes, _, _ = served.phonemize("Kokoro likes a tomato.", "af_heart", Lexicon.parse({"tomato": "təmˈAtO"}))
    assert "təmˈAtO" in phonemes and "təmˈɑtO" not in phonemes and "kˈOkəɹO" in phonemes


def test_the_reading_settings_reach_what_the_engine_reads(engine):
    """--code-blocks skip and --emoji name (Settings → Engine.reading → the normalizer), English and French."""
    settings = Settings(code_blocks="skip", emoji="name", _env_file=None)
    served = Engine(engine.model, engine.voices, engine.phonemizers, engine.scheduler,
                    reading=Reading(settings.code_blocks, settings.markdown_tables, settings.emoji))
    text = "Done 🎉\n```\nrm -rf build\n```"
    assert served.phonemize(text, "af_heart")[0] == "Done party popper"
    assert served.phonemize("Voilà 🎉\n```\nrm\n```", "ff_siwis")[0] == "Voilà cotillons"
    assert "build" in engine.phonemize(text, "af_heart")[0]  # the defaults read the code, skip the emoji
    assert "party" not in engine.phonemize(text, "af_heart")[0]


def test_lexicon_works_for_espeak_languages_too(engine):
    _, phonemes, _, _ = engine.phonemize("Hola Kokoro, ¿qué tal?", "ef_dora", Lexicon.parse(KOKORO))
    assert "kˈOkəɹO" in phonemes and phonemes.startswith("ˈola")


# ------------------------------------------------------------------------------------------ /v1/audio/phonemize


def test_phonemize_returns_normalized_text_phonemes_and_tokens(server):
    response = post(server, "phonemize", {"input": "Dr. Smith paid $5 for Kokoro.", "lexicon": KOKORO})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["normalized"] == "Doctor Smith paid five dollars for [Kokoro](/kˈOkəɹO/)."
    assert "kˈOkəɹO" in body["phonemes"] and "dˈɑləɹz" in body["phonemes"]
    assert len(body["phonemes"]) - body["phonemes"].count(" ") <= body["tokens"] <= len(body["phonemes"])
    british = post(server, "phonemize", {"input": "Close the door.", "voice": "bf_emma"}).json()
    assert "klˈQz" in british["phonemes"]


@pytest.mark.parametrize(
    "change, param",
    [
        ({"lexicon": {"Kokoro": "k%O"}}, "lexicon"),
        ({"lexicon": ["Kokoro"]}, "lexicon"),
        ({"lexicon": {"Kokoro": 5}}, "lexicon"),
        ({"voice": "af_nobody"}, "voice"),
        ({"voice": "jf_alpha+af_heart"}, "voice"),
        ({"lang_code": "tlh"}, "lang_code"),
        ({"input": ""}, "input"),
        ({"input": "🙂 … !!!"}, "input"),
        ({"input": None}, "input"),
    ],
)
def test_phonemize_bad_parameter_is_400(server, change, param):
    assert_400(post(server, "phonemize", {"input": "Hello.", **change}), param)


def test_phonemize_needs_the_api_key(keyed_server):
    assert post(keyed_server, "phonemize", {"input": "Hi."}).status_code == 401
    ok = post(keyed_server, "phonemize", {"input": "Hi."}, headers={"authorization": f"Bearer {API_KEY}"})
    assert ok.status_code == 200 and ok.json()["tokens"] > 0


# --------------------------------------------------------------------------------- speech with new fields

SPEECH = {"model": "kokoro-82m", "voice": "af_heart", "response_format": "wav"}


@pytest.mark.parametrize(
    "change, param",
    [
        ({"lexicon": {"Kokoro": "ko/ko"}}, "lexicon"),
        ({"lexicon": "Kokoro=kˈOkəɹO"}, "lexicon"),
        ({"input_is_phonemes": "yes"}, "input_is_phonemes"),
        ({"input_is_phonemes": True, "input": "%%% 123 ~~~"}, "input"),
        ({"input_is_phonemes": True, "input": "… !!! ,"}, "input"),
    ],
)
def test_speech_bad_new_fields_are_400(server, change, param):
    assert_400(post(server, "speech", {**SPEECH, "input": "Hello.", **change}), param)


def test_phoneme_sentences_and_long_phoneme_input_fit_the_model(engine):
    assert split_phoneme_sentences("hˈɛlO! ˈOkA. ðə “ɛnd.” nˈu\nlˈIn") == [
        "hˈɛlO!", "ˈOkA.", "ðə “ɛnd.”", "nˈu", "lˈIn"]
    phonemes = " ".join(["ðə kwˈɪk bɹˈWn fˈɑks ʤˈʌmps, Ovəɹ ðə lˈAzi dˈɔɡ."] * 60)
    voice = engine.resolve_voice("af_heart")
    pieces = list(engine.pieces(phonemes, voice, input_is_phonemes=True))
    assert len(pieces) > 5 and all(0 < p.token_count <= MAX_TOKENS for p in pieces)
    assert " ".join(p.phonemes for p in pieces).split() == phonemes.split()


def test_speaking_phonemes_and_a_lexicon_round_trip(server, transcribe):
    """/phonemize's output spoken with input_is_phonemes, and a lexicon respelling a word, both heard right."""
    pcm = {**SPEECH, "response_format": "pcm"}
    text = "The quick brown fox jumps over the lazy dog."
    phonemes = post(server, "phonemize", {"input": text}).json()["phonemes"]
    response = post(server, "speech", {**pcm, "input": phonemes, "input_is_phonemes": True})
    assert response.status_code == 200, response.text
    assert word_error_rate(text, transcribe(decode(response.content, "pcm").samples)) <= 0.12
    # "tomato" respelled as "potato" must be heard as "potato"
    response = post(server, "speech", {**pcm, "input": "I like tomato soup.", "lexicon": {"Tomato": "pətˈATO"}})
    assert response.status_code == 200, response.text
    assert "potato" in transcribe(decode(response.content, "pcm").samples).lower()


# ------------------------------------------------------------------------------------- round trip on tricky text


def _said(text: str) -> list[str]:
    """Words as compared: lowercase, no punctuation, "a.m." as "am", "twenty-four" as two words, letters said
    one by one ("R T X", "RTX") as one word."""
    text = re.sub(r"\b([ap])\.\s?m\b\.?", r"\1m", MARKUP.sub(r"\1", text).lower().replace("-", " "))
    return re.sub(r"\b(\w) (?=\w\b)", r"\1", " ".join(re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text))).split()


@pytest.mark.unit
@pytest.mark.parametrize("case", PRONUNCIATION_SET, ids=[c["text"][:40] for c in PRONUNCIATION_SET])
def test_the_pronunciation_set_is_normalized_to_one_of_its_readings(case):
    """No audio: the words the G2P gets are those of an accepted reading (normalized themselves, so that a
    reading may write "NASA" or "a.m." as a reader sees them)."""
    assert case["category"] and case["readings"]
    said = _said(normalize(case["text"]))
    assert any(said == _said(normalize(reading)) for reading in case["readings"]), (said, case["readings"])

BATCHES = 5
SPEED = 1.2  # a brisk reader: a fifth less audio to synthesize, still clear to Whisper


def test_tricky_sentences_round_trip_under_5_percent_wer(engine, transcribe):
    """30+ sentences of prices, dates, units, acronyms, URLs, Markdown...: Whisper hears the normalized text.

    Batched into a few syntheses (paragraph-separated) at a brisk speed to keep it under a minute and a
    half on two cores; bench/pronunciation.py does the same per sentence at normal speed and writes
    docs/pronunciation.md.
    """
    assert len(SENTENCES) >= 30

    async def speak(text: str) -> np.ndarray:
        synthesis = await engine.open(text, "af_heart", SPEED)
        return np.concatenate([chunk async for chunk in synthesis])

    references, heard = [], []
    for i in range(BATCHES):
        batch = SENTENCES[i::BATCHES]
        references += [normalize(s) for s in batch]
        heard.append(transcribe(asyncio.run(speak("\n\n".join(batch)))))
    wer = word_error_rate(" ".join(references), normalize(" ".join(heard)))
    print(f"round-trip WER over {len(SENTENCES)} sentences: {wer:.1%}")
    assert wer < 0.05, (wer, heard)

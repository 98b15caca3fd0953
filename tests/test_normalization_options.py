"""Kokoro-FastAPI's normalization_options: each switches its group of rules in text/normalize/, `normalize: false`
reads the text as written, and an unknown option is a 400 naming it."""

from __future__ import annotations

import httpx
import pytest

from support import decode
from kokoro_speech.api.schemas import NormalizationOptions
from kokoro_speech.text.normalize import OPTION_GROUPS, Reading, normalize_for

# option → (text, a word the rule writes, which is gone with the option off)
EXAMPLES = {
    "url_normalization": ("See https://docs.example.org today.", "dot"),
    "email_normalization": ("Write to ann@example.com today.", "example dot com"),
    "phone_normalization": ("Call 555-123-4567 today.", "five five five"),
    "unit_normalization": ("The file is 10 KB.", "kilobytes"),
    "optional_pluralization_normalization": ("Attach the file(s).", "files"),
    "replace_remaining_symbols": ("Salt & pepper.", "and"),
}


@pytest.mark.unit
def test_every_option_has_an_example():
    assert set(EXAMPLES) == set(OPTION_GROUPS)


@pytest.mark.unit
@pytest.mark.parametrize("option", sorted(OPTION_GROUPS))
def test_each_option_switches_its_rules_alone(option):
    text, written = EXAMPLES[option]
    assert written in normalize_for(text, "a")
    off = normalize_for(text, "a", Reading(off=frozenset({option})))
    assert written not in off, off
    for other, (other_text, other_written) in EXAMPLES.items():  # the other groups still read theirs
        if other != option and other_written not in text:
            assert other_written in normalize_for(other_text, "a", Reading(off=frozenset({option})))


@pytest.mark.unit
def test_normalize_false_reads_the_text_as_written():
    text = "On 3/14 at 10:30am it costs $5 & more."
    assert normalize_for(text, "a", Reading(normalize=False)) == text
    assert normalize_for(text, "e", Reading(normalize=False)) == text


@pytest.mark.unit
@pytest.mark.parametrize("server_emoji", ["skip", "name"])
def test_emoji_is_set_per_request_over_the_server_setting(server_emoji):
    server = Reading(emoji=server_emoji)
    assert NormalizationOptions().reading(server).emoji == server_emoji  # not sent: the server's
    for asked in ("skip", "name"):
        reading = NormalizationOptions(emoji=asked).reading(server)
        said = normalize_for("Great work 🎉 everyone!", "a", reading)
        assert ("party popper" in said) == (asked == "name"), said
        assert "🎉" not in said


def test_emoji_by_name_reaches_the_speech(server):
    def seconds(options: dict | None) -> float:
        response = httpx.post(f"{server.url}/v1/audio/speech", timeout=120, json={
            "input": "Great work 🎉🎂 everyone!", "voice": "af_heart", "response_format": "wav",
            **({"normalization_options": options} if options is not None else {})})
        assert response.status_code == 200, response.text
        return decode(response.content, "wav").duration

    skipped = seconds(None)  # the test server skips emoji
    assert seconds({"emoji": "skip"}) == pytest.approx(skipped, abs=0.05)
    assert seconds({"emoji": "name"}) > skipped + 0.5  # "party popper, birthday cake" said


def test_the_options_reach_the_speech(server):
    def seconds(options: dict | None) -> float:
        response = httpx.post(f"{server.url}/v1/audio/speech", timeout=120, json={
            "input": "Read https://docs.example.org/guide/start now.", "voice": "af_heart",
            "response_format": "wav", **({"normalization_options": options} if options is not None else {})})
        assert response.status_code == 200, response.text
        return decode(response.content, "wav").duration

    read_out = seconds(None)
    assert seconds({"url_normalization": True}) == pytest.approx(read_out, abs=0.05)
    assert abs(seconds({"url_normalization": False}) - read_out) > 0.3  # a different reading, not the same one


@pytest.mark.parametrize(("options", "named"), [({"bogus_normalization": True}, "bogus_normalization"),
                                                 ({"normalize": "no"}, "normalize"), ("yes", "normalization_options"),
                                                 ({"emoji": "spell"}, "emoji")])
def test_bad_options_are_a_400_naming_them(server, options, named):
    for route, body in (("/v1/audio/speech", {"input": "Hi.", "voice": "af_heart"}),
                        ("/dev/captioned_speech", {"input": "Hi.", "voice": "af_heart"}),
                        ("/dev/dialogue", {"turns": [{"voice": "af_heart", "text": "Hi."}]})):
        response = httpx.post(f"{server.url}{route}", timeout=60, json={**body, "normalization_options": options})
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["param"] == "normalization_options" and named in error["message"]


def test_the_options_reach_a_dialogue(server):
    def seconds(url_normalization: bool) -> float:
        response = httpx.post(f"{server.url}/dev/dialogue", timeout=120, json={
            "turns": [{"voice": "af_heart", "text": "Read https://docs.example.org/guide/start now."}],
            "response_format": "wav", "stream": False,
            "normalization_options": {"url_normalization": url_normalization}})
        assert response.status_code == 200, response.text
        return decode(response.content, "wav").duration

    assert abs(seconds(True) - seconds(False)) > 0.3

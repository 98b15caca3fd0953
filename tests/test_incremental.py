"""Text arriving in cuts (an LLM's tokens) → units to speak: the same sentences however the text is cut, the
first clause early, nothing cut before the next word shows where a sentence ends."""

from __future__ import annotations

import random

import pytest

from kokoro_speech.text.incremental import MIN_CLAUSE_CHARACTERS, TextBuffer
from kokoro_speech.text.split import split_sentences

pytestmark = pytest.mark.unit  # no model: `pytest -m unit`

REPLY = ("Sure, here is what I found about the weather today: it will be sunny all morning. Later, around 3 p.m., "
         "clouds roll in and approx. three millimetres of rain fall. Dr. Smith says it costs $3.50! Is that right?")


def feed(text: str, seed: int) -> list:
    rng = random.Random(seed)
    buffer, units, i = TextBuffer(), [], 0
    while i < len(text):
        n = rng.randint(1, 6)
        units += buffer.append(text[i : i + n])
        i += n
    tail = buffer.flush()
    return units + ([tail] if tail else [])


@pytest.mark.parametrize("seed", range(20))
def test_any_cut_gives_the_same_sentences(seed):
    units = feed(REPLY, seed)
    sentences, current = [], []
    for unit in units:
        current.append(unit.text)
        if unit.ends_sentence:
            sentences.append(" ".join(current))
            current = []
    assert sentences == split_sentences(REPLY)


def test_the_first_clause_comes_before_its_sentence_ends():
    units = feed(REPLY, 0)
    assert units[0].text == "Sure, here is what I found about the weather today:"
    assert not units[0].ends_sentence
    # "Sure," alone is too short to play while the rest is synthesized
    assert all(len(u.text) >= MIN_CLAUSE_CHARACTERS for u in units if not u.ends_sentence)


def test_a_sentence_end_waits_for_the_next_word():
    buffer = TextBuffer()
    assert buffer.append("It is approx. ") == []  # "approx." or the end of a sentence? the next word says
    assert buffer.append("three") == []
    assert buffer.append(" metres. ") == []
    assert [u.text for u in buffer.append("Then")] == ["It is approx. three metres."]
    assert buffer.append(" pi is 3.") == []
    assert buffer.append("14. Done") != []
    assert buffer.flush().text == "Done"
    assert buffer.flush() is None


def test_a_paragraph_break_ends_a_unit():
    buffer = TextBuffer()
    assert buffer.append("A heading\n\n") == []
    units = buffer.append("Body")
    assert [(u.text, u.ends_sentence) for u in units] == [("A heading", True)]


@pytest.mark.parametrize("seed", range(5))
def test_units_know_where_they_start_in_the_input(seed):
    text = "  Well, that is a longer opening clause: then\n\nthe rest.  And more "
    for unit in feed(text, seed):
        assert text[unit.start : unit.start + len(unit.text)] == unit.text

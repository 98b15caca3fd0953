"""Sentence splitting and piece planning (plumbing: a fake phonemizer that keeps the letters)."""

from __future__ import annotations

import pytest

from kokoro_speech.kokoro import MAX_TOKENS
from kokoro_speech.text.split import (
    FIRST_PIECE_TOKENS, MAX_PIECE_TOKENS, MAX_SENTENCE_CHARACTERS, MIN_PIECE_TOKENS, budgets, cut, plan_pieces,
    split_sentences,
)

pytestmark = pytest.mark.unit  # no model: `pytest -m unit`


def letters(text: str) -> str:
    return text.lower().replace("g", "ɡ")  # Kokoro's vocabulary has IPA ɡ, not g


def test_sentences_do_not_split_after_abbreviations_or_initials():
    text = "Dr. Smith met Mr. J. R. Jones on Baker St. at noon. They talked, e.g. about work! Then? Home."
    assert split_sentences(text) == [
        "Dr. Smith met Mr. J. R. Jones on Baker St. at noon.",
        "They talked, e.g. about work!",
        "Then?",
        "Home.",
    ]


def test_japanese_and_chinese_sentences_end_at_full_width_marks_without_spaces():
    assert split_sentences("今日は晴れです。明日は雨！本当？「はい。」そうです") == [
        "今日は晴れです。", "明日は雨！", "本当？", "「はい。」", "そうです"]
    assert split_sentences("你好，世界。我们走吧！3.5元") == ["你好，世界。", "我们走吧！", "3.5元"]


def test_paragraphs_are_boundaries_and_wrapped_lines_join():
    text = "A heading\n\nFirst line of prose\ncontinues here. Next one.\n\n\nLast"
    assert split_sentences(text) == ["A heading", "First line of prose continues here.", "Next one.", "Last"]


def test_first_piece_is_short_and_budgets_grow_within_the_window():
    sentence = "this is a fairly long opening sentence, with a clause, that goes on and on for a while. "
    pieces = list(plan_pieces([sentence * 1, sentence * 3, sentence * 12], letters))
    assert pieces[0].token_count <= FIRST_PIECE_TOKENS * 3 // 2
    assert all(p.token_count <= MAX_PIECE_TOKENS <= MAX_TOKENS for p in pieces)
    assert pieces[1].token_count > pieces[0].token_count
    # nothing lost, nothing doubled, no word cut
    spoken = " ".join(p.phonemes for p in pieces).split()
    assert spoken == letters(sentence * 16).split()


def test_cuts_prefer_sentence_then_clause_then_word():
    assert cut("one two three. four five, six seven", 30)[2] == "sentence"
    assert cut("one two three four, five six seven", 28) == ("one two three four,", "five six seven", "clause")
    head, rest, boundary = cut("one two three four five six seven", 12)
    assert (head, boundary) == ("one two", "word") and rest.startswith("three")


def test_an_unbroken_word_longer_than_the_window_is_cut_hard_but_kept_whole():
    word = "x" * 1200
    pieces = list(plan_pieces([word], letters))
    assert "".join(p.phonemes for p in pieces) == word
    assert all(p.token_count <= MAX_TOKENS for p in pieces)


def test_punctuation_only_sentences_are_skipped():
    assert list(plan_pieces(["...", "!!", "hello."], letters))[0].phonemes == "hello."
    assert list(plan_pieces(["…", "?!"], letters)) == []


def test_short_sentences_are_merged_after_the_first():
    pieces = list(plan_pieces(["yes.", "no.", "maybe.", "sure.", "fine."], letters))
    assert pieces[0].phonemes == "yes."
    assert len(pieces) < 5
    assert pieces[-1].boundary == "sentence"


def test_a_run_on_sentence_reaches_the_g2p_in_bounded_parts_that_keep_every_word():
    listing = ", ".join(f"item {n} of the list" for n in range(300))  # 5,700 characters, one "sentence"
    parts = split_sentences(listing + ".")
    assert len(parts) > 10 and all(len(p) <= MAX_SENTENCE_CHARACTERS for p in parts)
    assert all(p.endswith(",") for p in parts[:-1]), "cut after a clause mark where there is one"
    assert " ".join(parts) == listing + "."
    digits = " ".join(["1234567"] * 1000)  # no clause marks: cut at a space
    assert all(len(p) <= MAX_SENTENCE_CHARACTERS and p.endswith("7") for p in split_sentences(digits))
    assert "".join(split_sentences("あ" * 1200)) == "あ" * 1200  # no spaces at all: cut at the limit


@pytest.mark.parametrize("speed", [0.25, 0.5, 0.8, 1.0, 1.3, 2.0, 4.0])
def test_the_budget_counts_each_pieces_edge_frames(speed):
    from kokoro_speech.kokoro import EDGE_FRAMES, MOST_FRAMES_PER_TOKEN

    for max_frames in (200, 400, 800):
        first, most = budgets(speed, max_frames)
        assert first <= most
        assert most == MIN_PIECE_TOKENS or (EDGE_FRAMES + MOST_FRAMES_PER_TOKEN * most) / speed <= max_frames
        # and no tighter than it must be: one more token would cross the budget (or the token cap is reached)
        assert most == MAX_PIECE_TOKENS or (EDGE_FRAMES + MOST_FRAMES_PER_TOKEN * (most + 1)) / speed > max_frames

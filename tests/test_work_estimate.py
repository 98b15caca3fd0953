"""The work estimate: frames per character by language and speed, from measured priors, learned from what
finished requests made (no model: the numbers are what a request would report)."""

from __future__ import annotations

import pytest

from kokoro_speech.pipeline.work import WorkEstimate, prior_frames_per_character, uniform_speech
from kokoro_speech.text.ssml import Pause, Speech

pytestmark = pytest.mark.unit  # no model: `pytest -m unit`


def test_the_priors_know_languages_and_slow_speech():
    # a Mandarin character is a syllable; an English letter a fraction of one
    assert prior_frames_per_character("z", 1.0) > 4 * prior_frames_per_character("a", 1.0)
    assert prior_frames_per_character("h", 1.0) > 1.4 * prior_frames_per_character("a", 1.0)
    # at 0.25 a character makes more than 4x its frames at 1 (pauses and pads stretch too); at 2, half
    assert prior_frames_per_character("a", 0.25) > 4.5 * prior_frames_per_character("a", 1.0)
    assert prior_frames_per_character("a", 2.0) == pytest.approx(prior_frames_per_character("a", 1.0) / 2)


def test_it_learns_what_a_language_at_a_speed_really_makes():
    work = WorkEstimate()
    hindi = prior_frames_per_character("h", 0.25)
    for _ in range(20):  # what Hindi requests at speed 0.25 made: twice the prior
        work.observe("h", 0.25, characters=100, frames=200 * hindi)
    assert work.per_character("h", 0.25) == pytest.approx(2 * hindi, rel=0.01)
    assert work.per_character("h", 0.26) == pytest.approx(2 * hindi * 0.25 / 0.26, rel=0.01)  # same band
    # another speed of the same language, never seen, takes the correction learned at 0.25
    assert work.per_character("h", 1.0) == pytest.approx(2 * prior_frames_per_character("h", 1.0), rel=0.01)
    # other languages keep their priors
    assert work.per_character("a", 0.25) == prior_frames_per_character("a", 0.25)
    # and what it learned is what an estimate uses
    frames, first = work.frames("x" * 100, "h", 0.25, phonemes=False, max_piece_frames=400)
    assert frames == pytest.approx(200 * hindi, rel=0.01) and 0 < first < frames


def test_it_follows_a_change_and_ignores_a_word_or_two():
    work = WorkEstimate()
    work.observe("a", 1.0, characters=5, frames=500)  # "Hello": too short to say anything
    assert work.per_character("a", 1.0) == prior_frames_per_character("a", 1.0)
    for made in (3.0, 3.0, 3.0):
        work.observe("a", 1.0, characters=100, frames=100 * made)
    for _ in range(15):
        work.observe("a", 1.0, characters=100, frames=100 * 4.0)
    assert work.per_character("a", 1.0) == pytest.approx(4.0, rel=0.01)


def test_only_a_script_in_one_language_at_one_speed_is_learned_from():
    assert uniform_speech([Speech("Hello there."), Pause(1.0), Speech("Again.")], "a", 1.0) == ("a", 1.0, 18)
    assert uniform_speech([Speech("Hola.", language="e"), Speech("Hello.")], "a", 1.0) is None
    assert uniform_speech([Speech("Slow.", rate=0.5), Speech("Fast.")], "a", 1.0) is None
    assert uniform_speech([Pause(1.0)], "a", 1.0) is None

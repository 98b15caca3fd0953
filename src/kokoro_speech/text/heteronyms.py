"""Context rules for the few heteronyms misaki's part-of-speech tags get wrong.

misaki picks most heteronyms from spaCy's tag (live, close, tear, wind, record, object...), but:
- "read" after I/we/you/they is tagged VBP, which misaki reads as past /ɹˈɛd/ even in "I read every day";
- "lead" has one entry, the verb /lˈid/, so the metal is never said /lˈɛd/;
- "bass" is the fish /bˈæs/ unless tagged as an adjective, so "the bass player" sounds fishy.
Each rule marks the word with misaki's markup `[word](/phonemes/)` when the sentence around it makes the
reading clear, and leaves it to the tagger otherwise. Rules see one sentence at a time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from kokoro_speech.text.markup import outside_markup

_HABITUAL = re.compile(
    r"\b(?:every|each|usually|always|often|sometimes|daily|nightly|weekly|nowadays|normally|generally|rarely|"
    r"seldom|regularly|tonight|tomorrow)\b", re.IGNORECASE)
_PAST = re.compile(r"\b(?:yesterday|ago|last|earlier|once|already|previously|was|were|had|did|then)\b",
                   re.IGNORECASE)
_METALS = r"(?:tin|zinc|copper|mercury|arsenic|cadmium|iron|silver|gold|nickel)"
_LEAD_METAL_NEXT = (
    r"pipes?|pipework|poisoning|paint|pencils?|weights?|shot|ore|acid|based|free|levels?|exposure|toxicity|"
    r"content|crystal|mines?|mining|oxide|apron|sinkers?|bullets?|pollution|contamination|batter(?:y|ies)|"
    r"sheets?|roof|glass|solder|balloon"
)
_BASS_MUSIC_NEXT = (
    r"guitars?|guitarists?|players?|lines?|drums?|clef|voices?|notes?|singers?|sections?|amps?|amplifiers?|"
    r"boost|drops?|frequencies|parts?|solos?|baritone|response|and\s+treble|and\s+drums"
)


@dataclass(frozen=True)
class Rule:
    """Where the named group `w` of `pattern` matches (in a sentence `applies` to), say `american`/`british`."""

    pattern: re.Pattern[str]
    american: str
    british: str
    applies: Callable[[str], bool] | None = None  # None: always

    def phonemes(self, british: bool) -> str:
        return self.british if british else self.american


def _present_habit(sentence: str) -> bool:
    return bool(_HABITUAL.search(sentence)) and not _PAST.search(sentence)


RULES = (
    Rule(re.compile(r"\b(?:I|we|you|they)\s+(?:(?:usually|always|often|sometimes|never|still|also|rarely)\s+)?"
                    r"(?P<w>read)\b", re.IGNORECASE), "ɹˈid", "ɹˈiːd", _present_habit),
    Rule(re.compile(rf"\b(?P<w>lead)(?=[\s-]+(?:{_LEAD_METAL_NEXT})\b)", re.IGNORECASE), "lˈɛd", "lˈɛd"),
    Rule(re.compile(r"\b(?P<w>lead)(?=\s+(?:is|was)\s+(?:an?\s+)?(?:very\s+|so\s+|quite\s+)?"
                    r"(?:heavy|toxic|dense|soft|poisonous|metal|element|malleable)\b)", re.IGNORECASE),
         "lˈɛd", "lˈɛd"),
    Rule(re.compile(r"\b(?:of|with|from)\s+(?P<w>lead)(?=\s*(?:[.,;!?]|$))", re.IGNORECASE), "lˈɛd", "lˈɛd"),
    Rule(re.compile(rf"\b(?:{_METALS}\s+(?:and|or)\s+(?P<w>lead)|(?P<w2>lead)(?=\s+(?:and|or)\s+{_METALS}))\b",
                    re.IGNORECASE), "lˈɛd", "lˈɛd"),
    Rule(re.compile(rf"\b(?P<w>bass)(?=[\s-]+(?:{_BASS_MUSIC_NEXT})\b)", re.IGNORECASE), "bˈAs", "bˈAs"),
    Rule(re.compile(r"\b(?:plays?|played|playing|on|electric|double|upright|slap)\s+(?:the\s+)?(?P<w>bass)\b",
                    re.IGNORECASE), "bˈAs", "bˈAs"),
)


def _mark(rule: Rule, british: bool) -> Callable[[re.Match[str]], str]:
    def mark(match: re.Match[str]) -> str:
        start, end = match.span("w" if match.group("w") is not None else "w2")
        text = match.string
        return f"{text[match.start() : start]}[{text[start:end]}](/{rule.phonemes(british)}/){text[end : match.end()]}"

    return mark


def _apply(rule: Rule, text: str, british: bool) -> str:
    mark = _mark(rule, british)
    return outside_markup(text, lambda stretch: rule.pattern.sub(mark, stretch))  # marked words keep theirs


def disambiguate(sentence: str, british: bool = False) -> str:
    """`sentence` with the heteronyms these rules are sure of marked with their phonemes."""
    for rule in RULES:
        if rule.applies is None or rule.applies(sentence):
            sentence = _apply(rule, sentence, british)
    return sentence

"""The facts of Kokoro-82M v1.0 that every stage needs: audio rate, frame size, token window, vocabulary,
languages. A leaf: it imports nothing of the package, and any module may import it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

SAMPLE_RATE = 24_000
SAMPLES_PER_FRAME = 600  # the decoder writes 600 samples (25 ms) per predicted duration frame
FRAMES_PER_TOKEN = 2.37  # at speed 1 on average (measured over 50-510 token pieces); ÷ speed otherwise
# What bounds a piece's frames, in every language (docs/languages.md): frames x speed <= EDGE_FRAMES +
# MOST_FRAMES_PER_TOKEN x tokens. The edge (the boundary pads, a final pause) is paid once per piece, so short pieces
# at slow speeds make more frames per token (a 37-token Japanese piece at speed 0.25: 532 frames, not 10.8 per token).
MOST_FRAMES_PER_TOKEN = 2.6
EDGE_FRAMES = 40
MAX_TOKENS = 510  # the model's context is 512 including the two boundary pads
STYLE_SIZE = 256  # one style vector per phoneme-token count in a voice pack
MAX_INPUT_CHARACTERS = 4096  # one request's text (OpenAI's limit), and one WebSocket message's
# The vocabulary's punctuation and space: pauses, not a word being said (a piece of these alone is silence)
PAUSE_SYMBOLS = frozenset(';:,.!?—…"()“” ¡¿«»-–')


@dataclass(frozen=True)
class Language:
    """A reading language: the letter voice ids start with, its tag and name, and which G2P reads it."""

    letter: str
    tag: str
    name: str
    g2p: str  # "misaki-en" (misaki's English), "espeak" (espeak-ng through misaki), "misaki-ja", "misaki-zh"
    espeak_voice: str | None = None
    # audio frames one character of text makes at speed 1 (measured on a sentence per language), the prior of
    # the work estimate before reading it (pipeline/work.py), which learns each language's own as it serves
    frames_per_character: float = 2.9


LANGUAGES: dict[str, Language] = {
    lang.letter: lang
    for lang in (
        Language("a", "en-us", "American English", "misaki-en"),
        Language("b", "en-gb", "British English", "misaki-en", frames_per_character=3.0),
        Language("e", "es", "Spanish", "espeak", "es", frames_per_character=2.8),
        Language("f", "fr-fr", "French", "espeak", "fr-fr", frames_per_character=2.8),
        Language("h", "hi", "Hindi", "espeak", "hi", frames_per_character=4.4),
        Language("i", "it", "Italian", "espeak", "it", frames_per_character=3.3),
        Language("j", "ja", "Japanese", "misaki-ja", frames_per_character=8.9),
        Language("p", "pt-br", "Brazilian Portuguese", "espeak", "pt-br", frames_per_character=2.9),
        Language("z", "cmn", "Mandarin Chinese", "misaki-zh", frames_per_character=13.3),
    )
}
ENGLISH = frozenset({"a", "b"})
# What a request's `lang_code` may say: the letter, the tag, or a common name (Kokoro's own aliases included)
LANGUAGE_CODES: dict[str, str] = {
    **{letter: letter for letter in LANGUAGES},
    **{lang.tag: lang.letter for lang in LANGUAGES.values()},
    "en": "a", "fr": "f", "pt": "p", "jp": "j", "zh": "z", "zh-cn": "z", "zh-hans": "z", "cmn-cn": "z",
}


def language_letter(code: str) -> str | None:
    """The language letter a `lang_code` names (any case, `_` or `-`), or None."""
    return LANGUAGE_CODES.get(code.strip().lower().replace("_", "-"))


@cache
def vocabulary() -> dict[str, int]:
    """Kokoro v1.0's phoneme → token id table."""
    return json.loads(files("kokoro_speech").joinpath("data/vocab.json").read_text(encoding="utf-8"))["vocab"]


def to_token_ids(phonemes: str) -> list[int]:
    """Token ids of a phoneme string; symbols outside the vocabulary are dropped."""
    vocab = vocabulary()
    return [vocab[p] for p in phonemes if p in vocab]

"""Speech-to-text round trip on tricky real-world sentences: does the server say what a careful reader would?

Each sentence in tests/tricky_sentences.json (prices, dates, times, units, abbreviations, acronyms, URLs,
phone numbers, Roman numerals, Markdown, heteronyms) is synthesized by the engine (voice af_heart) and
transcribed by Whisper tiny.en. The reference is `normalize(sentence)`; the transcript goes through `normalize`
too (Whisper writes some numbers as digits), then both are lowercased and stripped of punctuation and compared
by word error rate. Writes docs/pronunciation.md. Run: .venv/bin/python bench/pronunciation.py
"""

from __future__ import annotations

import asyncio
import platform
import sys
import time

import numpy as np

from kokoro_speech.config import Settings
from kokoro_speech.pipeline.engine import Engine
from kokoro_speech.text.normalize import normalize

from harness import REPO, load_whisper, tricky_sentences, word_errors, words

VOICE = "af_heart"

SENTENCES = tricky_sentences()  # tests/tricky_sentences.json, which the tests read too


def comparable(text: str) -> str:
    """A reference or transcript as compared: normalized, then words only."""
    return " ".join(words(normalize(text)))


async def speak(engine: Engine, text: str) -> np.ndarray:
    synthesis = await engine.open(text, VOICE, 1.0)
    return np.concatenate([chunk async for chunk in synthesis])


def main() -> None:
    engine = Engine.load(Settings(offline=True, _env_file=None))
    transcribe = load_whisper()
    rows, total_errors, total_words = [], 0, 0
    started = time.perf_counter()
    for sentence in SENTENCES:
        heard = transcribe(asyncio.run(speak(engine, sentence)))
        reference, hypothesis = comparable(sentence), comparable(heard)
        errors = word_errors(reference, hypothesis)
        total_errors += errors
        total_words += len(reference.split())
        rows.append((sentence, normalize(sentence), heard, errors, len(reference.split())))
        print(f"{errors}/{len(reference.split())}  {sentence!r} → {heard!r}", flush=True)
    engine.close()
    wer = total_errors / total_words
    print(f"WER {wer:.1%} ({total_errors}/{total_words} words) in {time.perf_counter() - started:.0f} s")
    write_report(rows, wer, total_errors, total_words)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ⏎ ")


def write_report(rows, wer: float, errors: int, total: int) -> None:
    lines = [
        "# Pronunciation",
        "",
        "How the server reads text, and how well: a speech-to-text round trip over tricky sentences.",
        "",
        "## The reading pipeline",
        "",
        "1. **Normalization** (`text/normalize.py`): numbers, money, dates, times, units, abbreviations, "
        "acronyms, URLs, e-mail addresses, phone numbers, Roman numerals and Markdown become the words a "
        "careful reader would say.",
        "2. **Custom pronunciations** (`text/lexicon.py`): the request's `lexicon`, then the server's "
        "(`--lexicon FILE` / `KOKORO_LEXICON`), map words to phonemes in Kokoro/misaki notation, e.g. "
        '`{\"Kokoro\": \"kˈOkəɹO\"}`. Whole words match in any case (a possessive *\'s* may follow); keys '
        "are normalized like the text, so `GPT-4` matches *GPT four*. Matches become misaki's inline markup "
        "`[word](/phonemes/)`, which you may also write in the input yourself. Phonemes may only use "
        "symbols of Kokoro's vocabulary (no punctuation); anything else is a 400 naming `lexicon`.",
        "3. **Heteronyms** (`text/heteronyms.py`): misaki picks most from spaCy's part-of-speech tag "
        "(*live* concert / we *live*, *close* the door / *close* to home, *tear*, *wind*, *record*, "
        "*object*). A few context rules fix what the tags get wrong: present-tense *read* after I/we/you/"
        "they in a habitual sentence (\"I read every day\"), the metal *lead* (\"lead is heavy\", \"lead "
        "pipes\", \"made of lead\"), and the musical *bass* (\"bass player\", \"plays bass\").",
        "4. **G2P**: misaki (American or British lexicon, espeak-ng for unknown words); espeak-ng for the "
        "other languages, where custom pronunciations are honoured too.",
        "",
        "`POST /v1/audio/phonemize` with `{\"input\", \"voice\", \"lexicon\"}` returns `normalized` (the "
        "text the G2P reads, custom pronunciations marked), `phonemes` and `tokens`, without synthesizing. "
        "Those phonemes, edited or not, can be spoken with `POST /v1/audio/speech` and "
        "`\"input_is_phonemes\": true`: the input is then only cut into pieces (symbols outside the "
        "vocabulary are dropped; an input with none is a 400 naming `input`).",
        "",
        "Known limits: heteronyms the tagger gets wrong and no rule covers (e.g. *read* after I/we/you/they "
        "with no time word is read as past tense; *lead* as a noun is the verb's /lˈid/ unless the metal is "
        "clear from a neighbouring word); abbreviations ending a sentence are sometimes kept as letters "
        "(\"12 x 15 ft.\").",
        "",
        "## Round trip",
        "",
        "Generated by `bench/pronunciation.py`. Each sentence is synthesized by the engine (voice "
        f"`{VOICE}`) and transcribed by Whisper tiny.en. The reference is `normalize(sentence)`; the "
        "transcript is normalized too (Whisper writes some numbers as digits); both are lowercased, "
        "stripped of punctuation and compared by word error rate (hyphenated words count as two).",
        "",
        f"**Overall WER: {wer:.1%}** ({errors} word errors in {total} reference words, {len(rows)} sentences; "
        f"{platform.machine()}, Python {platform.python_version()}).",
        "",
        "Whisper tiny is a small model: some errors are the listener's, not the speaker's (it may hear "
        "\"Bye milk\" for \"Buy milk\", or a euro sign as a dollar).",
        "",
        "| # | Input | Normalized (reference) | Whisper heard | Errors / words |",
        "|---|---|---|---|---|",
    ]
    for i, (sentence, normalized, heard, errs, words_) in enumerate(rows, 1):
        lines.append(f"| {i} | `{_cell(sentence)}` | {_cell(normalized)} | {_cell(heard)} | {errs} / {words_} |")
    (REPO / "docs" / "pronunciation.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())

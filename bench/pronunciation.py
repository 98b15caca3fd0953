"""Speech-to-text round trip on real-world sentences: does the server say what a careful reader would? Three
normalizers (this checkout's, `--previous REV`'s, Kokoro-FastAPI's: `--fastapi GIT_DIR`), heard by Whisper; docs/
pronunciation.md says how. Fills it and writes docs/bench/pronunciation.json. Run: flock /tmp/cpu.lock
.venv/bin/python bench/pronunciation.py [--previous REV] [--fastapi GIT_DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from kokoro_speech.config import Settings
from kokoro_speech.pipeline.engine import Engine
from kokoro_speech.text.markup import MARKUP
from kokoro_speech.text.normalize import normalize
from kokoro_speech.text.split import split_sentences

import normalizers
from harness import REPO, edit_errors, load_whisper
from pages import fill, table

VOICE = "af_heart"
SET = REPO / "tests" / "pronunciation_set.json"  # also read by tests/test_pronunciation.py
RESULTS = REPO / "docs" / "bench" / "pronunciation.json"  # the last run's figures: --report renders them again
FASTAPI_REV = "v0.8.0"
PREVIOUS = "6fa2c90"  # main before the second pass over real-world text (issue 28)
NAMES = {"this": "this branch", "previous": "previous release", "fastapi": f"Kokoro-FastAPI {FASTAPI_REV}",
         "reading": "a careful reader"}


# letters said alone, as Whisper may write them ("one O one", "queue and A"), and homophones no normalizer can
# tell apart ("sweet four oh five"); both sides are mapped alike
HEARD_AS = {"o": "oh", "queue": "q", "cue": "q", "be": "b", "bee": "b", "sweet": "suite"}


def words(text: str, read: bool = True) -> list[str]:
    """Lowercase words without punctuation, written forms read aloud first (unless not `read`); "twenty-four"
    is two words."""
    text = MARKUP.sub(r"\1", normalize(text) if read else text).lower().replace("-", " ").replace("’", "'")
    text = re.sub(r"\b([ap])\.?\s?m\b\.?", r"\1m", text)  # "a.m.", "a m", "AM"
    found = [HEARD_AS.get(w, w) for w in re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text)]
    # letters said one by one ("U A", "RTX" as Whisper writes it) are one word
    return re.sub(r"\b(\w) (?=\w\b)", r"\1", " ".join(found)).split()


def score(readings: list[str], heard: str, read: bool = True) -> tuple[int, int]:
    """(errors, reference words) against the closest accepted reading; the written forms of `heard` (Whisper's
    "Mr.", "a.m.") are read first unless not `read` (a normalizer's output is scored as it is)."""
    hypothesis = words(heard, read)
    return min((edit_errors(words(r), hypothesis), len(words(r))) for r in readings)


# Whisper writes numbers as digits ("$5"), hiding how they were said: with every token holding a digit, currency,
# percent or degree sign suppressed it writes words, and this prompt keeps it from stalling where it wanted a digit
PROMPT = "Every number is written out in words, like seventy-three, twelve dollars and eight percent."
NOT_WRITTEN = set("$£€¥₹%°#")


def listener():
    """Whisper tiny.en, numbers written in words: a function from 24 kHz samples and the expected length in words
    to the transcript. A transcript under two thirds of that length (Whisper stopped where it wanted a digit) is
    heard again with a beam search, the same for every normalizer."""
    hear = load_whisper(prompt=PROMPT, suppress=lambda token: any(c.isdigit() or c in NOT_WRITTEN for c in token))

    def transcribe(samples: np.ndarray, expected_words: int) -> str:
        heard = hear(samples)
        if len(words(heard)) < 2 * expected_words / 3:
            heard = max(heard, hear(samples, beam=5), key=lambda text: len(words(text)))
        return heard

    return transcribe


async def speak(engine: Engine, phonemes: str) -> np.ndarray:
    synthesis = await engine.open(phonemes, VOICE, 1.0, input_is_phonemes=True)
    return np.concatenate([chunk async for chunk in synthesis])


def normalized_by_each(texts: list[str], previous: str, fastapi: Path | None) -> dict[str, list[str]]:
    spoken = {"this": [normalize(t) for t in texts]}
    with tempfile.TemporaryDirectory() as folder:
        source = normalizers.extract(REPO, previous, ("src/kokoro_speech",), Path(folder) / "previous")
        spoken["previous"] = normalizers.run("previous", source, texts)
        if fastapi is not None:
            source = normalizers.extract(fastapi, FASTAPI_REV, normalizers.FASTAPI_FILES, Path(folder) / "fastapi")
            spoken["fastapi"] = normalizers.run("fastapi", source, texts)
    return spoken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--previous", default=PREVIOUS, help=f"git revision of the previous release ({PREVIOUS})")
    parser.add_argument("--fastapi", type=Path, help="a git clone of remsky/Kokoro-FastAPI (its v0.8.0 is read)")
    parser.add_argument("--report", action="store_true", help=f"only re-render the page from {RESULTS.name}")
    args = parser.parse_args()
    if args.report:
        saved = json.loads(RESULTS.read_text(encoding="utf-8"))
        return write_report(saved["cases"], saved["results"], saved["summary"], saved["previous"], saved["machine"])
    cases = json.loads(SET.read_text(encoding="utf-8"))
    spoken = normalized_by_each([c["text"] for c in cases], args.previous, args.fastapi)
    # the floor: each sentence's first accepted reading itself, spoken by the same engine and heard by the same ear
    spoken["reading"] = [c["readings"][0] for c in cases]
    engine, transcribe = Engine.load(Settings(offline=True, _env_file=None)), listener()
    heard_for: dict[str, str] = {}  # the same normalized text is spoken and heard once
    results = {name: [] for name in spoken}
    started = time.perf_counter()
    for i, case in enumerate(cases):
        for name, texts in spoken.items():
            text = texts[i]
            if text not in heard_for:
                phonemes = " ".join(engine.phonemizers.phonemize(s, "a") for s in split_sentences(text))
                expected = min(len(words(r)) for r in case["readings"])
                heard_for[text] = transcribe(asyncio.run(speak(engine, phonemes)), expected) if phonemes.strip() else ""
            heard, reading = heard_for[text], score(case["readings"], text, read=False)
            errors = score(case["readings"], heard)
            results[name].append({"normalized": text, "heard": heard, "reading": reading, "errors": errors})
            print(f"{name:8} {errors[0]}/{errors[1]}  {case['text']!r} → {heard or text!r}", flush=True)
    engine.close()
    summary = summarize(cases, results)
    for name, row in summary.items():
        print(f"{NAMES[name]}: WER {row['all']['wer']:.3f}, reading {row['all']['reading']:.3f}")
    print(f"{time.perf_counter() - started:.0f} s")
    machine = f"{platform.machine()}, Python {platform.python_version()}"
    RESULTS.write_text(json.dumps({"previous": args.previous, "machine": machine, "cases": cases, "summary": summary,
                                   "results": results}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    write_report(cases, results, summary, args.previous, machine)


def summarize(cases: list[dict], results: dict[str, list[dict]]) -> dict[str, dict[str, dict[str, float]]]:
    """Per normalizer and category (and "all"): WER and reading error rate."""
    summary = {}
    for name, rows in results.items():
        sums = defaultdict(lambda: [0, 0, 0])
        for case, row in zip(cases, rows, strict=True):
            for key in (case["category"], "all"):
                sums[key][0] += row["errors"][0]
                sums[key][1] += row["reading"][0]
                sums[key][2] += row["errors"][1]
        summary[name] = {key: {"wer": e / n, "reading": r / n, "words": n} for key, (e, r, n) in sums.items()}
    return summary


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ⏎ ").replace("`", "ˋ")


def write_report(cases, results, summary, previous: str, machine: str) -> None:
    """Fills docs/pronunciation.md's regions: the summary per category, the sentences one by one."""
    names = list(results)
    counts = Counter(case["category"] for case in cases) | {"all": len(cases)}
    by_category = [[f"**{c}**" if c == "all" else c, counts[c], summary[names[0]][c]["words"],
                    *(f"{summary[n][c][k]:.3f}" for k in ("wer", "reading") for n in names)]
                   for c in sorted(counts.keys() - {"all"}) + ["all"]]
    this, floor = summary["this"]["all"], summary["reading"]["all"]
    # only when the normalizer is right every time can the round trip's errors be put on the speech and the ear
    this_branch = "" if this["reading"] else (
        f"This branch writes an accepted reading for every sentence (reading {this['reading']:.3f}): its round-trip "
        f"errors ({this['wer']:.3f}, target 0.012) are in the speech or in the listening, as a careful reader's are "
        f"({floor['wer']:.3f} in the same run), e.g. Whisper tiny hearing \"one oh one\" as \"one-on-one\".")
    by_sentence = [[i + 1, case["category"], f"`{_cell(case['text'])}`", _cell(results["this"][i]["normalized"]),
                    _cell(results["this"][i]["heard"]), "{} / {}".format(*results["this"][i]["errors"]),
                    *(results[n][i]["errors"][0] if n in results else "" for n in ("previous", "fastapi"))]
                   for i, case in enumerate(cases)]
    fill(REPO / "docs" / "pronunciation.md", previous=previous, sentences=str(len(cases)), machine=machine,
         summary=table(["Category", "Sentences", "Words", *(f"{k} {NAMES[n]}" for k in ("WER", "reading")
                                                             for n in names)], by_category),
         this_branch=this_branch,
         cases=table(["#", "Category", "Input", "Normalized", "Whisper heard", "Errors / words", "previous",
                      "FastAPI"], by_sentence))


if __name__ == "__main__":
    sys.exit(main())

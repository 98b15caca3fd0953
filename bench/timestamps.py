"""Word timestamp accuracy: the server's word start times against Whisper's own word timings on the same audio.

Each text (the 34 tricky sentences of tests/tricky_sentences.json, with prices, dates, units and abbreviations,
and 8 multi-sentence prose paragraphs of bench/texts.py, which cross pieces and pauses) is synthesized by the
engine with timestamps (voice af_heart; the paragraphs also at speed 1.4), exactly as the server streams it:
trimmed pieces, pauses between them. faster-whisper (tiny.en, word_timestamps=True) transcribes the audio; its
words are matched to the returned items by a diff over their letters and digits, and each matched pair gives
|start − Whisper's start|. Writes docs/timestamps.md. Run: .venv/bin/python bench/timestamps.py
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from difflib import SequenceMatcher

import numpy as np

from kokoro_speech.config import Settings
from kokoro_speech.pipeline.engine import Engine

from harness import REPO, load_whisper, machine, percentile, tricky_sentences
from texts import TEXTS

VOICE = "af_heart"
TARGET_MEDIAN = 0.10
PROSE = [t for t in TEXTS if t.count(". ") >= 1][:8]
CASES = ([("mixed", t, 1.0) for t in tricky_sentences()] + [("prose", t, 1.0) for t in PROSE]
         + [("prose ×1.4", t, 1.4) for t in PROSE])


def key(word: str) -> str:
    return re.sub(r"[^a-z0-9]", "", word.lower())


async def synthesize(engine: Engine, text: str, speed: float) -> tuple[np.ndarray, list]:
    synthesis = await engine.open(text, VOICE, speed, timestamps=True)
    chunks, items = [], []
    async for chunk in synthesis:
        chunks.append(chunk)
        items += synthesis.take_words()
    return np.concatenate(chunks), items + synthesis.take_words()


def main() -> None:
    # accuracy, not speed, is measured: no admission refusal when other work shares the machine
    engine = Engine.load(Settings(offline=True, _env_file=None, max_first_audio_seconds=3600,
                                  max_request_seconds=3600))
    whisper = load_whisper(words=True)
    rows, errors, end_errors, by_kind = [], [], [], {}
    started = time.perf_counter()
    for kind, text, speed in CASES:
        audio, items = asyncio.run(synthesize(engine, text, speed))
        heard = whisper(audio)
        ours, theirs = [key(i.word) for i in items], [key(w[0]) for w in heard]
        pairs = [(items[a + k], heard[b + k]) for a, b, n in SequenceMatcher(None, ours, theirs, autojunk=False)
                 .get_matching_blocks() for k in range(n) if ours[a + k]]
        diffs = [abs(item.start_time - w[1]) for item, w in pairs]
        errors += diffs
        end_errors += [abs(item.end_time - w[2]) for item, w in pairs]
        by_kind.setdefault(kind, []).extend(diffs)
        rows.append((kind, speed, text, len(items), len(pairs), float(np.median(diffs)) if diffs else float("nan")))
        print(f"{kind:11} {len(pairs):3}/{len(items):3} matched, median {rows[-1][-1]:.3f} s  {text[:60]}",
              file=sys.stderr)
    engine.close()
    write_report(rows, errors, end_errors, by_kind, time.perf_counter() - started)


def write_report(rows, errors, end_errors, by_kind, seconds: float) -> None:
    median, p90 = percentile(errors, 50), percentile(errors, 90)
    verdict = "meets" if median <= TARGET_MEDIAN else "misses"
    lines = [
        "# Word timestamps: accuracy against Whisper",
        "",
        "Written by `bench/timestamps.py` in one run; figures are not edited by hand.",
        "",
        f"**Median |start − Whisper's start| = {median:.3f} s, 90th percentile {p90:.3f} s** over {len(errors)} "
        f"matched words of {len(rows)} texts; the target, a median of at most {TARGET_MEDIAN:.2f} s including every "
        f"shift the server adds (trim, pauses, piece joins, speed), {verdict}. "
        f"Ends: median |end − Whisper's end| {percentile(end_errors, 50):.3f} s, 90th percentile "
        f"{percentile(end_errors, 90):.3f} s.",
        "",
        "| texts | matched words | median | 90th percentile |",
        "|---|---:|---:|---:|",
    ]
    for kind, diffs in by_kind.items():
        lines.append(f"| {kind} | {len(diffs)} | {percentile(diffs, 50):.3f} s | {percentile(diffs, 90):.3f} s |")
    lines += [
        "",
        "## How it is measured",
        "",
        f"Each text is synthesized by the engine with timestamps (voice {VOICE}), exactly as the server streams "
        "it: the model's phoneme durations time each word, then each piece's trimmed silence, the pauses between "
        "pieces and the speed shift the times. The texts: the 34 tricky sentences of `tests/tricky_sentences.json` "
        "(prices, dates, times, units, abbreviations, acronyms, URLs, Markdown) and 8 prose paragraphs of "
        "`bench/texts.py` at speed 1 and at speed 1.4 (several pieces and pauses each). Whisper tiny.en "
        "(faster-whisper, int8, `word_timestamps=True`, beam size 1, no VAD) transcribes the same samples. Its "
        "words are matched to the items by a diff over their letters and digits; only matched pairs count (an "
        "item such as `$5.99` matches when Whisper writes it so; items Whisper hears differently are left out). "
        "Whisper's own word timings come from cross-attention and are themselves off by some tens of "
        "milliseconds, so these figures bound the error from above. Synthesis and transcription are deterministic "
        "(the same run gives the same figures), so the spread worth reading is the one across texts, below.",
        "",
        "## Per text",
        "",
        "| texts | speed | items | matched | median | text |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for kind, speed, text, items, matched, med in rows:
        shown = text if len(text) <= 70 else text[:67] + "..."
        shown = shown.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {kind} | {speed:g} | {items} | {matched} | {med:.3f} s | {shown} |")
    lines += ["", f"Machine: {machine()}; the run took {seconds:.0f} s.", ""]
    (REPO / "docs" / "timestamps.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"median {median:.3f} s, p90 {p90:.3f} s over {len(errors)} words", file=sys.stderr)


if __name__ == "__main__":
    main()

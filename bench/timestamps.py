"""Word timestamp accuracy: the server's word start times against Whisper's word timings on the same audio;
docs/timestamps.md says how. Fills that page. Run: .venv/bin/python bench/timestamps.py (QUICK=1: a smoke test)
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from difflib import SequenceMatcher

import numpy as np

from kokoro_speech.config import Settings
from kokoro_speech.pipeline.engine import Engine

from harness import QUICK, REPO, load_whisper, machine, percentile
from pages import fill, table
from texts import TEXTS

VOICE = "af_heart"
TARGET_MEDIAN = 0.10
PROSE = [t for t in TEXTS if t.count(". ") >= 1][:8]
TRICKY = json.loads((REPO / "tests" / "tricky_sentences.json").read_text(encoding="utf-8"))  # prices, dates, URLs...
CASES = ([("mixed", t, 1.0) for t in TRICKY] + [("prose", t, 1.0) for t in PROSE]
         + [("prose ×1.4", t, 1.4) for t in PROSE])
if QUICK:  # a smoke run: two texts of each kind
    CASES = [case for kind in ("mixed", "prose", "prose ×1.4") for case in [c for c in CASES if c[0] == kind][:2]]


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
    kinds = [[kind, len(diffs), f"{percentile(diffs, 50):.3f} s", f"{percentile(diffs, 90):.3f} s"]
             for kind, diffs in by_kind.items()]
    texts = [[kind, f"{speed:g}", items, matched, f"{med:.3f} s",
              (text if len(text) <= 70 else text[:67] + "...").replace("|", "\\|").replace("\n", " ")]
             for kind, speed, text, items, matched, med in rows]
    fill(REPO / "docs" / "timestamps.md", summary=(
        f"**Median |start − Whisper's start| = {median:.3f} s, 90th percentile {p90:.3f} s** over {len(errors)} "
        f"matched words of {len(rows)} texts; the target, a median of at most {TARGET_MEDIAN:.2f} s including every "
        f"shift the server adds (trim, pauses, piece joins, speed), {verdict}. "
        f"Ends: median |end − Whisper's end| {percentile(end_errors, 50):.3f} s, 90th percentile "
        f"{percentile(end_errors, 90):.3f} s."),
        kinds=table(["texts", "matched words", "median", "90th percentile"], kinds, "lrrr"),
        sentences=f"the {len(TRICKY)} tricky sentences",
        texts=table(["texts", "speed", "items", "matched", "median", "text"], texts, "lrrrrl"),
        machine=f"{machine()}; the run took {seconds:.0f} s")
    print(f"median {median:.3f} s, p90 {p90:.3f} s over {len(errors)} words", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Several voices in one request: first audio of a two-voice dialogue vs. the same text in one voice, and that
the turns are heard in their own voices (pitch measured per turn against each voice speaking alone).

In one run, one server process, interleaved (REPEATS rounds, medians):
  one voice   POST /v1/audio/speech, the turns' texts joined, voice af_heart, pcm: time to the first audio byte
  dialogue    POST /dev/dialogue, the same turns alternating af_heart / am_adam, pcm: time to the first byte
  tags        POST /v1/audio/speech with the same text written with [voice:] tags, allow_voice_tags
Target: dialogue / one voice <= 1.2. Pitch: each turn's median F0 in the dialogue against the same sentence said
alone by its voice. Writes docs/dialogue.md. Run: .venv/bin/python bench/dialogue.py
"""

from __future__ import annotations

import statistics
import time

import httpx
import numpy as np

from harness import REPO, Server, machine, pitch

PORT = 8893
REPEATS = 11
VOICES = ("af_heart", "am_adam")
TURNS = [
    "Did you hear that noise coming from the attic last night?",
    "I did. I thought it was the wind, but the windows were all closed.",
    "Then we should go up and have a look before it gets dark.",
    "Fine, but you are going first, and I am bringing the big torch.",
]
PAUSE = 0.6


def first_byte(url: str, body: dict) -> tuple[float, bytes]:
    started = time.perf_counter()
    first, audio = None, bytearray()
    with httpx.stream("POST", url, json=body, timeout=300) as response:
        response.raise_for_status()
        for chunk in response.iter_raw():
            if chunk and first is None:
                first = time.perf_counter() - started
            audio += chunk
    return first, bytes(audio)


def pcm(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768


def turns_of(audio: np.ndarray, count: int) -> list[np.ndarray]:
    """The dialogue cut at its `count - 1` longest runs of digital silence (the pauses between turns)."""
    quiet = np.concatenate([[0], (np.abs(audio) < 2 / 32768).astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(quiet))
    runs = sorted(zip(edges[1::2] - edges[::2], edges[::2], edges[1::2], strict=True), reverse=True)[: count - 1]
    cuts = sorted((start + end) // 2 for _, start, end in runs)
    return np.split(audio, cuts)


def main() -> None:
    turns = [{"voice": VOICES[i % 2], "text": text} for i, text in enumerate(TURNS)]
    tagged = f" [pause:{PAUSE}s] ".join(f"[voice:{t['voice']}] {t['text']}" for t in turns)
    server = Server(PORT)
    try:
        speech, dialogue = f"{server.url}/v1/audio/speech", f"{server.url}/dev/dialogue"
        one = {"model": "tts-1", "voice": VOICES[0], "input": " ".join(TURNS), "response_format": "pcm"}
        two = {"turns": turns, "pause_between_turns": PAUSE, "response_format": "pcm"}
        tags = {**one, "input": tagged, "allow_voice_tags": True}
        first_byte(speech, one)  # warm up
        times: dict[str, list[float]] = {"one voice": [], "dialogue": [], "tags": []}
        for _ in range(REPEATS):
            times["one voice"].append(first_byte(speech, one)[0])
            times["dialogue"].append(first_byte(dialogue, two)[0])
            times["tags"].append(first_byte(speech, tags)[0])
        _, audio = first_byte(dialogue, two)
        said = turns_of(pcm(audio), len(TURNS))
        alone = [pitch(pcm(first_byte(speech, {**one, "voice": t["voice"], "input": t["text"]})[1])) for t in turns]
    finally:
        server.stop()
    heard = [pitch(turn) for turn in said]
    write_report(times, turns, heard, alone)


def write_report(times: dict[str, list[float]], turns: list[dict], heard: list[float], alone: list[float]) -> None:
    median = {name: statistics.median(values) for name, values in times.items()}
    ratio = median["dialogue"] / median["one voice"]
    tag_ratio = median["tags"] / median["one voice"]
    rows = "\n".join(f"| {name} | {median[name]:.3f} | {min(values):.3f} | {max(values):.3f} |"
                     for name, values in times.items())
    pitch_rows = "\n".join(
        f"| {i + 1} | {t['voice']} | {h:.0f} | {a:.0f} | {h / a - 1:+.0%} |"
        for i, (t, h, a) in enumerate(zip(turns, heard, alone, strict=True)))
    female = statistics.median(h for t, h in zip(turns, heard, strict=True) if t["voice"] == VOICES[0])
    male = statistics.median(h for t, h in zip(turns, heard, strict=True) if t["voice"] == VOICES[1])
    report = f"""# Several voices in one request: first audio and who is heard

`bench/dialogue.py`, one run on {machine()}. One server process; the three requests interleaved,
{REPEATS} rounds, medians. pcm, time from the request to the first audio byte.

The text: {len(TURNS)} turns ({sum(map(len, TURNS))} characters) alternating {VOICES[0]} and {VOICES[1]},
{PAUSE} s between turns.

| request | first audio, median (s) | min | max |
|---|---|---|---|
{rows}

- **dialogue / one voice: {ratio:.2f}×** (target ≤ 1.2×){' — met' if ratio <= 1.2 else ' — NOT met'}.
- tags on /v1/audio/speech / one voice: {tag_ratio:.2f}× (the same work as the dialogue: its text with the tags
  written out).

The machine's cores are shared with other work while this runs: single rounds vary by up to 2-3× (the max
column), so compare the medians.

Why it is close to 1: the first piece of a dialogue is as short as a single voice's first piece (the same
budget); every voice the text names is resolved before it (a lookup in the loaded packs; a blend is one weighted
sum of 0.5 MB tables), and later turns are phonemized while earlier ones are spoken.

## The turns are two voices

Each turn's median pitch (autocorrelation over voiced 40 ms frames) in the dialogue's audio, against the same
sentence said alone by that voice:

| turn | voice | in the dialogue (Hz) | alone (Hz) | difference |
|---|---|---|---|---|
{pitch_rows}

The {VOICES[0]} turns' median is {female:.0f} Hz and the {VOICES[1]} turns' {male:.0f} Hz
({female / male:.2f}×): the turns differ as the voices themselves do.
"""
    (REPO / "docs" / "dialogue.md").write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()

"""Several voices in one request: first audio of a two-voice dialogue (POST /dev/dialogue) and of the same turns
written with [voice:] tags, against the same text in one voice, interleaved, medians; and that the turns are heard
in their own voices (each turn's pitch against its voice saying it alone). Target: dialogue / one voice <= 1.2.
Fills docs/dialogue.md's tables and figures. Run: .venv/bin/python bench/dialogue.py
"""

from __future__ import annotations

import statistics

import numpy as np

from harness import REPO, Server, decode, machine, pitch, request
from pages import fill, table

PORT, REPEATS = 8893, 11
VOICES = ("af_heart", "am_adam")
TURNS = [
    "Did you hear that noise coming from the attic last night?",
    "I did. I thought it was the wind, but the windows were all closed.",
    "Then we should go up and have a look before it gets dark.",
    "Fine, but you are going first, and I am bringing the big torch.",
]
PAUSE = 0.6


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
    one = {"model": "tts-1", "voice": VOICES[0], "input": " ".join(TURNS), "response_format": "pcm"}
    requests = {"one voice": ("/v1/audio/speech", one),
                "dialogue": ("/dev/dialogue", {"turns": turns, "pause_between_turns": PAUSE, "response_format": "pcm"}),
                "tags": ("/v1/audio/speech", {**one, "input": tagged, "allow_voice_tags": True})}
    with Server(PORT) as server:
        request(server.url + "/v1/audio/speech", one, check=True)  # warm up
        times: dict[str, list[float]] = {name: [] for name in requests}
        for _ in range(REPEATS):
            for name, (path, body) in requests.items():
                times[name].append(request(server.url + path, body, timeout=300, check=True).first_byte)

        def samples(path: str, body: dict) -> np.ndarray:
            return decode(request(server.url + path, body, timeout=300, check=True).data, "pcm").samples

        said = turns_of(samples(*requests["dialogue"]), len(TURNS))
        alone = [pitch(samples("/v1/audio/speech", {**one, "voice": t["voice"], "input": t["text"]})) for t in turns]
    write_report(times, turns, [pitch(turn) for turn in said], alone)


def write_report(times: dict[str, list[float]], turns: list[dict], heard: list[float], alone: list[float]) -> None:
    median = {name: statistics.median(values) for name, values in times.items()}
    ratio = median["dialogue"] / median["one voice"]
    by_voice = [statistics.median(h for t, h in zip(turns, heard, strict=True) if t["voice"] == v) for v in VOICES]
    fill(REPO / "docs" / "dialogue.md", machine=machine(), rounds=str(REPEATS),
         text=f"{len(TURNS)} turns ({sum(map(len, TURNS))} characters) alternating {VOICES[0]} and {VOICES[1]},\n"
              f"{PAUSE} s",
         times=table(["request", "first audio, median (s)", "min", "max"],
                     [[name, *(f"{x:.3f}" for x in (median[name], min(v), max(v)))] for name, v in times.items()]),
         ratio=f"{ratio:.2f}×** (target ≤ 1.2×) — {'met' if ratio <= 1.2 else 'NOT met'}",
         tag_ratio=f"{median['tags'] / median['one voice']:.2f}×",
         pitch=table(["turn", "voice", "in the dialogue (Hz)", "alone (Hz)", "difference"],
                     [[i + 1, t["voice"], f"{h:.0f}", f"{a:.0f}", f"{h / a - 1:+.0%}"]
                      for i, (t, h, a) in enumerate(zip(turns, heard, alone, strict=True))]),
         voices=f"The {VOICES[0]} turns' median is {by_voice[0]:.0f} Hz and the {VOICES[1]} turns' {by_voice[1]:.0f} "
                f"Hz\n({by_voice[0] / by_voice[1]:.2f}×)")


if __name__ == "__main__":
    main()

"""Where the memory goes, by language: what each reading language's G2P adds to resident memory (alone and in a
server) and what its pieces cost in the model; docs/languages.md says how. Fills it from docs/languages.json.

Run: .venv/bin/python bench/languages.py [--report-only]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import httpx

from kokoro_speech.kokoro import LANGUAGES

from harness import REPO, Server, machine, request, reset_peak
from pages import fill, table
from texts import LANGUAGE_TEXTS, TEXTS

RAW = REPO / "docs" / "languages.json"
VOICES = {"a": "af_heart", "b": "bf_emma", "e": "ef_dora", "f": "ff_siwis", "h": "hf_alpha", "i": "if_sara",
          "p": "pf_dora", "j": "jf_alpha", "z": "zf_xiaoxiao"}
PARAGRAPHS = {"a": TEXTS[18], "b": TEXTS[18]} | {letter: texts[1] for letter, texts in LANGUAGE_TEXTS.items()}
ALONE = """import os, sys
sys.path.insert(0, {tests!r})
from support import proc_status
from kokoro_speech.text.phonemize import Phonemizers
phonemizers, before = Phonemizers(), proc_status(os.getpid())["rss_mb"]
phonemizers.phonemize({text!r}, {letter!r})
print(proc_status(os.getpid())["rss_mb"] - before)
"""


def g2p_alone(letter: str) -> float:
    """MB the G2P of `letter` adds to a fresh Python process on its first sentence."""
    code = ALONE.format(tests=str(REPO / "tests"), text=PARAGRAPHS[letter][:60], letter=letter)
    return float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)


def speak(server: Server, letter: str, speed: float, most_audio: float) -> tuple[float, float]:
    """(audio seconds read, peak MB above VmRSS before) for the paragraph at `speed`."""
    reset_peak(server.process.pid)
    before = server.state()["rss_mb"]
    body = {"input": PARAGRAPHS[letter], "voice": VOICES[letter], "response_format": "pcm", "speed": speed}
    reply = request(f"{server.url}/v1/audio/speech", body, most_audio=most_audio, timeout=600, check=True)
    return reply.audio, server.state()["peak_rss_mb"] - before


def in_server() -> dict:
    rows = {}
    with Server() as server:
        idle = server.state()["rss_mb"]
        for letter in "efhipjzab":
            before = server.state()["rss_mb"]
            reading = httpx.post(f"{server.url}/v1/audio/phonemize", timeout=120,
                                 json={"input": PARAGRAPHS[letter], "voice": VOICES[letter]}).json()
            g2p = server.state()["rss_mb"] - before
            audio, peak = speak(server, letter, 1.0, 1e9)
            _, slow_peak = speak(server, letter, 0.25, 30)
            rows[letter] = {"g2p": g2p, "tokens": reading["tokens"], "characters": len(PARAGRAPHS[letter]),
                            "frames_per_token": audio * 40 / reading["tokens"], "peak": peak, "slow_peak": slow_peak,
                            "after": server.state()["rss_mb"]}
            print(letter, rows[letter], flush=True)
        return {"idle": idle, "peak": server.sample_peak(), "languages": rows}


def report(alone: dict, server: dict, machine: str) -> None:
    rows = [[f"{LANGUAGES[k].name} (`{k}`)", f"{alone[k]:.0f}", f"{r['g2p']:.0f}",
             f"{r['tokens'] / r['characters']:.2f}", f"{r['frames_per_token']:.2f}", f"{r['peak']:.0f}",
             f"{r['slow_peak']:.0f}", f"{r['after']:.0f}"] for k, r in server["languages"].items()]
    fill(REPO / "docs" / "languages.md", machine=machine, idle=f"{server['idle']:.0f}",
         peak=f"{server['peak']:.0f}",
         table=table(["language", "G2P alone, MB", "G2P in the server, MB", "tokens per character",
                      "frames per token (speed 1)", "peak above before, speed 1, MB", "same at speed 0.25, MB",
                      "server after, MB"], rows, "lrrrrrrr"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--report-only", action="store_true", help="rewrite the page from docs/languages.json")
    if parser.parse_args().report_only:
        raw = json.loads(RAW.read_text())
    else:
        raw = {"alone": {letter: g2p_alone(letter) for letter in VOICES}, "machine": machine()}
        print(raw["alone"], flush=True)
        raw["server"] = in_server()
        RAW.write_text(json.dumps(raw, indent=1))
    report(**raw)


if __name__ == "__main__":
    main()

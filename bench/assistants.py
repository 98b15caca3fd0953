"""Voice assistants: text streamed in as an LLM writes it (tokens of 2-6 characters at 30 a second), over the
WebSocket route and Wyoming: the first clause's last token to the first audio byte, against the bare model on
that clause's first piece (floor), and whether real-time playback ever runs dry. Repeats interleave the three.
Fills docs/assistants.md's tables and figures. Run: .venv/bin/python bench/assistants.py (QUICK=1: 2 repeats)
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import random
import statistics
import time
from dataclasses import dataclass

import websockets
from wyoming.client import AsyncTcpClient
from wyoming.tts import SynthesizeChunk, SynthesizeStart, SynthesizeStop, SynthesizeVoice

from kokoro_speech.kokoro import to_token_ids
from kokoro_speech.text.incremental import TextBuffer

from harness import QUICK, REPO, SAMPLE_RATE, Server, floor_engine, machine, median_of, seconds
from pages import fill, table

VOICE = "af_heart"
PORT, WYOMING_PORT = 8893, 10293
REPEATS = 2 if QUICK else 7
FLOOR_RUNS = 3
TOKENS_PER_SECOND = 30
REPLY = ("Sure thing, the forecast for tomorrow looks bright: sunshine all morning with a light breeze from the "
         "south. Clouds gather in the afternoon, and there is a small chance of rain around five o'clock. If you "
         "head out in the evening, bring a light jacket just in case.")
FIRST_CLAUSE = TextBuffer().append(REPLY)[0].text  # the first unit the server speaks


def tokens(seed: int) -> list[str]:
    """REPLY cut in tokens of 2 to 6 characters."""
    rng, ends = random.Random(seed), [0]
    while ends[-1] < len(REPLY):
        ends.append(ends[-1] + rng.randint(2, 6))
    return [REPLY[start:end] for start, end in itertools.pairwise(ends)]


def clause_end_token(cut: list[str]) -> int:
    """The index of the token that holds the first clause's last character."""
    return next(i for i, sent in enumerate(itertools.accumulate(map(len, cut))) if sent >= len(FIRST_CLAUSE))


@dataclass
class Playback:
    """A client that starts playing at the first audio byte and plays in real time: does it ever run dry?"""

    first: float | None = None
    played_until: float = 0.0  # when the audio received so far will have finished playing
    dry_seconds: float = 0.0
    dry_times: int = 0
    audio_seconds: float = 0.0

    def receive(self, pcm_bytes: int) -> None:
        now = time.perf_counter()
        if self.first is None:
            self.first = self.played_until = now
        if now > self.played_until:  # the audio ran out before this chunk came
            self.dry_seconds += now - self.played_until
            self.dry_times += 1
            self.played_until = now
        seconds = pcm_bytes / 2 / SAMPLE_RATE
        self.played_until += seconds
        self.audio_seconds += seconds


async def converse(cut: list[str], send, end, audio) -> tuple[float, Playback]:
    """Sends each token at its time, 30 a second on the clock (`send`, then `end`), while the chunks of `audio`
    (pcm byte counts) are played: (first clause's last token sent → first audio, the playback)."""
    marks, playback = {}, Playback()

    async def feed() -> None:
        started, last = time.perf_counter(), clause_end_token(cut)
        for index, token in enumerate(cut):
            await asyncio.sleep(max(0.0, started + index / TOKENS_PER_SECOND - time.perf_counter()))
            await send(token)
            if index == last:
                marks["clause_sent"] = time.perf_counter()
        await end()

    feeding = asyncio.create_task(feed())
    async for size in audio:
        playback.receive(size)
    await feeding
    return playback.first - marks["clause_sent"], playback


async def over_websocket(cut: list[str]) -> tuple[float, Playback]:
    async with websockets.connect(f"ws://127.0.0.1:{PORT}/v1/audio/speech/stream", max_size=None) as ws:
        await ws.send(json.dumps({"type": "session.update", "voice": VOICE, "response_format": "pcm"}))

        async def audio():
            async for message in ws:
                event = json.loads(message)
                if event["type"] == "speech.audio.done":
                    return
                if event["type"] != "speech.audio.delta":
                    raise RuntimeError(f"the server said {event}")
                yield len(base64.b64decode(event["audio"]))

        return await converse(cut, lambda text: ws.send(json.dumps({"type": "input_text.append", "text": text})),
                              lambda: ws.send(json.dumps({"type": "input_text.end"})), audio())


async def over_wyoming(cut: list[str]) -> tuple[float, Playback]:
    async with AsyncTcpClient("127.0.0.1", WYOMING_PORT) as client:
        await client.write_event(SynthesizeStart(voice=SynthesizeVoice(VOICE)).event())

        async def audio():
            while (event := await client.read_event()).type != "synthesize-stopped":
                if event.type == "error":
                    raise RuntimeError(f"the server said {event.data}")
                if event.type == "audio-chunk":
                    yield len(event.payload)

        return await converse(cut, lambda text: client.write_event(SynthesizeChunk(text).event()),
                              lambda: client.write_event(SynthesizeStop().event()), audio())


def main() -> None:
    engine = floor_engine()
    voice = engine.resolve_voice(VOICE)
    piece = next(engine.pieces(FIRST_CLAUSE, voice))
    piece_tokens = to_token_ids(piece.phonemes)
    style = voice.style_for(len(piece_tokens))

    load_before, rows = os.getloadavg()[0], []
    with Server(PORT, "--wyoming-port", str(WYOMING_PORT)) as server:
        server.stream("Warm up.")
        asyncio.run(over_websocket(tokens(0)))  # the first of each kind pays for connections and imports
        asyncio.run(over_wyoming(tokens(0)))
        for repeat in range(1, REPEATS + 1):
            cut = tokens(repeat)
            floor = median_of(FLOOR_RUNS, seconds, engine.model, piece_tokens, style, 1.0)
            row = {"repeat": repeat, "clause_token": clause_end_token(cut) + 1, "floor": floor}
            for name, run in (("ws", over_websocket), ("wyoming", over_wyoming)):
                latency, playback = asyncio.run(run(cut))
                row[name] = latency
                row[f"{name}_dry"] = (playback.dry_times, playback.dry_seconds)
                row[f"{name}_audio"] = playback.audio_seconds
            rows.append(row)
            print(row, flush=True)
    engine.close()
    write_report(rows, len(piece_tokens), len(tokens(1)), (load_before, os.getloadavg()[0]))


def write_report(rows: list[dict], piece_tokens: int, token_count: int, load: tuple[float, float]) -> None:
    def median(key: str) -> float:
        return statistics.median(r[key] for r in rows)

    def ratio(name: str) -> str:
        return f"**{statistics.median(r[name] / r['floor'] for r in rows):.2f}**"

    def dry(name: str) -> str:
        times = sum(r[f"{name}_dry"][0] for r in rows)
        seconds = sum(r[f"{name}_dry"][1] for r in rows)
        return "never" if not times else f"{times} times in {len(rows)} runs, {seconds:.2f} s in all"

    summary = [["floor", f"{median('floor'):.3f}", "1.00", ""],
               ["WebSocket", f"{median('ws'):.3f}", ratio("ws"), dry("ws")],
               ["Wyoming", f"{median('wyoming'):.3f}", ratio("wyoming"), dry("wyoming")]]
    repeats = [[r["repeat"], r["clause_token"], f"{r['floor']:.3f}", f"{r['ws']:.3f}", f"{r['ws'] / r['floor']:.2f}",
                f"{r['wyoming']:.3f}", f"{r['wyoming'] / r['floor']:.2f}", f"{r['ws_dry'][0]} / {r['wyoming_dry'][0]}"]
               for r in rows]
    fill(REPO / "docs" / "assistants.md", machine=machine(), repeats=f"{len(rows)} repeats",
         tokens=f"{token_count} or so tokens", reply=f"> {REPLY}", clause=f'"{FIRST_CLAUSE}"',
         piece=f"{piece_tokens} phoneme tokens", audio=f"Audio per reply: {median('ws_audio'):.1f} s.",
         summary=table(["summary (medians)", "latency, s", "latency / floor", "playback ran dry"], summary),
         load=f"load average\n{load[0]:.1f} at the start, {load[1]:.1f} at the end, on {os.cpu_count()} cores",
         repeats_table=table(["repeat", "clause ends at token", "floor", "WebSocket", "ratio", "Wyoming", "ratio",
                              "ran dry (WS / Wyoming)"], repeats))


if __name__ == "__main__":
    main()

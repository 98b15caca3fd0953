"""How real clients ask: a reply's sentences sent at once by one client (Open WebUI) are all served, in the
order they arrived; the work estimate learns from what the model really made (real model and voices)."""

from __future__ import annotations

import asyncio
import time

import httpx

from conftest import API_KEY
from support import decode
from kokoro_speech.pipeline.work import WorkEstimate, prior_frames_per_character

# an assistant's reply, as Open WebUI splits it: one request per sentence
REPLY = [
    "Sure, here is how to repot a houseplant.",
    "First, pick a pot one size larger than the old one.",
    "Make sure it has a drainage hole at the bottom.",
    "Water the plant a day before, so the roots hold together.",
    "Turn the old pot on its side and ease the plant out.",
    "Loosen the outer roots gently with your fingers.",
    "Trim any roots that look dark or mushy.",
    "Put a layer of fresh soil in the new pot.",
    "Set the plant in so it sits at the same depth as before.",
    "Fill around it with soil, pressing lightly as you go.",
    "Water it well until water runs out of the bottom.",
    "Keep it out of direct sun for about a week.",
    "Do not fertilize for the first month.",
    "That's it, your plant should settle in nicely.",
]


def test_a_reply_sent_sentence_by_sentence_at_once_is_served_whole_and_in_order(keyed_server):
    async def main() -> tuple[list[int], list[int], list[bytes]]:
        headers = {"authorization": f"Bearer {API_KEY}"}
        async with httpx.AsyncClient(base_url=keyed_server.url, headers=headers, timeout=120) as http:
            responses = []
            for sentence in REPLY:  # each sent once the one before is admitted: all before the first is spoken
                body = {"model": "tts-1", "input": sentence, "voice": "af_heart", "response_format": "mp3"}
                responses.append(await http.send(http.build_request("POST", "/v1/audio/speech", json=body),
                                                 stream=True))
            finished: dict[int, float] = {}

            async def read(k: int, response: httpx.Response) -> bytes:
                data = await response.aread()
                finished[k] = time.monotonic()
                return data

            bodies = await asyncio.gather(*(read(k, r) for k, r in enumerate(responses)))
            return [r.status_code for r in responses], sorted(finished, key=finished.get), bodies

    statuses, order, bodies = asyncio.run(main())
    assert statuses == [200] * len(REPLY), statuses  # none refused: Open WebUI would not retry
    assert order == list(range(len(REPLY))), order  # the first sentence first, then each in turn
    for sentence, data in zip(REPLY, bodies, strict=True):
        assert 1.0 < decode(data, "mp3").duration < 0.12 * len(sentence), sentence


def test_what_a_finished_request_made_teaches_the_estimate(engine, monkeypatch):
    monkeypatch.setattr(engine, "work", WorkEstimate())
    text = "तेज़ भूरी लोमड़ी आलसी कुत्ते के ऊपर कूदती है। " * 2

    async def speak() -> float:
        synthesis = await engine.open(text, "hf_alpha", 0.5)
        async for _ in synthesis:
            pass
        return synthesis._ticket.frames_done

    frames = asyncio.run(speak())
    learned = engine.work.per_character("h", 0.5)
    assert learned != prior_frames_per_character("h", 0.5)
    assert abs(learned * len(text.strip()) - frames) < 0.05 * frames  # what the model made, per character


def test_admission_starts_from_this_machine_s_speed_measured_at_start(engine):
    """The prior is one machine's; a server starts from what one short piece cost on its own (pipeline/loading.py),
    about what a request's pieces then cost per frame (one CI run measured 0.78x their upper median)."""
    from kokoro_speech.kokoro import SAMPLES_PER_FRAME, to_token_ids
    from kokoro_speech.pipeline.loading import seconds_per_frame
    from kokoro_speech.text.split import Piece

    measured = seconds_per_frame(engine.model)
    voice = engine.resolve_voice("af_heart")
    costs = []
    for piece in [p for p in engine.pieces(" ".join(REPLY[:6]), voice, speed=1.0) if isinstance(p, Piece)]:
        tokens = to_token_ids(piece.phonemes)
        started = time.perf_counter()
        audio = engine.model(tokens, voice.style_for(len(tokens)), 1.0)
        costs.append((time.perf_counter() - started) / (audio.size / SAMPLES_PER_FRAME))
    typical = sorted(costs)[len(costs) // 2]
    assert 0.5 * typical <= measured <= 3 * typical, (measured, costs)

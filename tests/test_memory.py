"""The memory bound on the real model: a slow request's pieces are sized by the audio they make, so one request
at speed 0.25 (or an SSML span slowed to it, resampled to 48 kHz) keeps a fresh server under 1,000 MB
(bench/overload.py measures it under load too)."""

from __future__ import annotations

import httpx
import pytest

from support import READS_PROC, Server, proc_status
from kokoro_speech.kokoro import SAMPLES_PER_FRAME
from kokoro_speech.text.split import MAX_PIECE_FRAMES

BOUND_MB = 1000
PARAGRAPH = (
    "The mountain trail begins near the old mill and climbs steadily through pine forest. After about an hour, "
    "the trees thin out and the path opens onto a wide ridge with views across the whole valley. Most hikers "
    "stop there for lunch before heading back down. Our quarterly results were stronger than expected. Revenue "
    "grew across every region, customer satisfaction reached a record high, and we hired more than two hundred "
    "new people to keep up with demand."
)


SLOW_SSML = (f'<speak><prosody rate="x-slow">{PARAGRAPH}</prosody><break time="10s"/>'
             f'<prosody rate="50%">{PARAGRAPH[:300]}</prosody></speak>')
BODIES = {
    "speed": {"input": PARAGRAPH, "speed": 0.25},
    # x-slow (0.5) at speed 0.5: the same slowest pieces, chosen by a span; louder, and at twice the rate
    "ssml": {"input": SLOW_SSML, "speed": 0.5, "volume_multiplier": 4.0, "sample_rate": 48_000},
}


@pytest.mark.skipif(not READS_PROC, reason="reads /proc")
@pytest.mark.parametrize("kind", list(BODIES))
def test_one_slow_request_keeps_a_fresh_server_under_the_bound(kind):
    with Server() as server:
        body = {"voice": "af_heart", "response_format": "pcm", **BODIES[kind]}
        per_sample = 24_000 / body.get("sample_rate", 24_000)  # counted in 24 kHz samples
        samples = 0
        with httpx.stream("POST", f"{server.url}/v1/audio/speech", json=body, timeout=300) as response:
            assert response.status_code == 200
            for chunk in response.iter_bytes():
                samples += len(chunk) // 2 * per_sample
                # the piece budgets double up to their cap within the first few pieces: the peak is reached
                if samples > 6 * MAX_PIECE_FRAMES * SAMPLES_PER_FRAME:
                    break
        peak = proc_status(server.process.pid)["peak_rss_mb"]
        assert peak <= BOUND_MB, f"peak resident memory {peak:.0f} MB"


# One sentence a language, read by its own G2P (Japanese makes the most frames per token, Hindi the most tokens per
# character): at speed 0.25 the pieces are short, where each piece's edge frames weigh the most.
SENTENCES = {
    "af_heart": "The committee reviewed every proposal carefully, and after a long discussion they agreed to fund two.",
    "hf_alpha": "पहाड़ का रास्ता पुरानी चक्की के पास से शुरू होता है और चीड़ के जंगल से होकर लगातार ऊपर चढ़ता है।",
    "jf_alpha": "山道は古い水車小屋の近くから始まり、松林の中をゆっくりと登っていきます。",
    "zf_xiaoxiao": "山路从老磨坊附近开始，穿过松树林一路向上，走了大约一个小时以后，树木渐渐稀少。",
}


@pytest.mark.parametrize("voice", list(SENTENCES))
def test_no_piece_in_any_language_makes_more_frames_than_the_budget(engine, voice):
    from kokoro_speech.kokoro import to_token_ids
    from kokoro_speech.text.split import Piece

    spoken = engine.resolve_voice(voice)
    for speed in (0.25, 1.0):
        pieces = [p for p in engine.pieces(SENTENCES[voice] * (1 if speed < 1 else 3), spoken, speed=speed)
                  if isinstance(p, Piece)]
        frames = [engine.model(to_token_ids(p.phonemes), spoken.style_for(p.token_count), p.speed).size
                  / SAMPLES_PER_FRAME for p in pieces]
        assert max(frames) <= engine.max_piece_frames, (speed, frames)
        assert max(frames) > engine.max_piece_frames / 2  # the budget is used, not wasted

"""Time to first audio over the 20 texts of texts.py: our server (pcm and mp3, first audio byte) against the bare
model on the very first piece it speaks (floor) and kokoro-onnx's create_stream (peer), plus the real-time
margin on a 4,000-character text. Fills docs/ttfa.md. Run: .venv/bin/python bench/ttfa.py (QUICK=1: a smoke run)
"""

from __future__ import annotations

from kokoro_speech.kokoro import SAMPLE_RATE, to_token_ids

from harness import QUICK, REPO, Peer, Server, floor_engine, machine, median_of, model_file, percentile, seconds
from pages import fill, table
from texts import LONG_TEXT, TEXTS

VOICE = "af_heart"
PORT = 8891
REPEATS = 1 if QUICK else 3
PEER_REPEATS = 1  # the peer's first chunk is a whole batch of up to 510 tokens: slow, and steady
CASES = TEXTS[:3] if QUICK else TEXTS
LONG = LONG_TEXT[:600] if QUICK else LONG_TEXT


def main() -> None:
    # The floor: the same first piece our server speaks first, on a bare session.
    engine = floor_engine()
    model, voice = engine.model, engine.resolve_voice(VOICE)
    firsts = [to_token_ids(next(engine.pieces(text, voice)).phonemes) for text in CASES]
    first_tokens = [len(tokens) for tokens in firsts]
    floors = [median_of(REPEATS, seconds, model, tokens, voice.style_for(len(tokens)), 1.0) for tokens in firsts]
    engine.close()
    del engine, model

    with Peer(model_file(), VOICE, voice.styles) as peer:
        peer.first_chunk("Warm up the session.")
        peers = [median_of(PEER_REPEATS, peer.first_chunk, t) for t in CASES]

    with Server(PORT) as server:
        server.stream("Warm up.")
        pcm = [median_of(REPEATS, lambda t=t: server.stream(t, "pcm")[0]) for t in CASES]
        mp3 = [median_of(REPEATS, lambda t=t: server.stream(t, "mp3")[0]) for t in CASES]
        long_first, long_total, long_bytes = server.stream(LONG, "pcm")
    audio_seconds = long_bytes / 2 / SAMPLE_RATE
    margin = audio_seconds / (long_total - long_first)

    write_report(floors, first_tokens, pcm, mp3, peers, long_first, long_total, audio_seconds, margin)


def write_report(floors, first_tokens, pcm, mp3, peers, long_first, long_total, audio_seconds, margin) -> None:
    ratio_floor = [p / f for p, f in zip(pcm, floors, strict=True)]
    ratio_peer = [p / q for p, q in zip(pcm, peers, strict=True)]
    columns = (pcm, mp3, floors, peers, ratio_floor, ratio_peer)
    summary = [[name, *(f"{percentile(c, q):.2f}" for c in columns)] for name, q in (("p50", 50), ("p95", 95))]
    rows = [[i + 1, len(t), n, *(f"{x:.2f}" for x in (f, p, m, q, p / f, p / q))]
            for i, (t, n, f, p, m, q) in enumerate(zip(CASES, first_tokens, floors, pcm, mp3, peers, strict=True))]
    fill(REPO / "docs" / "ttfa.md", machine=machine(),
         runs=f"{REPEATS} runs per text (median; the peer {PEER_REPEATS})",
         summary=table(["summary", "pcm", "mp3", "floor", "peer", "pcm / floor", "pcm / peer"], summary),
         margin=f"""Real-time margin on the {len(LONG)}-character text (`tests/long_text.txt`), pcm: first byte after
{long_first:.2f} s, {audio_seconds:.0f} s of audio in {long_total:.1f} s, i.e. **{margin:.2f} s of audio per wall
second after the first byte** (above 1.0: a client playing in real time never runs dry).""",
         texts=table(["#", "chars", "tokens", "floor", "pcm", "mp3", "peer", "pcm / floor", "pcm / peer"], rows))


if __name__ == "__main__":
    main()

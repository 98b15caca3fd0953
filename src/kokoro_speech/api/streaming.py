"""A synthesis as the bytes a transport sends: encoded chunks (with the word times made with them) and OpenAI's
SSE events. Every route streams through here, so encoding stays off the event loop everywhere."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import AsyncIterator

from kokoro_speech.audio.encode import AudioFormat, Encoder
from kokoro_speech.kokoro import SAMPLE_RATE
from kokoro_speech.pipeline.synthesis import AudioStream, SynthesisStats
from kokoro_speech.pipeline.timestamps import WordTime


async def encoded_with_words(synthesis: AudioStream, fmt: AudioFormat, *, sample_rate: int | None = None,
                             volume: float = 1.0) -> AsyncIterator[tuple[bytes, list[WordTime]]]:
    """The synthesis as (bytes of `fmt`, the word times made with them), chunk by chunk: each piece's words come
    with (or before) its first bytes (none unless the synthesis was opened with timestamps). Stops the synthesis
    when the client leaves."""
    encoder = Encoder(fmt, sample_rate=sample_rate, volume=volume)
    try:
        async for samples in synthesis:
            words = synthesis.take_words()  # made before this chunk was yielded
            # FFmpeg's encoders take milliseconds a chunk: off the event loop, which must stay free to answer
            # (and to refuse) other requests at once
            data = await asyncio.to_thread(encoder.encode, samples)
            if data or words:
                yield data, words
        tail = b"".join(await asyncio.to_thread(list, encoder.finish()))
        words = synthesis.take_words()
        if tail or words:
            yield tail, words
    finally:
        encoder.close()
        await synthesis.aclose()


async def encoded(synthesis: AudioStream, fmt: AudioFormat, *, sample_rate: int | None = None,
                  volume: float = 1.0) -> AsyncIterator[bytes]:
    """The synthesis as bytes of `fmt`, chunk by chunk."""
    async for data, _ in encoded_with_words(synthesis, fmt, sample_rate=sample_rate, volume=volume):
        if data:
            yield data


def usage(stats: SynthesisStats) -> dict[str, int]:
    """OpenAI's usage: the phoneme tokens given to the model in, one token per 20 ms of audio out."""
    output_tokens = stats.audio_samples // (SAMPLE_RATE // 50)
    return {"input_tokens": stats.phoneme_tokens, "output_tokens": output_tokens,
            "total_tokens": stats.phoneme_tokens + output_tokens}


def sse(event: dict) -> bytes:
    return f"data: {json.dumps(event, separators=(',', ':'), ensure_ascii=False)}\n\n".encode()


async def sse_events(synthesis: AudioStream, fmt: AudioFormat, *, sample_rate: int | None = None,
                     volume: float = 1.0) -> AsyncIterator[bytes]:
    """OpenAI's `stream_format: sse`: speech.audio.delta events (each piece's `speech.audio.timestamps` event
    before its audio, when asked for), then speech.audio.done with usage."""
    async for data, words in encoded_with_words(synthesis, fmt, sample_rate=sample_rate, volume=volume):
        if words:
            yield sse({"type": "speech.audio.timestamps", "timestamps": [w.as_dict() for w in words]})
        if data:
            yield sse({"type": "speech.audio.delta", "audio": base64.b64encode(data).decode()})
    yield sse({"type": "speech.audio.done", "usage": usage(synthesis.stats)})

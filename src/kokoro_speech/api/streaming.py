"""A synthesis as the bytes a transport sends: encoded chunks (with the word times made with them) and OpenAI's
SSE events. Every route streams through here, so encoding stays off the event loop everywhere."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import tempfile
from typing import AsyncIterator, Protocol

import numpy as np
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from kokoro_speech.audio.encode import AudioFormat, Encoder
from kokoro_speech.kokoro import SAMPLE_RATE
from kokoro_speech.pipeline.synthesis import AudioStream, SynthesisStats
from kokoro_speech.pipeline.timestamps import WordTime


class AudioCopy(Protocol):
    """A copy of the audio kept while it streams (api/kept.py): fed each chunk's samples, bytes and words, then
    finished with the tail, or aborted when the stream fails or its client leaves."""

    def add(self, samples: np.ndarray, data: bytes, words: list[WordTime]) -> None: ...

    def finish(self, tail: bytes) -> None: ...

    def abort(self) -> None: ...


async def encoded_with_words(synthesis: AudioStream, fmt: AudioFormat, *, sample_rate: int | None = None,
                             volume: float = 1.0, copy: AudioCopy | None = None,
                             ) -> AsyncIterator[tuple[bytes, list[WordTime]]]:
    """The synthesis as (bytes of `fmt`, the word times made with them), chunk by chunk: each piece's words come
    with (or before) its first bytes (none unless the synthesis was opened with timestamps). Stops the synthesis
    when the client leaves. `copy` gets everything too, and is finished only when the whole audio was made."""
    encoder = Encoder(fmt, sample_rate=sample_rate, volume=volume)
    finished = False
    try:
        async for samples in synthesis:
            words = synthesis.take_words()  # made before this chunk was yielded
            # FFmpeg's encoders take milliseconds a chunk: off the event loop, which must stay free to answer
            # (and to refuse) other requests at once
            data = await asyncio.to_thread(encoder.encode, samples)
            if copy is not None:
                await asyncio.to_thread(copy.add, samples, data, words)
            if data or words:
                yield data, words
        tail = b"".join(await asyncio.to_thread(list, encoder.finish()))
        if copy is not None:
            await asyncio.to_thread(copy.finish, tail)
        finished = True
        words = synthesis.take_words()
        if tail or words:
            yield tail, words
    finally:
        if copy is not None and not finished:
            copy.abort()
        encoder.close()
        await synthesis.aclose()


async def encoded(synthesis: AudioStream, fmt: AudioFormat, *, sample_rate: int | None = None,
                  volume: float = 1.0, copy: AudioCopy | None = None) -> AsyncIterator[bytes]:
    """The synthesis as bytes of `fmt`, chunk by chunk (and into `copy`)."""
    async for data, _ in encoded_with_words(synthesis, fmt, sample_rate=sample_rate, volume=volume, copy=copy):
        if data:
            yield data


async def whole_file(chunks: AsyncIterator[bytes], media_type: str, headers: dict[str, str]) -> FileResponse:
    """All of a stream's bytes, spooled to a temporary file (removed once sent), as one response with its
    Content-Length: errors during synthesis still become error responses, since nothing is sent before the end."""
    spool = tempfile.NamedTemporaryFile(prefix="kokoro-whole-", delete=False)
    try:
        with spool:
            async for data in chunks:
                await asyncio.to_thread(spool.write, data)
    except BaseException:
        os.unlink(spool.name)
        raise
    return FileResponse(spool.name, media_type=media_type, headers=headers, content_disposition_type="inline",
                        background=BackgroundTask(os.unlink, spool.name))


def usage(stats: SynthesisStats) -> dict[str, int]:
    """OpenAI's usage: the phoneme tokens given to the model in, one token per 20 ms of audio out."""
    output_tokens = stats.audio_samples // (SAMPLE_RATE // 50)
    return {"input_tokens": stats.phoneme_tokens, "output_tokens": output_tokens,
            "total_tokens": stats.phoneme_tokens + output_tokens}


def sse(event: dict) -> bytes:
    return f"data: {json.dumps(event, separators=(',', ':'), ensure_ascii=False)}\n\n".encode()


async def sse_events(synthesis: AudioStream, fmt: AudioFormat, *, sample_rate: int | None = None,
                     volume: float = 1.0, copy: AudioCopy | None = None, send_words: bool = True,
                     ) -> AsyncIterator[bytes]:
    """OpenAI's `stream_format: sse`: speech.audio.delta events (each piece's `speech.audio.timestamps` event
    before its audio, when asked for), then speech.audio.done with usage."""
    async for data, words in encoded_with_words(synthesis, fmt, sample_rate=sample_rate, volume=volume, copy=copy):
        if words and send_words:
            yield sse({"type": "speech.audio.timestamps", "timestamps": [w.as_dict() for w in words]})
        if data:
            yield sse({"type": "speech.audio.delta", "audio": base64.b64encode(data).decode()})
    yield sse({"type": "speech.audio.done", "usage": usage(synthesis.stats)})

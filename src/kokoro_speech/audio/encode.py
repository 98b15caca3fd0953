"""Float32 audio → the bytes of each response format, incrementally, with PyAV (FFmpeg's codecs).

mp3, aac, opus, pcm, ulaw and alaw come out chunk by chunk as audio is fed in; concatenated, the chunks form
one valid file. wav and flac are written whole, so their headers carry the real length: into a file that spills
to disk past a few MB, so that a long request's audio never sits in memory whole. The volume and the output
sample rate are applied here, on the way out, so every transport gets them alike.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import Iterator

import av
import numpy as np

from kokoro_speech.audio.resample import Resampler
from kokoro_speech.audio.volume import apply_volume
from kokoro_speech.kokoro import SAMPLE_RATE


@dataclass(frozen=True)
class AudioFormat:
    name: str
    content_type: str
    container: str | None  # None: raw s16le samples, no container
    codec: str | None
    bit_rate: int | None
    streams: bool  # bytes go out while synthesizing (else one whole file at the end)
    options: tuple[tuple[str, str], ...] = ()  # muxer options
    default_rate: int = SAMPLE_RATE
    codec_rates: tuple[int, ...] | None = None  # the input rates the codec takes (None: any)


# The one list of output formats (OpenAI's six in its order, then G.711): the request schemas, the CLI and the
# metrics read it.
FORMATS: dict[str, AudioFormat] = {
    "mp3": AudioFormat("mp3", "audio/mpeg", "mp3", "libmp3lame", 96_000, True),
    # Ogg pages of 0.1 s: the muxer's default of 1 s would hold the stream back
    # Opus decodes at 48 kHz whatever it was fed; libopus takes these input rates (others go in at 48 kHz)
    "opus": AudioFormat("opus", "audio/ogg", "ogg", "libopus", 48_000, True, (("page_duration", "100000"),),
                        codec_rates=(8000, 12000, 16000, 24000, 48000)),
    "aac": AudioFormat("aac", "audio/aac", "adts", "aac", 96_000, True),
    "flac": AudioFormat("flac", "audio/flac", "flac", "flac", None, False),
    "wav": AudioFormat("wav", "audio/wav", "wav", "pcm_s16le", None, False),
    "pcm": AudioFormat("pcm", "audio/pcm", None, None, None, True),
    # G.711 for telephony: raw 8-bit samples, 8 kHz unless sample_rate says otherwise (RFC 4856's media types)
    "ulaw": AudioFormat("ulaw", "audio/PCMU", "mulaw", "pcm_mulaw", None, True, default_rate=8000),
    "alaw": AudioFormat("alaw", "audio/PCMA", "alaw", "pcm_alaw", None, True, default_rate=8000),
}
STREAMED = tuple(name for name, fmt in FORMATS.items() if fmt.streams)


OPUS_DECODE_RATE = 48_000


def codec_rate(fmt: AudioFormat, requested: int | None) -> int:
    """The rate the codec is fed: the requested one (else the format's default), or 48 kHz where the codec
    takes no such input rate (Opus at 22.05, 32 or 44.1 kHz)."""
    rate = requested or fmt.default_rate
    return rate if fmt.codec_rates is None or rate in fmt.codec_rates else OPUS_DECODE_RATE


def output_rate(fmt: AudioFormat, requested: int | None) -> int:
    """The rate a client decodes (X-Sample-Rate): the codec's, except Opus, which always decodes at 48 kHz."""
    return OPUS_DECODE_RATE if fmt.name == "opus" else codec_rate(fmt, requested)


SPOOL_BYTES = 1 << 20  # whole-file formats are kept in memory up to this size (~20 s of wav), then on disk
READ_BYTES = 1 << 20  # and sent in chunks of this size


def to_s16(samples: np.ndarray) -> np.ndarray:
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2")


class _StreamSink:
    """A write-only file: FFmpeg sees it as unseekable and writes a streamable file."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


class Encoder:
    """Feed float32 samples at 24 kHz with `encode`, collect the bytes each call returns, then `finish`; the
    samples are scaled by `volume` (soft-limited) and resampled to `sample_rate` (default: the format's)."""

    def __init__(self, fmt: AudioFormat, *, sample_rate: int | None = None, volume: float = 1.0) -> None:
        self.format = fmt
        self.volume = volume
        self.rate = codec_rate(fmt, sample_rate)
        self.sample_rate = output_rate(fmt, sample_rate)  # what the client decodes
        self._resampler = Resampler(self.rate) if self.rate != SAMPLE_RATE else None
        self._container = None
        self._sink: _StreamSink | tempfile.SpooledTemporaryFile | None = None
        if fmt.container is None:
            return
        self._sink = _StreamSink() if fmt.streams else tempfile.SpooledTemporaryFile(SPOOL_BYTES)
        self._container = av.open(self._sink, mode="w", format=fmt.container, options=dict(fmt.options))
        self._stream = self._container.add_stream(fmt.codec, rate=self.rate, layout="mono")
        if fmt.bit_rate:
            self._stream.bit_rate = fmt.bit_rate
        self._pts = 0

    def _take(self) -> bytes:
        return self._sink.take() if isinstance(self._sink, _StreamSink) else b""

    def encode(self, samples: np.ndarray) -> bytes:
        samples = apply_volume(samples, self.volume)
        if self._resampler is not None:
            samples = self._resampler(samples)
        return self._encode(samples)

    def _encode(self, samples: np.ndarray) -> bytes:
        pcm = to_s16(samples)
        if self._container is None:
            return pcm.tobytes()
        if pcm.size == 0:
            return b""
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self.rate
        frame.pts = self._pts
        self._pts += pcm.size
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        return self._take()

    def finish(self) -> Iterator[bytes]:
        """The rest of the file: the encoder's tail, or the whole file for wav and flac, in chunks."""
        tail = self._encode(self._resampler.flush()) if self._resampler is not None else b""
        if self._container is None:
            if tail:
                yield tail
            return
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        self._container = None
        if isinstance(self._sink, _StreamSink):
            yield tail + self._take()
            return
        with self._sink as whole:
            whole.seek(0)
            while chunk := whole.read(READ_BYTES):
                yield chunk

    def close(self) -> None:
        """Release FFmpeg's resources without finishing (the client went away), and the spooled file."""
        if self._container is not None:
            try:
                self._container.close()
            except Exception:
                pass
            self._container = None
        if self._sink is not None and not isinstance(self._sink, _StreamSink):
            self._sink.close()

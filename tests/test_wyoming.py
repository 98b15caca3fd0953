"""The Wyoming server, driven by the wyoming package's own client (the one Home Assistant uses), on the real
model: describe, synthesize, streaming synthesis with text cut anywhere, errors, and clients that leave."""

from __future__ import annotations

import asyncio
import random

import httpx
import numpy as np
import pytest
from wyoming.audio import AudioChunk, AudioStart
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop, SynthesizeVoice

from support import LiveServer, free_port, word_error_rate
from kokoro_speech.api.app import create_app
from test_streaming import wait_idle

REPLY = ("Sure, here is what I found about the weather today: it will be sunny all morning. "
         "Later in the afternoon, clouds roll in from the west. Bring a coat if you go out tonight!")


@pytest.fixture(scope="module")
def live(settings, engine):
    """An HTTP server with Wyoming on `live.wyoming_port`."""
    port = free_port()
    with LiveServer(create_app(settings.model_copy(update={"wyoming_port": port}), engine=engine)) as live:
        live.wyoming_port = port
        yield live


@pytest.fixture(scope="module")
def wyoming(live):
    return live.wyoming_port


async def events_until(client: AsyncTcpClient, last: str) -> list:
    events = []
    while True:
        event = await asyncio.wait_for(client.read_event(), 120)
        assert event is not None, "the server closed the connection"
        events.append(event)
        if event.type in (last, "error"):
            return events


def samples(events) -> np.ndarray:
    audio = b"".join(AudioChunk.from_event(e).audio for e in events if e.type == "audio-chunk")
    return np.frombuffer(audio, "<i2").astype(np.float32) / 32768


def run(coroutine):
    return asyncio.run(coroutine)


def test_describe_lists_one_program_with_every_voice(wyoming, engine):
    async def go():
        async with AsyncTcpClient("127.0.0.1", wyoming) as client:
            await client.write_event(Describe().event())
            return Info.from_event(await client.read_event())

    info = run(go())
    assert len(info.tts) == 1 and info.tts[0].supports_synthesize_streaming
    voices = {v.name: v for v in info.tts[0].voices}
    assert set(voices) == {v["id"] for v in engine.describe_voices()}
    assert voices["af_heart"].languages == ["en_US"] and voices["bf_emma"].languages == ["en_GB"]
    assert voices["ff_siwis"].languages == ["fr_FR"] and voices["zf_xiaobei"].languages == ["zh"]
    assert "British English" in voices["bm_george"].description


def test_synthesize_answers_with_start_chunks_stop(wyoming, transcribe):
    text = "The kettle is on, and tea will be ready in five minutes."

    async def go():
        async with AsyncTcpClient("127.0.0.1", wyoming) as client:
            await client.write_event(Synthesize(text, voice=SynthesizeVoice("bm_george")).event())
            return await events_until(client, "audio-stop")

    events = run(go())
    assert [e.type for e in events][0] == "audio-start" and events[-1].type == "audio-stop"
    start = AudioStart.from_event(events[0])
    assert (start.rate, start.width, start.channels) == (24_000, 2, 1)
    assert {e.type for e in events[1:-1]} == {"audio-chunk"}
    assert word_error_rate(text, transcribe(samples(events))) < 0.15


def test_wyoming_is_counted_in_the_http_servers_metrics(live):
    def wyoming_requests() -> float:
        text = httpx.get(f"{live.url}/metrics").text
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith("kokoro_requests_total{") and 'route="wyoming"' in line)

    async def go():
        async with AsyncTcpClient("127.0.0.1", live.wyoming_port) as client:
            await client.write_event(Synthesize("Counted.").event())
            return await events_until(client, "audio-stop")

    before = wyoming_requests()
    run(go())
    assert wyoming_requests() == before + 1


def test_streaming_speaks_each_sentence_as_it_completes(wyoming, transcribe):
    rng = random.Random(7)

    async def go():
        async with AsyncTcpClient("127.0.0.1", wyoming) as client:
            await client.write_event(SynthesizeStart(voice=SynthesizeVoice("af_heart")).event())
            i = 0
            while i < len(REPLY):  # tokens of 2-6 characters, cut anywhere
                n = rng.randint(2, 6)
                await client.write_event(SynthesizeChunk(REPLY[i : i + n]).event())
                i += n
            # the full text again, as clients send it for older servers: to be ignored
            await client.write_event(Synthesize(REPLY, voice=SynthesizeVoice("af_heart")).event())
            await client.write_event(SynthesizeStop().event())
            return await events_until(client, "synthesize-stopped")

    events = run(go())
    kinds = [e.type for e in events]
    assert kinds[-1] == "synthesize-stopped"
    groups = "".join({"audio-start": "[", "audio-stop": "]", "audio-chunk": ""}[k] for k in kinds[:-1])
    assert groups == "[][][]", "one audio-start/stop per sentence"
    assert AudioStart.from_event(events[0]).rate == 24_000
    # spoken once: the trailing synthesize was not read again
    assert word_error_rate(REPLY, transcribe(samples(events))) < 0.15


def test_first_sentence_is_spoken_before_the_text_ends(wyoming):
    async def go():
        async with AsyncTcpClient("127.0.0.1", wyoming) as client:
            await client.write_event(SynthesizeStart(voice=SynthesizeVoice("af_heart")).event())
            await client.write_event(SynthesizeChunk("The first sentence is complete. And the sec").event())
            first = await asyncio.wait_for(client.read_event(), 60)
            chunk = await asyncio.wait_for(client.read_event(), 60)
            await client.write_event(SynthesizeChunk("ond one ends at the stop").event())
            await client.write_event(SynthesizeStop().event())
            return first, chunk, await events_until(client, "synthesize-stopped")

    first, chunk, rest = run(go())
    assert first.type == "audio-start" and chunk.type == "audio-chunk"
    assert [e.type for e in rest].count("audio-start") == 1


def test_errors_are_events_and_the_connection_stays_usable(wyoming):
    async def go():
        async with AsyncTcpClient("127.0.0.1", wyoming) as client:
            await client.write_event(Synthesize("Hello.", voice=SynthesizeVoice("xx_nobody")).event())
            unknown = await client.read_event()
            await client.write_event(Synthesize("x" * 5000).event())
            too_long = await client.read_event()
            await client.write_event(SynthesizeStart(voice=SynthesizeVoice("xx_nobody")).event())
            bad_start = await client.read_event()
            await client.write_event(SynthesizeChunk("Never spoken.").event())
            await client.write_event(SynthesizeStop().event())
            stopped = await client.read_event()
            await client.write_event(Synthesize("Still here.").event())
            return unknown, too_long, bad_start, stopped, await events_until(client, "audio-stop")

    unknown, too_long, bad_start, stopped, after = run(go())
    assert unknown.type == "error" and unknown.data["code"] == "voice_not_found" and "xx_nobody" in unknown.data["text"]
    assert too_long.type == "error" and too_long.data["code"] == "input_too_long"
    assert bad_start.type == "error" and bad_start.data["code"] == "voice_not_found"
    assert stopped.type == "synthesize-stopped"
    assert after[-1].type == "audio-stop" and any(e.type == "audio-chunk" for e in after)


def test_a_client_that_leaves_mid_stream_stops_its_synthesis(wyoming, engine):
    wait_idle(engine)
    long_text = "Every sentence here adds a little more audio to a stream that the client will abandon. " * 8

    async def go():
        async with AsyncTcpClient("127.0.0.1", wyoming) as client:
            await client.write_event(SynthesizeStart(voice=SynthesizeVoice("af_heart")).event())
            await client.write_event(SynthesizeChunk(long_text).event())
            await client.write_event(SynthesizeStop().event())
            assert (await client.read_event()).type == "audio-start"
            assert (await client.read_event()).type == "audio-chunk"

    calls_before = engine.scheduler.calls_done
    run(go())
    wait_idle(engine)
    assert engine.scheduler.calls_done - calls_before <= 4  # not the 8 sentences' worth


def test_serve_flag_starts_wyoming_beside_http():
    from support import Server

    port = free_port()
    with Server(None, "--wyoming-port", str(port)):
        async def go():
            async with AsyncTcpClient("127.0.0.1", port) as client:
                await client.write_event(Describe().event())
                return Info.from_event(await client.read_event())

        assert run(go()).tts[0].name == "kokoro-speech"


def test_zeroconf_announces_the_wyoming_port(settings, engine):
    pytest.importorskip("zeroconf")
    from zeroconf.asyncio import AsyncServiceBrowser, AsyncZeroconf

    port = free_port()
    announced = settings.model_copy(update={"wyoming_port": port, "wyoming_zeroconf": True})

    async def browse():
        found = asyncio.Event()
        names: list[str] = []

        def added(zeroconf, service_type, name, state_change):
            names.append(name)
            found.set()

        browser_zc = AsyncZeroconf()
        browser = AsyncServiceBrowser(browser_zc.zeroconf, "_wyoming._tcp.local.", handlers=[added])
        try:
            await asyncio.wait_for(found.wait(), 30)
            info = await browser_zc.async_get_service_info("_wyoming._tcp.local.", "kokoro-speech._wyoming._tcp.local.")
            return names, info
        finally:
            await browser.async_cancel()
            await browser_zc.async_close()

    with LiveServer(create_app(announced, engine=engine)):
        names, info = run(browse())
    assert "kokoro-speech._wyoming._tcp.local." in names
    assert info.port == port and info.parsed_addresses() == ["127.0.0.1"]


def test_ssml_text_format_is_read_as_ssml(wyoming):
    """Newer wyoming releases say text_format "ssml"; a fragment without <speak> is read as SSML too."""
    text_format = pytest.importorskip("wyoming.tts").__dict__.get("SynthesizeTextFormat")
    if text_format is None:
        pytest.skip("this wyoming release has no text_format")

    async def go():
        async with AsyncTcpClient("127.0.0.1", wyoming) as client:
            await client.write_event(Synthesize('Wait <break time="1500ms"/> now.', text_format=text_format.SSML)
                                     .event())
            return samples(await events_until(client, "audio-stop"))

    audio = run(go())
    quiet = np.abs(audio) < 2 / 32768
    longest = max(np.diff(np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]]))))[::2])
    assert 1.45 < longest / 24_000 < 1.7, longest  # the break, not "break time" read aloud

"""The Wyoming protocol, for Home Assistant's voice pipeline: the `wyoming` package's TCP server and events.

It runs in the HTTP server's process and event loop (started by the app's lifespan) and speaks through the same
engine, so admission, the scheduler's turns and the metrics cover it. Wyoming has no authentication: the
server binds to loopback unless --wyoming-host says otherwise.

- describe → info: one TTS program, every voice (its language, a description), streaming supported.
- synthesize → audio-start (24 kHz, s16, mono), an audio-chunk per piece, audio-stop.
- synthesize-start, synthesize-chunk (text cut anywhere), synthesize (sent for older servers: ignored),
  synthesize-stop → each sentence spoken as soon as it is complete (its first clause sooner), as
  audio-start/chunk/stop per sentence, then synthesize-stopped.
"""

from __future__ import annotations

import asyncio
import logging
import time

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Attribution, Describe, Info, TtsProgram, TtsVoice
from wyoming.server import AsyncEventHandler, AsyncTcpServer
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop, SynthesizeStopped, SynthesizeVoice

from kokoro_speech import __version__
from kokoro_speech.api.schemas import MAX_INPUT_CHARACTERS
from kokoro_speech.api.state import ServerState, ready_engine
from kokoro_speech.api.streaming import encoded
from kokoro_speech.audio.encode import FORMATS
from kokoro_speech.config import Settings
from kokoro_speech.errors import ApiError, InvalidParameter
from kokoro_speech.kokoro import SAMPLE_RATE
from kokoro_speech.pipeline.synthesis import Synthesis
from kokoro_speech.pipeline.incremental import IncrementalSpeech
from kokoro_speech.text.ssml import is_ssml

log = logging.getLogger(__name__)

DEFAULT_VOICE = "af_heart"  # when the assistant names none
ROUTE = "wyoming"  # the route label in the metrics
_PCM = FORMATS["pcm"]
_AUDIO = {"rate": SAMPLE_RATE, "width": 2, "channels": 1}
_KOKORO = Attribution(name="hexgrad", url="https://huggingface.co/hexgrad/Kokoro-82M")


def _ha_language(tag: str) -> str:
    """Home Assistant's form of a language tag (en_US, as Piper's voices say it); Mandarin is zh there."""
    language, _, region = tag.partition("-")
    return "zh" if language == "cmn" else f"{language}_{region.upper()}" if region else language


def info(voices: list[dict]) -> Info:
    listed = [TtsVoice(name=v["id"], languages=[_ha_language(v["language"])], attribution=_KOKORO,
                       installed=v["ready"], version=None,
                       description=f"{v['id']} ({v['language_name']}, {v['gender']})" if v["ready"] else
                       f"{v['id']} ({v['language_name']}; needs `{v.get('requires')}` on the server)")
              for v in voices]
    return Info(tts=[TtsProgram(name="kokoro-speech", description="Kokoro-82M text to speech", attribution=_KOKORO,
                                installed=True, version=__version__, voices=listed,
                                supports_synthesize_streaming=True)])


def _voice(voice: SynthesizeVoice | None) -> str:
    return voice.name if voice is not None and voice.name else DEFAULT_VOICE


def _text(request: Synthesize) -> str:
    """The text to read: SSML when the client says so (newer wyoming's text_format "ssml"), a fragment wrapped in
    <speak> (the engine reads SSML from its root element)."""
    text_format = getattr(request, "text_format", None)  # older wyoming releases have no such field
    if str(getattr(text_format, "value", text_format)).lower() == "ssml" and not is_ssml(request.text):
        return f"<speak>{request.text}</speak>"
    return request.text


class WyomingHandler(AsyncEventHandler):
    """One client connection; events are handled one at a time, in order."""

    def __init__(self, state: ServerState, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        super().__init__(reader, writer)
        self.state = state
        self.streaming = False  # between synthesize-start and synthesize-stop
        self.speech: IncrementalSpeech | None = None
        self.speaking: asyncio.Task | None = None

    async def handle_event(self, event: Event) -> bool:
        started = time.perf_counter()
        try:
            if Describe.is_type(event.type):
                await self.write_event(info(ready_engine(self.state).describe_voices()).event())
            elif Synthesize.is_type(event.type) and not self.streaming:  # in a stream the chunks already said it
                request = Synthesize.from_event(event)
                if len(request.text) > MAX_INPUT_CHARACTERS:
                    raise InvalidParameter(f"text is {len(request.text)} characters long; the limit is "
                                           f"{MAX_INPUT_CHARACTERS}", param="text", code="input_too_long")
                synthesis = await ready_engine(self.state).open(_text(request), _voice(request.voice), 1.0)
                await self.write_event(AudioStart(**_AUDIO).event())
                await self._send(synthesis)
                self.state.metrics.finished(ROUTE, "200", _PCM.name, time.perf_counter() - started)
                await self.write_event(AudioStop().event())
            elif SynthesizeStart.is_type(event.type):
                if self.speaking is not None:  # a new stream before the last one stopped: the last is dropped
                    self.speaking.cancel()
                self.streaming = True
                start = SynthesizeStart.from_event(event)
                self.speech = IncrementalSpeech(ready_engine(self.state), _voice(start.voice))
                self.speaking = asyncio.create_task(self._speak(self.speech, started))
            elif SynthesizeChunk.is_type(event.type) and self.speech is not None:
                self.speech.append(SynthesizeChunk.from_event(event).text)
            elif SynthesizeStop.is_type(event.type) and self.streaming:
                self.streaming = False
                if self.speech is not None:
                    self.speech.end()
                    self.speech = None
                    await self.speaking
                await self.write_event(SynthesizeStopped().event())
        except ApiError as exc:
            await self._error(exc)
        return True

    async def _error(self, exc: ApiError) -> None:
        self.state.metrics.finished(ROUTE, str(exc.status), _PCM.name, 0.0)
        await self.write_event(Error(text=exc.message, code=exc.code).event())

    async def _send(self, synthesis: Synthesis) -> None:
        async for data in encoded(synthesis, _PCM):
            await self.write_event(AudioChunk(audio=data, **_AUDIO).event())

    async def _speak(self, speech: IncrementalSpeech, started: float) -> None:
        """audio-start, the sentence's chunks, audio-stop: one group per sentence, each spoken as it completes."""
        in_sentence = False
        async for utterance in speech.utterances(self._error):
            if utterance.starts_sentence and in_sentence:  # one before it ended without a sentence end
                await self.write_event(AudioStop().event())
            if utterance.starts_sentence or not in_sentence:
                await self.write_event(AudioStart(**_AUDIO).event())
                in_sentence = True
            if utterance.lead.size:  # the pause after the sentence or clause before: silence, two bytes a sample
                await self.write_event(AudioChunk(audio=bytes(2 * utterance.lead.size), **_AUDIO).event())
            await self._send(utterance.synthesis)
            if utterance.unit.ends_sentence:
                await self.write_event(AudioStop().event())
                in_sentence = False
        if in_sentence:
            await self.write_event(AudioStop().event())
        self.state.metrics.finished(ROUTE, "200", _PCM.name, time.perf_counter() - started)

    async def disconnect(self) -> None:
        """The client left: stop speaking for it (its synthesis and admission ticket are released)."""
        if self.speaking is not None:
            self.speaking.cancel()


class WyomingService:
    """The TCP server and its zeroconf announcement, stopped together."""

    def __init__(self, server: AsyncTcpServer, announcer=None) -> None:
        self.server = server
        self.announcer = announcer

    async def stop(self) -> None:
        if self.announcer is not None:
            # wyoming's helper has no close of its own: closing its Zeroconf unregisters the service (goodbye
            # packets), so Home Assistant forgets it at once
            await self.announcer._aiozc.async_close()
        await self.server.stop()


async def start(settings: Settings, state: ServerState) -> WyomingService:
    """Serve Wyoming on --wyoming-host:--wyoming-port (and announce it over zeroconf when asked)."""
    server = AsyncTcpServer(settings.wyoming_host, settings.wyoming_port)
    await server.start(lambda reader, writer: WyomingHandler(state, reader, writer))
    log.info("Wyoming server on tcp://%s:%d (no authentication)", settings.wyoming_host, settings.wyoming_port)
    announcer = None
    if settings.wyoming_zeroconf:
        from wyoming.zeroconf import HomeAssistantZeroconf  # needs the zeroconf extra

        host = None if settings.wyoming_host in ("0.0.0.0", "::") else settings.wyoming_host  # None: detected
        announcer = HomeAssistantZeroconf(port=settings.wyoming_port, name="kokoro-speech", host=host)
        await announcer.register_server()
        log.info("Wyoming server announced over zeroconf (_wyoming._tcp)")
    return WyomingService(server, announcer)

"""A request's cast: who speaks each span of its script. Voice names from tags, SSML and the request become
voices (each distinct one resolved, and its style loaded, once), each span gets its voice, language and rate.

A name is looked up as: the request's alias (any case) → a voice id, OpenAI name, blend or saved voice → a cloud
vendor's voice name (model/vendor_voices.py). A span reads its SSML language, else the request's lang_code, else
its speaker's own language (an English narrator and a Japanese character share one request).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

from kokoro_speech.errors import ApiError, InvalidParameter, UnknownVoice
from kokoro_speech.model.vendor_voices import reading_language, vendor_voice
from kokoro_speech.model.voices import Voice, VoiceRegistry
from kokoro_speech.pipeline.readiness import ready_voice
from kokoro_speech.text.phonemize import Phonemizers
from kokoro_speech.text.ssml import MAX_RATE, MIN_RATE, Pause, Segment

MAX_VOICES = 16  # distinct voices in one request: each style table is 0.5 MB (a blend's is computed once)
MAX_SWITCHES = 256  # speaker changes in one request (a 4,096-character scene has a few dozen)


@dataclass(frozen=True)
class Alias:
    """A request's short name for a voice (Kokoro-FastAPI's voice_aliases), with the pace it speaks at."""

    voice: str
    rate: float = 1.0
    name: str = ""  # as the request spelt it: what timestamps and subtitles call the speaker


def aliases_of(raw: Mapping[str, object] | None) -> dict[str, Alias]:
    """A request's voice_aliases (`{"narrator": "af_bella(2)+af_sky"}` or `{"narrator": {"voice": …, "rate": 0.8}}`),
    keyed by their names in lower case; 400 for an alias that names another alias (they would nest)."""
    out: dict[str, Alias] = {}
    for name, target in (raw or {}).items():
        if isinstance(target, str):
            alias = Alias(target.strip(), name=name.strip())
        else:  # a model or a dict with voice and rate
            voice = target["voice"] if isinstance(target, dict) else target.voice
            rate = target.get("rate") if isinstance(target, dict) else getattr(target, "rate", None)
            alias = Alias(str(voice).strip(), float(rate) if rate is not None else 1.0, name.strip())
        out[name.strip().casefold()] = alias
    for name, alias in out.items():
        for part in alias.voice.split("+"):
            inner = part.split("(")[0].strip().casefold()
            if inner in out:
                raise InvalidParameter(f"voice_aliases: '{name}' names the alias '{inner}'; an alias must name "
                                       "voices (ids, blends, saved voices), not other aliases",
                                       param="voice_aliases", code="nested_alias")
    return out


@dataclass(frozen=True)
class Speaker:
    """One voice of the cast: `label` is what timestamps and subtitles call it (the alias, else the voice)."""

    label: str
    voice: Voice
    rate: float


class Cast:
    """The voices of one request. `default` is the request's own voice (param `voice`); `language` its lang_code
    (a letter), which overrides every speaker's own; `caller` the key id (another key's saved voice is not its to
    use)."""

    def __init__(self, voices: VoiceRegistry, phonemizers: Phonemizers, spec: str | Voice, *,
                 aliases: Mapping[str, object] | None = None, language: str | None = None,
                 caller: str | None = None) -> None:
        self._registry = voices
        self._phonemizers = phonemizers
        self._aliases = aliases_of(aliases)
        self._language = language
        self._caller = caller
        self._voices: dict[str, Voice] = {}  # resolved spec → its voice: each style table once
        self._speakers: dict[str, Speaker] = {}
        self._spoken: set[str] = set()  # the labels of the speakers assign() gave a span
        if isinstance(spec, Voice):  # resolved already (the engine's own callers)
            self._voices[spec.name] = spec
            self._speakers[spec.name] = Speaker(spec.name, spec, 1.0)
            spec = spec.name
        self.default = self.speaker(spec)

    @property
    def voices(self) -> dict[str, Voice]:
        """Each speaker's label → its voice (what a piece's `voice` names)."""
        return {s.label: s.voice for s in self._speakers.values()}

    def speaker(self, name: str, where: str = "") -> Speaker:
        """The speaker `name` calls up (`where`: the tag naming it, for the 400 when it is no voice)."""
        alias = self._aliases.get(name.strip().casefold())
        key = f"alias:{name.strip().casefold()}" if alias else name.strip()
        if key in self._speakers:
            return self._speakers[key]
        spec, rate, label = (alias.voice, alias.rate, alias.name) if alias else (name.strip(), 1.0, None)
        try:
            voice = self._voices.get(spec) or self._resolve(spec, where)
        except ApiError as exc:
            if not where:
                raise
            raise InvalidParameter(f"{where}: {exc.message}", param="input", code=exc.code) from None
        if spec not in self._voices and len(self._voices) >= MAX_VOICES:
            raise InvalidParameter(f"{where}: one request may use at most {MAX_VOICES} voices", param="input",
                                   code="too_many_voices")
        self._voices[spec] = voice
        speaker = Speaker(label or voice.name, voice, rate)
        self._speakers[key] = speaker
        return speaker

    def _resolve(self, spec: str, where: str) -> Voice:
        try:
            return ready_voice(self._registry, self._phonemizers, spec, self._language, caller=self._caller)
        except UnknownVoice:
            vendor = vendor_voice(spec, self._language)
            if vendor is None:
                raise
            return ready_voice(self._registry, self._phonemizers, vendor, self._language, caller=self._caller)

    def _span_language(self, tag: str | None, speaker: Speaker) -> str:
        """A span's reading language: its SSML language when Kokoro reads it (else the speaker's), then lang_code,
        then the speaker's own."""
        if tag is not None:
            letter = reading_language(tag)
            if letter is not None and self._phonemizers.missing(letter) is None:
                return letter
        return speaker.voice.language  # already lang_code's when the request gave one

    def assign(self, segments: list[Segment]) -> list[Segment]:
        """Each span with its speaker's label as `voice`, its language letter and its rate (the span's times the
        speaker's pace); 400 for a name that is no voice, or more voices or switches than one request may use."""
        out: list[Segment] = []
        switches, last = 0, self.default.label
        for segment in segments:
            if isinstance(segment, Pause):
                out.append(segment)
                continue
            speaker = self.default if segment.voice is None else self.speaker(segment.voice, segment.where)
            if speaker.label != last:
                switches += 1
                last = speaker.label
                if switches > MAX_SWITCHES:
                    raise InvalidParameter(f"{segment.where}: one request may switch voices at most {MAX_SWITCHES} "
                                           "times", param="input", code="too_many_voice_switches")
            rate = min(MAX_RATE, max(MIN_RATE, segment.rate * speaker.rate))
            self._spoken.add(speaker.label)
            out.append(replace(segment, voice=speaker.label, language=self._span_language(segment.language, speaker),
                               rate=rate))
        return out

    @property
    def many(self) -> bool:
        """Whether more than one voice speaks (then timestamps name the speaker of each word)."""
        return len(self._spoken) > 1

"""SSML, inline `[pause:1.5s]` markers and (when a request allows them) `[voice:NAME]` / `[rate:1.2]` tags → a
script of spoken spans and exact pauses, each span saying who speaks it, in which language, at which rate.

Tags never reach the G2P: an SSML element becomes words, misaki's `[word](/phonemes/)` markup, a pause, or a span
with its voice, language or rate; the XML is read by defusedxml (no DTD, no entities beyond XML's five), within
limits on depth and size. Voice names stay names here: the pipeline's cast (pipeline/cast.py) resolves them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Callable, Iterator
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from kokoro_speech.errors import InvalidParameter, InvalidSSML
from kokoro_speech.kokoro import vocabulary
from kokoro_speech.text.normalize.number_words import DIGITS, cardinal, number, ordinal

MAX_DEPTH = 32  # SSML a person writes nests a few levels; deeper is a generator's bug or an attack
MAX_ELEMENTS = 2_000  # a 4,096-character input holds about 1,000 at most; the CLI has no such limit
MAX_TOTAL_PAUSE_SECONDS = 300.0  # pauses are never synthesized, but their silence is still encoded and sent
MIN_RATE, MAX_RATE = 0.25, 4.0  # the request's `speed` range: the model's usable range

# SSML's break strengths, in seconds (the values Azure and Google use, roughly)
BREAK_STRENGTHS = {"none": 0.0, "x-weak": 0.25, "weak": 0.5, "medium": 0.75, "strong": 1.0, "x-strong": 1.25}
RATE_NAMES = {"x-slow": 0.5, "slow": 0.75, "medium": 1.0, "default": 1.0, "fast": 1.25, "x-fast": 1.5}

PAUSE_MARKER = re.compile(r"\[\s*pause\s*:\s*([^\]\n]{0,20}?)\s*\]", re.IGNORECASE)
# Kokoro-FastAPI's speaker and pace tags (read only when a request allows them): anything in the brackets after
# `voice:` or `rate:` is a tag, so that a misspelt one is a 400 rather than words read aloud
CONTROL_TAG = re.compile(r"\[\s*(voice|rate)\s*:([^\]\n]{0,200})\]", re.IGNORECASE)
INLINE_TAG = re.compile(rf"{PAUSE_MARKER.pattern}|{CONTROL_TAG.pattern}", re.IGNORECASE)
# what may name a voice in a tag: an id, an OpenAI name, a blend such as af_bella(2)+af_sky, a saved voice, an alias
VOICE_TAG_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_+\-(). ]*")
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)", re.IGNORECASE)
# <speak>, or an XML declaration or DTD before it (refused by the parser, but read as SSML, not as words)
_TAG = re.compile(r"<[^>]*>")
_SSML_START = re.compile(r"\s*(?:<\?xml|<!DOCTYPE|<speak[\s>/])", re.IGNORECASE)


@dataclass(frozen=True)
class Speech:
    """Text to read (or Kokoro phonemes to speak), at `rate` times the request's speed; said by `voice` (a name as
    the request wrote it; None: the request's voice) in `language` (a tag such as fr-FR; None: the voice's).
    `where` says which tag chose the voice, for an error naming it."""

    text: str
    rate: float = 1.0
    voice: str | None = None
    language: str | None = None
    where: str = field(default="", compare=False)

    def speaker(self) -> tuple[str | None, str | None, float]:
        """What must match for two spans to be read as one."""
        return self.voice, self.language, self.rate


@dataclass(frozen=True)
class Pause:
    """Exact silence, inserted as zeros: never synthesized."""

    seconds: float


Segment = Speech | Pause


def is_ssml(text: str) -> bool:
    return _SSML_START.match(text) is not None


def parse_duration(value: str, *, where: str, max_seconds: float) -> float:
    """Seconds of a duration such as `1.5s` or `800ms`; 400 when it is not one or is longer than allowed."""
    match = _DURATION.fullmatch(value.strip())
    if match is None:
        raise InvalidParameter(f"{where}: '{value}' is not a duration such as 1.5s or 800ms", param="input",
                               code="invalid_pause")
    seconds = float(match.group(1)) / (1000 if match.group(2).lower() == "ms" else 1)
    if seconds > max_seconds:
        raise InvalidParameter(f"{where}: a pause of {seconds:g} s is longer than this server's limit of "
                               f"{max_seconds:g} s", param="input", code="pause_too_long")
    return seconds


@dataclass(frozen=True)
class Voicing:
    """Who speaks a stretch of text, how fast and in which language: what a span inherits from the tags and
    elements around it."""

    rate: float = 1.0
    voice: str | None = None
    language: str | None = None
    where: str = ""

    def speech(self, text: str) -> Speech:
        return Speech(text, self.rate, self.voice, self.language, self.where)


def _with_pauses(text: str, voicing: Voicing, max_pause: float) -> Iterator[Segment]:
    """`text` cut at its `[pause:…]` markers (Kokoro-FastAPI's syntax)."""
    start = 0
    for match in PAUSE_MARKER.finditer(text):
        if text[start : match.start()]:  # spaces too: they keep the words of two elements apart
            yield voicing.speech(text[start : match.start()])
        yield Pause(parse_duration(match.group(1), where=f"'{match.group()}'", max_seconds=max_pause))
        start = match.end()
    if text[start:]:
        yield voicing.speech(text[start:])


def _rate_tag(value: str, where: str) -> float:
    try:
        rate = float(value)
    except ValueError:
        rate = float("nan")
    if not MIN_RATE <= rate <= MAX_RATE:  # nan too
        raise InvalidParameter(f"{where}: the rate must be a number from {MIN_RATE:g} to {MAX_RATE:g} (1 is the "
                               "voice's own pace)", param="input", code="invalid_voice_tag")
    return rate


def _with_tags(text: str, max_pause: float, voicing: Voicing | None = None) -> Iterator[Segment]:
    """Plain text with `[pause:…]`, `[voice:NAME]` and `[rate:1.2]` tags: a voice tag switches the speaker (and
    resets the rate to its pace), a rate tag sets the current speaker's pace (relative to its own). `voicing` is
    who speaks before the first tag (text that continues an earlier one's)."""
    voicing, start = voicing or Voicing(), 0
    for match in INLINE_TAG.finditer(text):
        if text[start : match.start()].strip():
            yield voicing.speech(text[start : match.start()])
        start = match.end()
        if match.group(1) is not None:
            yield Pause(parse_duration(match.group(1), where=_where(match), max_seconds=max_pause))
        else:
            voicing = _retagged(voicing, match)
    if text[start:].strip():
        yield voicing.speech(text[start:])


def _where(match: re.Match) -> str:
    return f"the tag '{' '.join(match.group().split())}' at character {match.start()}"


def _retagged(voicing: Voicing, match: re.Match) -> Voicing:
    """Who speaks after the voice or rate tag `match` (INLINE_TAG's)."""
    if match.group(2).lower() == "voice":
        name = match.group(3).strip()
        if not VOICE_TAG_NAME.fullmatch(name):
            raise InvalidParameter(f"{_where(match)}: write a voice id, OpenAI name, blend (af_bella(2)+af_sky) or "
                                   "alias after 'voice:'", param="input", code="invalid_voice_tag")
        return Voicing(voice=name, where=_where(match))
    return replace(voicing, rate=_rate_tag(match.group(3).strip(), _where(match)))


def voicing_after(text: str, voicing: Voicing) -> Voicing:
    """Who speaks at the end of `text` (with voice tags), starting as `voicing`: for text that continues it (the
    WebSocket's next sentence)."""
    for match in CONTROL_TAG.finditer(text):
        voicing = _retagged(voicing, INLINE_TAG.match(text, match.start()))
    return voicing


def _merged(segments: Iterator[Segment]) -> list[Segment]:
    """Adjacent spans at one rate joined (one reading, unbroken prosody), adjacent pauses added up; the total
    silence checked."""
    out: list[Segment] = []
    for segment in segments:
        last = out[-1] if out else None
        if isinstance(segment, Speech) and isinstance(last, Speech) and last.speaker() == segment.speaker():
            out[-1] = replace(last, text=last.text + segment.text)
        elif isinstance(segment, Pause) and isinstance(last, Pause):
            out[-1] = Pause(last.seconds + segment.seconds)
        elif not (isinstance(segment, Pause) and segment.seconds == 0):
            out.append(segment)
    total = sum(s.seconds for s in out if isinstance(s, Pause))
    if total > MAX_TOTAL_PAUSE_SECONDS:
        raise InvalidParameter(f"input asks for {total:g} s of pauses; one request may pause for "
                               f"{MAX_TOTAL_PAUSE_SECONDS:g} s in all", param="input", code="pause_too_long")
    return [s for s in out if not (isinstance(s, Speech) and not s.text.strip())]


def visible(text: str, *, voice_tags: bool = False) -> str:
    """`text` with its SSML tags (when it is SSML), `[pause:…]` markers (and with `voice_tags`, voice and rate
    tags) blanked out, every other character in place: indices into it are indices into `text` (word timestamps
    point at the words a listener hears)."""
    def blank(match: re.Match) -> str:
        return " " * len(match.group())
    if is_ssml(text):
        text = _TAG.sub(blank, text)
    elif voice_tags:
        text = CONTROL_TAG.sub(blank, text)
    return PAUSE_MARKER.sub(blank, text)


def script(text: str, *, max_pause: float, ssml: bool | None = None, voice_tags: bool = False,
           voicing: Voicing | None = None) -> list[Segment]:
    """What `text` says, in order: SSML when it starts with `<speak>` (or `ssml` says so), otherwise plain text
    (or phonemes) with `[pause:1.5s]` markers, and with `voice_tags` `[voice:NAME]` and `[rate:1.2]` tags (the
    text before the first said by `voicing`: who spoke last in text this continues)."""
    if ssml if ssml is not None else is_ssml(text):
        return _merged(_SSMLReader(max_pause).read(text))
    if voice_tags:
        return _merged(_with_tags(text, max_pause, voicing))
    return _merged(_with_pauses(text, Voicing(), max_pause))


def tagged(segments: list[Segment], voice: str | None = None) -> str:
    """A script written back as plain text with inline tags (what /dev/ssml shows, Kokoro-FastAPI's shape): a
    `[voice:…]` where the speaker changes, a `[rate:…]` where the pace does, `[pause:…]` for each pause. A span
    of another language keeps its words but not its language (there is no tag for that)."""
    out: list[str] = []
    current: tuple[str | None, float] = (voice, 1.0)
    for segment in segments:
        if isinstance(segment, Pause):
            # as Kokoro-FastAPI writes them (1.0s, 0.75s), never in exponent notation (the marker's syntax has none)
            seconds = f"{segment.seconds:.3f}".rstrip("0")
            out.append(f"[pause:{seconds}0s]" if seconds.endswith(".") else f"[pause:{seconds}s]")
            continue
        speaker = segment.voice or voice
        if speaker != current[0] and speaker:
            out.append(f"[voice:{speaker}]")
            current = (speaker, 1.0)
        if segment.rate != current[1]:
            out.append(f"[rate:{segment.rate:g}]")
            current = (speaker, segment.rate)
        out.append(" ".join(segment.text.split()))
    return " ".join(part for part in out if part)


# --- SSML -------------------------------------------------------------------------------------------------

# IPA → Kokoro's misaki notation: its diphthongs and affricates are one symbol each, its r is ɹ
_IPA_TO_MISAKI = (
    ("\u0361", ""), ("\u035c", ""), ("d͡ʒ", "ʤ"), ("t͡ʃ", "ʧ"), ("dʒ", "ʤ"), ("tʃ", "ʧ"),
    ("eɪ", "A"), ("aɪ", "I"), ("ɔɪ", "Y"), ("aʊ", "W"), ("oʊ", "O"), ("əʊ", "Q"),
    ("ɝ", "ɜɹ"), ("ɚ", "əɹ"), ("r", "ɹ"), ("g", "ɡ"), ("ɫ", "l"), ("'", "ˈ"), (".", ""),
)
_LETTERS = {  # letter names as misaki says them, for say-as characters
    "a": "ˈA", "b": "bˈi", "c": "sˈi", "d": "dˈi", "e": "ˈi", "f": "ˈɛf", "g": "ʤˈi", "h": "ˈAʧ", "i": "ˈI",
    "j": "ʤˈA", "k": "kˈA", "l": "ˈɛl", "m": "ˈɛm", "n": "ˈɛn", "o": "ˈO", "p": "pˈi", "q": "kjˈu", "r": "ˈɑɹ",
    "s": "ˈɛs", "t": "tˈi", "u": "jˈu", "v": "vˈi", "w": "dˈʌbᵊlju", "x": "ˈɛks", "y": "wˈI", "z": "zˈi",
}
_MARKUP_UNSAFE = re.compile(r"[\[\]()\n/]")
_DATE = re.compile(r"(\d{1,4})[-/.](\d{1,2})[-/.](\d{1,4})")


def local_name(tag: object) -> str:
    """An element's name without its namespace or prefix (`{http://www.w3.org/2001/10/synthesis}break` → `break`,
    `amazon:breath` → `breath`), as the reader looks it up."""
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower() if isinstance(tag, str) else ""


def _marked(word: str, phonemes: str) -> str:
    word = _MARKUP_UNSAFE.sub(" ", word).strip() or "x"
    return f" [{word}](/{phonemes}/) "


# X-SAMPA (Polly's and Azure's ASCII phonetic alphabet) → IPA, longest symbols first
X_SAMPA = {
    "r\\`": "ɻ", "@`": "ɚ", "3`": "ɝ", "r\\": "ɹ", "j\\": "ʝ", "s\\": "ɕ", "z\\": "ʑ", "h\\": "ɦ", "l\\": "ɺ",
    "_h": "ʰ", "_0": "", "_~": "̃", "_j": "ʲ", "{": "æ", "A": "ɑ", "Q": "ɒ", "E": "ɛ", "I": "ɪ", "O": "ɔ", "U": "ʊ",
    "V": "ʌ", "@": "ə", "3": "ɜ", "S": "ʃ", "Z": "ʒ", "T": "θ", "D": "ð", "N": "ŋ", "J": "ɲ", "4": "ɾ", "R": "ʁ",
    "X": "χ", "G": "ɣ", "B": "β", "C": "ç", "L": "ʎ", "M": "ɯ", "H": "ɥ", "P": "ʋ", "W": "ʍ", "2": "ø", "9": "œ",
    "1": "ɨ", "}": "ʉ", "6": "ɐ", "7": "ɤ", "8": "ɵ", "&": "ɶ", "?": "ʔ", '"': "ˈ", "%": "ˌ", ":": "ː", "~": "̃",
    "=": "", "'": "ʲ", "g": "ɡ", "-": "",
}
_X_SAMPA = re.compile("|".join(re.escape(k) for k in sorted(X_SAMPA, key=len, reverse=True)))
# IPA symbols Kokoro lacks → the nearest it has (diacritics and anything else it lacks are dropped)
IPA_NEAREST = {"ʉ": "u", "ɵ": "o", "ɶ": "œ", "ʍ": "w", "ɦ": "h", "ʑ": "ʒ", "ɺ": "l", "ɬ": "l", "ʀ": "ʁ", "ɱ": "m",
               "ɭ": "l", "ʏ": "y", "ɘ": "ə", "ɞ": "ɜ", "ɯ": "ɯ", "ħ": "h", "ʕ": "ʔ", "ɧ": "ʃ", "ʡ": "ʔ"}
ALPHABETS = ("ipa", "x-sampa", "x-misaki", "misaki", "kokoro", "x-kokoro")


def to_misaki(ph: str, alphabet: str) -> str:
    """`ph` of an SSML `<phoneme>` in Kokoro's notation: IPA and X-SAMPA are converted (symbols Kokoro lacks mapped
    to the nearest or dropped), misaki/Kokoro notation kept; empty when nothing of it can be said."""
    ph = unicodedata.normalize("NFC", ph.strip())
    if alphabet == "x-sampa":
        ph = _X_SAMPA.sub(lambda m: X_SAMPA[m.group()], ph)
        alphabet = "ipa"
    if alphabet in ("ipa", ""):
        ph = unicodedata.normalize("NFD", ph).replace("\u0303", "")  # nasal vowels: Kokoro has none
        ph = unicodedata.normalize("NFC", ph)
        for ipa, misaki in _IPA_TO_MISAKI:
            ph = ph.replace(ipa, misaki)
        ph = ph.replace(":", "ː")
        ph = "".join(IPA_NEAREST.get(c, c) for c in ph)
    known = vocabulary()
    ph = "".join(c for c in ph if c in known or c.isspace())  # diacritics such as a voiceless ring, clicks
    if _MARKUP_UNSAFE.search(ph) or not ph.strip():
        return ""
    return " ".join(ph.split())


def _spelled(text: str) -> str:
    out = []
    for ch in text:
        if ch.lower() in _LETTERS:
            out.append(_marked(ch, _LETTERS[ch.lower()]))
        elif ch in "0123456789":
            out.append(f" {DIGITS[int(ch)]} ")
        elif ch.isalnum():  # a letter beyond a-z (é, ß, я): said as the G2P says it alone
            out.append(f" {ch} ")
    return "".join(out)


# say-as interpret-as values, by reading (GET /dev/ssml lists them)
SAY_AS = {
    "letter by letter": ("characters", "spell-out", "verbatim", "letters"),
    "digit by digit": ("digits", "number_digit"),
    "a number": ("cardinal", "number"),
    "an ordinal (1st: first)": ("ordinal",),
    "digit groups (a phone number)": ("telephone",),
    "a date, with format mdy, dmy, ymd or ydm": ("date",),
}


def say_as(text: str, interpret_as: str, fmt: str) -> str:
    """The words for `<say-as interpret-as=…>`; text it cannot interpret is read as written."""
    plain = text.strip()
    digits_only = re.sub(r"[\s,_]", "", plain)
    if interpret_as in SAY_AS["letter by letter"]:
        return _spelled(plain)
    if interpret_as in SAY_AS["digit by digit"]:
        return " ".join(DIGITS[int(c)] for c in plain if c in "0123456789") or plain
    if interpret_as in SAY_AS["a number"]:
        if re.fullmatch(r"-?[0-9]+(?:\.[0-9]+)?", digits_only):
            if "." in digits_only:
                return number(digits_only)
            # leading zeros say nothing in a cardinal ("007" is seven); very long numbers are read digit by digit
            return cardinal(str(int(digits_only)) if len(digits_only) <= 18 else digits_only)
        return plain
    if interpret_as == "ordinal":
        match = re.fullmatch(r"([0-9]+)(?:st|nd|rd|th)?\.?", digits_only, re.IGNORECASE)
        return ordinal(int(match.group(1))) if match and len(match.group(1)) <= 15 else plain
    if interpret_as == "telephone":
        groups = re.findall(r"[0-9]+", plain)
        return ", ".join(" ".join("oh" if c == "0" else DIGITS[int(c)] for c in g) for g in groups) or plain
    if interpret_as == "date":
        match = _DATE.fullmatch(plain)
        order = fmt.lower()
        if match and order in ("mdy", "dmy", "ymd", "ydm"):
            fields = {k: int(v) for k, v in zip(order, match.groups(), strict=True)}
            year = fields["y"] if len(match.group(order.index("y") + 1)) > 2 else 2000 + fields["y"]
            if 1 <= fields["m"] <= 12 and 1 <= fields["d"] <= 31:
                return f" {year:04d}-{fields['m']:02d}-{fields['d']:02d} "  # ISO: read unambiguously
        return plain
    return plain  # time, and anything else: the normalizer reads it as text


def _rate(value: str) -> float:
    value = value.strip().lower()
    if value in RATE_NAMES:
        return RATE_NAMES[value]
    try:
        if value.endswith("%"):
            number_ = float(value[:-1])
            rate = 1 + number_ / 100 if value[0] in "+-" else number_ / 100
        else:
            rate = 1 + float(value) if value[0] in "+-" else float(value)
    except (ValueError, IndexError):
        raise InvalidSSML(f"<prosody rate=\"{value}\">: use x-slow, slow, medium, fast, x-fast, a percentage "
                          "(80%, +20%) or a factor (1.2)") from None
    if not MIN_RATE <= rate <= MAX_RATE:
        raise InvalidSSML(f"<prosody rate=\"{value}\">: the rate must be between {MIN_RATE:g} and {MAX_RATE:g} "
                          "times the normal speed")
    return rate


# Elements whose content is not spoken: a description of audio, markers and settings of effects we cannot make
SILENT_ELEMENTS = frozenset({"desc", "mark", "bookmark", "metadata", "lexicon", "meta", "silence", "breath",
                             "backgroundaudio", "audioduration", "viseme", "voiceconversion"})
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_PREFIX = re.compile(r"<(/?)[A-Za-z_][\w.-]*:(?=[A-Za-z_])")  # `<mstts:express-as` → `<express-as`
_PREFIX_ATTRIBUTE = re.compile(r"\s(?!xml:)[A-Za-z_][\w.-]*:([A-Za-z_][\w.-]*=)")
_UNBOUND = "unbound prefix"


def _parse(text: str) -> Element:
    try:
        return fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except ParseError as exc:
        if _UNBOUND not in str(exc):
            raise
    # vendor elements (mstts:, amazon:, google:) written without their xmlns declaration: read them unprefixed
    return fromstring(_PREFIX_ATTRIBUTE.sub(r" \1", _PREFIX.sub(r"<\1", text)), forbid_dtd=True,
                      forbid_entities=True, forbid_external=True)


class _SSMLReader:
    def __init__(self, max_pause: float) -> None:
        self.max_pause = max_pause

    def read(self, text: str) -> Iterator[Segment]:
        if text.count("<") > MAX_ELEMENTS * 2 + 2:
            raise InvalidSSML(f"the SSML has more than {MAX_ELEMENTS} elements")
        try:
            root = _parse(text)
        except ParseError as exc:
            line, column = exc.position
            reason = str(exc).split(":")[0]
            raise InvalidSSML(f"the input starts with <speak> but is not well-formed SSML: {reason} at line "
                              f"{line}, column {column + 1}") from None
        except DefusedXmlException:
            raise InvalidSSML("SSML may not declare a DTD or entities (only &amp; &lt; &gt; &quot; &apos; and "
                              "character references)") from None
        if local_name(root.tag) != "speak":
            raise InvalidSSML(f"SSML's root element must be <speak>, not <{local_name(root.tag)}>")
        self.elements = 0
        # <speak xml:lang> is every vendor's boilerplate: a hint for vendor voice names, never a reading language
        self.document_language = root.attrib.get(XML_LANG) or root.attrib.get("lang")
        yield from self._children(root, Voicing(), 1)

    def _children(self, element: Element, voicing: Voicing, depth: int) -> Iterator[Segment]:
        if element.text:
            yield from _with_pauses(element.text, voicing, self.max_pause)
        for child in element:
            yield from self._element(child, voicing, depth + 1)
            if child.tail:
                yield from _with_pauses(child.tail, voicing, self.max_pause)

    def _voice(self, element: Element, voicing: Voicing) -> Voicing:
        """`<voice name=… xml:lang=… gender=…>` (W3C, Azure; Google's `language`): a speaker for its content."""
        attrib = element.attrib
        language = attrib.get(XML_LANG) or attrib.get("language") or attrib.get("lang")
        name = attrib.get("name", "").strip()
        gender = attrib.get("gender", "").strip().lower()
        if not name and gender in ("female", "male"):  # a speaker described, not named: a vendor-style name
            name = f"{language or voicing.language or self.document_language or 'en-US'}-{gender}"
        if name:
            voicing = Voicing(voice=name, where=f'<voice name="{name}">' if "name" in attrib
                              else f'<voice gender="{gender}">', language=voicing.language)
        return replace(voicing, language=language) if language else voicing

    def _element(self, element: Element, voicing: Voicing, depth: int) -> Iterator[Segment]:
        self.elements += 1
        if depth > MAX_DEPTH:
            raise InvalidSSML(f"the SSML nests deeper than {MAX_DEPTH} elements")
        if self.elements > MAX_ELEMENTS:
            raise InvalidSSML(f"the SSML has more than {MAX_ELEMENTS} elements")
        tag = local_name(element.tag)
        if tag in SILENT_ELEMENTS:
            return
        # emphasis, audio (its fallback), w, token, vendor elements (express-as, effect, style…): the content
        handler = ELEMENTS[tag].read if tag in ELEMENTS else _SSMLReader._children
        yield from handler(self, element, voicing, depth)

    def _break(self, element: Element, voicing: Voicing, depth: int) -> Iterator[Segment]:
        if "time" in element.attrib:
            yield Pause(parse_duration(element.attrib["time"], where='<break time="…">', max_seconds=self.max_pause))
            return
        strength = element.attrib.get("strength", "medium").strip().lower()
        if strength not in BREAK_STRENGTHS:
            raise InvalidSSML(f"<break strength=\"{strength}\">: use one of {', '.join(BREAK_STRENGTHS)}")
        yield Pause(BREAK_STRENGTHS[strength])

    def _say_as(self, element: Element, voicing: Voicing, depth: int) -> Iterator[Segment]:
        interpret_as = element.attrib.get("interpret-as", "").strip().lower()
        yield voicing.speech(f" {say_as(''.join(element.itertext()), interpret_as, element.attrib.get('format', ''))} ")

    def _sub(self, element: Element, voicing: Voicing, depth: int) -> Iterator[Segment]:
        yield voicing.speech(f" {element.attrib.get('alias', ''.join(element.itertext()))} ")

    def _phoneme(self, element: Element, voicing: Voicing, depth: int) -> Iterator[Segment]:
        inner = "".join(element.itertext())
        alphabet = element.attrib.get("alphabet", "ipa").strip().lower()
        phonemes = to_misaki(element.attrib.get("ph", ""), alphabet) if alphabet in ALPHABETS else ""
        # a pronunciation we cannot read (another alphabet, no symbol Kokoro has): the word, as written
        yield voicing.speech(_marked(inner, phonemes) if phonemes else f" {inner} ")

    def _prosody(self, element: Element, voicing: Voicing, depth: int) -> Iterator[Segment]:
        inner_rate = voicing.rate * _rate(element.attrib["rate"]) if "rate" in element.attrib else voicing.rate
        yield from self._children(element, replace(voicing, rate=min(MAX_RATE, max(MIN_RATE, inner_rate))), depth)

    def _paragraph(self, element: Element, voicing: Voicing, depth: int) -> Iterator[Segment]:
        # each its own paragraph: the splitter ends a sentence there, with a sentence's pause
        yield voicing.speech("\n\n")
        yield from self._children(element, voicing, depth)
        yield voicing.speech("\n\n")

    def _speaker(self, element: Element, voicing: Voicing, depth: int) -> Iterator[Segment]:
        yield from self._children(element, self._voice(element, voicing), depth)

    def _lang(self, element: Element, voicing: Voicing, depth: int) -> Iterator[Segment]:
        language = element.attrib.get(XML_LANG) or element.attrib.get("lang")
        yield from self._children(element, replace(voicing, language=language) if language else voicing, depth)


@dataclass(frozen=True)
class Handled:
    """An element the reader gives a meaning: its reading (for GET /dev/ssml) and the attributes it reads."""

    does: str
    attributes: tuple[str, ...]
    read: Callable[..., Iterator[Segment]]


_BLOCK = Handled("A paragraph (or sentence) of its own: the sentence ends there, with a sentence's pause.", (),
                 _SSMLReader._paragraph)
# What the reader does with each element it reads (GET /dev/ssml publishes this table); any other element's
# content is spoken (VENDOR_ELEMENTS names the vendors'), SILENT_ELEMENTS' is not.
ELEMENTS: dict[str, Handled] = {
    "speak": Handled("The root; xml:lang names the language vendor voice names are looked up in (never the "
                     "reading language).", ("xml:lang",), _SSMLReader._children),
    "break": Handled("Exact silence: time (1.5s, 800ms; up to the server's --max-pause-seconds) or strength "
                     "(see break_strengths).", ("time", "strength"), _SSMLReader._break),
    "say-as": Handled("The content read as interpret-as says (see say_as); other values: as written.",
                      ("interpret-as", "format"), _SSMLReader._say_as),
    "sub": Handled("alias is said instead of the content.", ("alias",), _SSMLReader._sub),
    "phoneme": Handled("The content said as ph, in alphabet (see phoneme_alphabets; default ipa): converted to "
                       "Kokoro's symbols, symbols Kokoro lacks mapped to the nearest or dropped; one it cannot "
                       "read: the word as written.", ("alphabet", "ph"), _SSMLReader._phoneme),
    "prosody": Handled("rate sets the content's pace (see prosody_rates, or 80%, +20%, 1.2), times the "
                       "request's speed; pitch, volume and contour are not made (the content is spoken).",
                       ("rate",), _SSMLReader._prosody),
    "voice": Handled("name switches the speaker for the content: a voice id, OpenAI name, blend, saved voice, "
                     "alias, or a cloud vendor's voice name (en-US-AvaNeural, Joanna) mapped to a Kokoro voice of "
                     "its language and gender; without a name, gender (with xml:lang or Google's language) picks "
                     "one. xml:lang (or language) reads the content in that language.",
                     ("name", "gender", "xml:lang", "language"), _SSMLReader._speaker),
    "lang": Handled("The content read in xml:lang's language by the current voice (a language Kokoro cannot "
                    "read: the current one).", ("xml:lang",), _SSMLReader._lang),
    **dict.fromkeys(("p", "paragraph", "s", "sentence"), _BLOCK),
}
# Elements whose content is spoken as plain text, their markup dropped (any element not listed is read so too)
SPOKEN_ELEMENTS = ("emphasis", "audio", "w", "token", "par", "seq", "media")
# The cloud vendors' own elements (their prefix written with or without its xmlns declaration): each is read as
# SILENT_ELEMENTS or SPOKEN say, or its content spoken
VENDOR_ELEMENTS = {
    "azure": ("mstts:express-as", "mstts:ttsembedding", "mstts:silence", "mstts:backgroundaudio",
              "mstts:audioduration", "mstts:viseme", "bookmark"),
    "google": ("par", "seq", "media", "google:style"),
    "amazon": ("amazon:effect", "amazon:domain", "amazon:emotion", "amazon:auto-breaths", "amazon:breath"),
}

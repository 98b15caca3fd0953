"""SSML and inline `[pause:1.5s]` markers → a script of spoken spans and exact pauses, before normalization.

Tags never reach the G2P: an SSML element becomes words, misaki's `[word](/phonemes/)` markup, a pause or a rate
span; the XML is read by defusedxml (no DTD, no entities beyond XML's five), within limits on depth and size.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterator
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
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)", re.IGNORECASE)
# <speak>, or an XML declaration or DTD before it (refused by the parser, but read as SSML, not as words)
_TAG = re.compile(r"<[^>]*>")
_SSML_START = re.compile(r"\s*(?:<\?xml|<!DOCTYPE|<speak[\s>/])", re.IGNORECASE)


@dataclass(frozen=True)
class Speech:
    """Text to read (or, with `phonemes`, Kokoro phonemes to speak), at `rate` times the request's speed."""

    text: str
    rate: float = 1.0


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


def _with_pauses(text: str, rate: float, max_pause: float) -> Iterator[Segment]:
    """`text` cut at its `[pause:…]` markers (Kokoro-FastAPI's syntax)."""
    start = 0
    for match in PAUSE_MARKER.finditer(text):
        if text[start : match.start()].strip():
            yield Speech(text[start : match.start()], rate)
        yield Pause(parse_duration(match.group(1), where=f"'{match.group()}'", max_seconds=max_pause))
        start = match.end()
    if text[start:].strip():
        yield Speech(text[start:], rate)


def _merged(segments: Iterator[Segment]) -> list[Segment]:
    """Adjacent spans at one rate joined (one reading, unbroken prosody), adjacent pauses added up; the total
    silence checked."""
    out: list[Segment] = []
    for segment in segments:
        last = out[-1] if out else None
        if isinstance(segment, Speech) and isinstance(last, Speech) and last.rate == segment.rate:
            out[-1] = Speech(last.text + segment.text, segment.rate)
        elif isinstance(segment, Pause) and isinstance(last, Pause):
            out[-1] = Pause(last.seconds + segment.seconds)
        elif not (isinstance(segment, Pause) and segment.seconds == 0):
            out.append(segment)
    total = sum(s.seconds for s in out if isinstance(s, Pause))
    if total > MAX_TOTAL_PAUSE_SECONDS:
        raise InvalidParameter(f"input asks for {total:g} s of pauses; one request may pause for "
                               f"{MAX_TOTAL_PAUSE_SECONDS:g} s in all", param="input", code="pause_too_long")
    return [s for s in out if not (isinstance(s, Speech) and not s.text.strip())]


def visible(text: str) -> str:
    """`text` with its SSML tags (when it is SSML) and `[pause:…]` markers blanked out, every other character in
    place: indices into it are indices into `text` (word timestamps point at the words a listener hears)."""
    def blank(match: re.Match) -> str:
        return " " * len(match.group())
    if is_ssml(text):
        text = _TAG.sub(blank, text)
    return PAUSE_MARKER.sub(blank, text)


def script(text: str, *, max_pause: float, ssml: bool | None = None) -> list[Segment]:
    """What `text` says, in order: SSML when it starts with `<speak>` (or `ssml` says so), otherwise plain text
    (or phonemes) with `[pause:1.5s]` markers."""
    if ssml if ssml is not None else is_ssml(text):
        return _merged(_SSMLReader(max_pause).read(text))
    return _merged(_with_pauses(text, 1.0, max_pause))


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


def _local(tag: object) -> str:
    """An element's name without its namespace (`{http://www.w3.org/2001/10/synthesis}break` → `break`)."""
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _marked(word: str, phonemes: str) -> str:
    word = _MARKUP_UNSAFE.sub(" ", word).strip() or "x"
    return f" [{word}](/{phonemes}/) "


def to_misaki(ph: str, alphabet: str) -> str:
    """`ph` of an SSML `<phoneme>` in Kokoro's notation: IPA is converted, misaki/Kokoro notation kept."""
    ph = unicodedata.normalize("NFC", ph.strip())
    if alphabet in ("ipa", ""):
        ph = unicodedata.normalize("NFD", ph).replace("\u0303", "")  # nasal vowels: Kokoro has none
        ph = unicodedata.normalize("NFC", ph)
        for ipa, misaki in _IPA_TO_MISAKI:
            ph = ph.replace(ipa, misaki)
        ph = ph.replace(":", "ː")
    if not ph.strip():
        raise InvalidSSML("<phoneme ph=\"\">: the pronunciation is empty")
    unknown = sorted({c for c in ph if c not in vocabulary() and not c.isspace()})
    if unknown or _MARKUP_UNSAFE.search(ph):
        raise InvalidSSML(f"<phoneme ph=\"{ph}\">: {', '.join(unknown) or 'these'} are not Kokoro phoneme symbols; "
                          "write IPA (alphabet=\"ipa\") or Kokoro's own notation (alphabet=\"x-misaki\")")
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


def say_as(text: str, interpret_as: str, fmt: str) -> str:
    """The words for `<say-as interpret-as=…>`; text it cannot interpret is read as written."""
    plain = text.strip()
    digits_only = re.sub(r"[\s,_]", "", plain)
    if interpret_as in ("characters", "spell-out", "verbatim", "letters"):
        return _spelled(plain)
    if interpret_as in ("digits", "number_digit"):
        return " ".join(DIGITS[int(c)] for c in plain if c in "0123456789") or plain
    if interpret_as in ("cardinal", "number"):
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


class _SSMLReader:
    def __init__(self, max_pause: float) -> None:
        self.max_pause = max_pause

    def read(self, text: str) -> Iterator[Segment]:
        if text.count("<") > MAX_ELEMENTS * 2 + 2:
            raise InvalidSSML(f"the SSML has more than {MAX_ELEMENTS} elements")
        try:
            root = fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        except ParseError as exc:
            line, column = exc.position
            reason = str(exc).split(":")[0]
            raise InvalidSSML(f"the input starts with <speak> but is not well-formed SSML: {reason} at line "
                              f"{line}, column {column + 1}") from None
        except DefusedXmlException:
            raise InvalidSSML("SSML may not declare a DTD or entities (only &amp; &lt; &gt; &quot; &apos; and "
                              "character references)") from None
        if _local(root.tag) != "speak":
            raise InvalidSSML(f"SSML's root element must be <speak>, not <{_local(root.tag)}>")
        self.elements = 0
        yield from self._children(root, 1.0, 1)

    def _children(self, element: Element, rate: float, depth: int) -> Iterator[Segment]:
        if element.text:
            yield from _with_pauses(element.text, rate, self.max_pause)
        for child in element:
            yield from self._element(child, rate, depth + 1)
            if child.tail:
                yield from _with_pauses(child.tail, rate, self.max_pause)

    def _element(self, element: Element, rate: float, depth: int) -> Iterator[Segment]:
        self.elements += 1
        if depth > MAX_DEPTH:
            raise InvalidSSML(f"the SSML nests deeper than {MAX_DEPTH} elements")
        if self.elements > MAX_ELEMENTS:
            raise InvalidSSML(f"the SSML has more than {MAX_ELEMENTS} elements")
        tag = _local(element.tag)
        inner = "".join(element.itertext())
        if tag == "break":
            if "time" in element.attrib:
                yield Pause(parse_duration(element.attrib["time"], where='<break time="…">',
                                           max_seconds=self.max_pause))
            else:
                strength = element.attrib.get("strength", "medium").strip().lower()
                if strength not in BREAK_STRENGTHS:
                    raise InvalidSSML(f"<break strength=\"{strength}\">: use one of {', '.join(BREAK_STRENGTHS)}")
                yield Pause(BREAK_STRENGTHS[strength])
        elif tag == "say-as":
            interpret_as = element.attrib.get("interpret-as", "").strip().lower()
            yield Speech(f" {say_as(inner, interpret_as, element.attrib.get('format', ''))} ", rate)
        elif tag == "sub":
            yield Speech(f" {element.attrib.get('alias', inner)} ", rate)
        elif tag == "phoneme":
            alphabet = element.attrib.get("alphabet", "ipa").strip().lower()
            if alphabet not in ("ipa", "x-misaki", "misaki", "kokoro", "x-kokoro"):
                raise InvalidSSML(f"<phoneme alphabet=\"{alphabet}\">: use ipa, or x-misaki for Kokoro's notation")
            if "ph" not in element.attrib:
                raise InvalidSSML("<phoneme> needs a ph attribute with the pronunciation")
            yield Speech(_marked(inner, to_misaki(element.attrib["ph"], alphabet)), rate)
        elif tag == "prosody":
            inner_rate = rate * _rate(element.attrib["rate"]) if "rate" in element.attrib else rate
            yield from self._children(element, min(MAX_RATE, max(MIN_RATE, inner_rate)), depth)
        elif tag in ("p", "paragraph", "s", "sentence"):
            # each its own paragraph: the splitter ends a sentence there, with a sentence's pause
            yield Speech("\n\n", rate)
            yield from self._children(element, rate, depth)
            yield Speech("\n\n", rate)
        else:  # emphasis, voice, lang, mark, audio…: SSML says render the content
            yield from self._children(element, rate, depth)

"""Reading a request's text into the pieces the model speaks, and the /phonemize report of the same reading.

    text → script (text/ssml.py: spoken spans at their rates, exact pauses) → cast (pipeline/cast.py: each span's
         voice and language) → words (text/normalize/, lexicons) → sentences (text/split.py)
         → phonemes (text/phonemize.py, lazily) → pieces within the frame budget, each naming its speaker
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Callable, Iterable, Iterator, NamedTuple

from kokoro_speech.errors import InvalidParameter, NothingToSay
from kokoro_speech.kokoro import ENGLISH, MAX_INPUT_CHARACTERS
from kokoro_speech.pipeline.cast import Cast
from kokoro_speech.pipeline.timestamps import Timeline
from kokoro_speech.text.lexicon import Lexicon
from kokoro_speech.text.normalize import DEFAULT as DEFAULT_READING
from kokoro_speech.text.normalize import Reading as TextReading
from kokoro_speech.text.normalize import normalize_for
from kokoro_speech.text.phonemize import Phonemizers
from kokoro_speech.text.ssml import MAX_RATE, MIN_RATE, Pause, Segment, Speech, Voicing, script
from kokoro_speech.text.split import Piece, budgets, plan_pieces, split_phoneme_sentences, split_sentences

ENGLISH_US = "a"
MAX_SPOKEN_CHARACTERS = 4 * MAX_INPUT_CHARACTERS  # normalized text; ordinary prose grows by a few percent at most


def span_speed(speed: float, rate: float) -> float:
    """The request's speed times an SSML span's rate, within the model's usable range."""
    return min(MAX_RATE, max(MIN_RATE, speed * rate))


def spoken_words(text: str, language: str, lexicons: Iterable[Lexicon],
                 reading: TextReading = DEFAULT_READING) -> str:
    """What the G2P reads: normalized text (text/normalize/, in the reading language, as `reading` says) with each
    lexicon's custom pronunciations marked, the first lexicon's first."""
    british = language == "b" if language in ENGLISH else None  # None: not English
    words = normalize_for(text, language, reading)
    for lexicon in lexicons:
        words = lexicon.apply(words, british)
    return words


def read_script(text: str, cast: Cast, lexicons: Iterable[Lexicon], *, max_pause: float,
                input_is_phonemes: bool = False, voice_tags: bool = False,
                voicing: Voicing | None = None, reading: TextReading = DEFAULT_READING) -> list[Segment]:
    """The request's spoken spans and exact pauses, in order: SSML read (input starting with <speak>),
    `[pause:1.5s]` markers (and with `voice_tags`, `[voice:…]`/`[rate:…]` tags) cut out, each span given its
    speaker and language by the cast and its text normalized in that language (phonemes are kept as they are)."""
    segments = cast.assign(script(text, max_pause=max_pause, ssml=False if input_is_phonemes else None,
                                  voice_tags=voice_tags and not input_is_phonemes, voicing=voicing))
    if input_is_phonemes:
        return segments
    lexicons = list(lexicons)
    read = [s if isinstance(s, Pause)
            else replace(s, text=spoken_words(s.text, s.language or ENGLISH_US, lexicons, reading))
            for s in segments]
    spoken = sum(len(s.text) for s in read if isinstance(s, Speech))
    if spoken > MAX_SPOKEN_CHARACTERS:  # e.g. 4,096 digits read one by one: minutes of audio
        raise InvalidParameter(
            f"input reads aloud as {spoken} characters of words; the limit is {MAX_SPOKEN_CHARACTERS}",
            param="input", code="input_too_long")
    return read


def _read_phonemes(timeline: Timeline, sentence: str) -> str:
    """Phoneme input: each of its words is a word of its own."""
    return timeline.read(sentence, sentence, None)


def _read_timed(phonemizers: Phonemizers, language: str, timeline: Timeline, sentence: str) -> str:
    return timeline.read(sentence, *phonemizers.read(sentence, language))


def pieces(segments: list[Segment], phonemizers: Phonemizers, language: str, *, speed: float,
           max_piece_frames: int, input_is_phonemes: bool = False, on_sentence: Callable[[str], None] | None = None,
           timeline: Timeline | None = None, quick_start: bool = True) -> Iterator[Piece | Pause]:
    """The pieces the model will speak and the pauses between them, in order, each piece within the frame budget
    at its speed; `on_sentence` hears of each sentence once it is read; `timeline` (word timestamps) gets each
    sentence's tokens. With `input_is_phonemes`, the spans are already Kokoro phonemes: only cut, never read.
    Without `quick_start` (background work, which no one waits to hear), even the first piece is a full one."""
    phonemize: Callable[[str], str]
    first = quick_start
    for segment in segments:
        if isinstance(segment, Pause):
            yield segment
            continue
        here = segment.language or language
        if input_is_phonemes:
            sentences = split_phoneme_sentences(segment.text)
            phonemize = str if timeline is None else partial(_read_phonemes, timeline)
        else:
            sentences = split_sentences(segment.text)
            phonemize = (partial(phonemizers.phonemize, language=here) if timeline is None
                         else partial(_read_timed, phonemizers, here, timeline))
        speed_here = span_speed(speed, segment.rate)
        first_budget, max_budget = budgets(speed_here, max_piece_frames)
        # only the request's first piece is short (for a quick start); a later span's need not be
        for piece in plan_pieces(_reported(sentences, on_sentence), phonemize,
                                 first_budget=first_budget if first else max_budget, max_budget=max_budget,
                                 speed=speed_here):
            yield piece if segment.voice is None else replace(piece, voice=segment.voice)
        first = False


def _reported(sentences: list[str], on_sentence: Callable[[str], None] | None) -> Iterator[str]:
    for sentence in sentences:
        yield sentence
        if on_sentence is not None:
            on_sentence(sentence)


def until_speech(items: Iterator[Piece | Pause]) -> list[Piece | Pause] | None:
    """The leading pauses and the first piece to speak; None when nothing at all is spoken."""
    head: list[Piece | Pause] = []
    for item in items:
        head.append(item)
        if isinstance(item, Piece):
            return head
    return None


class Reading(NamedTuple):
    """How the server reads a text (/phonemize): the normalized text and the phonemes the model gets (pauses
    written as `[pause:…]` markers, which input_is_phonemes accepts), their token count, and the spans and
    pauses one by one (SSML's rates included)."""

    normalized: str
    phonemes: str
    tokens: int
    segments: list[dict]


def report(segments: list[Segment], phonemizers: Phonemizers, language: str) -> Reading:
    """The reading of `segments` (read_script's) as /phonemize shows it; NothingToSay when none of it is spoken."""
    normalized, phonemes, tokens, described = [], [], 0, []
    for segment in segments:
        if isinstance(segment, Pause):
            marker = f"[pause:{segment.seconds:g}s]"
            normalized.append(marker)
            phonemes.append(marker)
            described.append({"type": "pause", "seconds": segment.seconds})
            continue
        g2p = partial(phonemizers.phonemize, language=segment.language or language)
        planned = list(plan_pieces(split_sentences(segment.text), g2p))
        read = " ".join(p.phonemes for p in planned)
        tokens += sum(p.token_count for p in planned)
        normalized.append(segment.text)
        phonemes.append(read)
        described.append({"type": "speech", "text": segment.text, "phonemes": read, "rate": segment.rate,
                          "voice": segment.voice, "language": segment.language})
    if not tokens:
        raise NothingToSay()
    return Reading(" ".join(normalized), " ".join(p for p in phonemes if p), tokens, described)

"""Characters and spaces: HTML-like tags, Unicode NFC, control characters and emoji out; spaces collapsed.
Language-neutral, so `clean` uses these too."""

from __future__ import annotations

import re
import unicodedata

import emoji

from kokoro_speech.text.normalize.rules import Rule

_KEEP_SYMBOLS = set("°©®™℃℉€£¥₹₩₽₿$¢§¶№")
_SKIN_TONES = range(0x1F3FB, 0x1F400)


def _unusual(match: re.Match[str]) -> str:
    ch = match.group()
    if ch == "\r":
        return " "
    category = unicodedata.category(ch)
    if category in ("Zl", "Zp"):
        return "\n"
    if category[0] == "C":  # control, format (zero-width, bidi), surrogate, private use, unassigned
        return ""
    if category == "So" and ch not in _KEEP_SYMBOLS:  # emoji and pictographs: skipped silently
        return ""
    if 0xFE00 <= ord(ch) <= 0xFE0F or ch == "\u20e3" or ord(ch) in _SKIN_TONES:  # variation selectors, keycaps
        return ""
    return ch


_KEYCAP = re.compile("([0-9#*])\ufe0f?\u20e3")  # "1️⃣" is the digit
_SKIN_TONE = re.compile("[\U0001F3FB-\U0001F3FF]")  # "👍🏽" is named as "👍"
# the language of each voice's emoji names (the emoji package's CLDR names); Hindi has none there: English
EMOJI_LANGUAGES = {"e": "es", "f": "fr", "i": "it", "p": "pt", "j": "ja", "z": "zh"}


def _english_name(text: str, data: dict) -> str:
    """ "🎉" → "party popper", "🇺🇸" → "flag of United States"."""
    name = data["en"].strip(":").replace("_", " ")
    if all(0x1F1E6 <= ord(ch) <= 0x1F1FF for ch in text):  # two regional indicators: a country's flag
        name = f"flag of {name}"
    return f" {name} "


def _emoji_names(match: re.Match[str], language: str) -> str:
    text = _SKIN_TONE.sub("", _KEYCAP.sub(r"\1", match.group()))
    if language not in EMOJI_LANGUAGES:
        return emoji.replace_emoji(text, _english_name)
    named = emoji.demojize(text, language=EMOJI_LANGUAGES[language], delimiters=("\ue002", "\ue002"))
    return re.sub("\ue002([^\ue002]*)\ue002", lambda m: f" {m.group(1).replace('_', ' ')} ", named)


def emoji_rules(how: str, language: str) -> tuple[Rule, ...]:
    """Emoji are skipped (by "unusual character" below) unless the server reads them by name (--emoji name), in
    the voice's language where the emoji package has names for it."""
    if how == "skip":
        return ()
    return (Rule("emoji by name", re.compile(r"[\s\S]+"), lambda m: _emoji_names(m, language),
                 needs=lambda text: not text.isascii() and emoji.emoji_count(text) > 0),)


UNICODE = (
    # HTML/SSML/XML-like tags are markup, not words: <speak>, </b>, <break time="1s"/>
    Rule("tag", re.compile(r"</?[A-Za-z][\w:.-]*(?:\s+[\w:.-]+(?:\s*=\s*(?:\"[^\"<>]*\"|'[^'<>]*'|[^\s<>]+))?)*\s*/?>"),
         " ", needs="<"),
    # no ASCII character composes with its neighbours, so a non-ASCII run with the character before it is closed
    Rule("NFC", re.compile(r"[\s\S]?[^\x00-\x7f]+"), lambda m: unicodedata.normalize("NFC", m.group()),
         needs=lambda text: not text.isascii()),
    # typographic apostrophes and quotes read as the ASCII ones: "I’m", "don’t", "“Yes,” she said"
    Rule("curly apostrophe", re.compile(r"[‘’‛ʼ′](?=\w)|(?<=\w)[’ʼ]"), "'", needs="‘’‛ʼ′"),
    Rule("curly quote", re.compile(r"[“”„‟«»]|[‘’‛]"), lambda m: '"' if m.group() in "“”„‟«»" else "'",
         needs="“”„‟«»‘’‛"),
    Rule("unusual character", re.compile(r"[^\x20-\x7e\n\t]"), _unusual),
)

SPACES = Rule("spaces", re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+"), " ")

TIDY = (
    SPACES,
    Rule("space before punctuation", re.compile(r" +([,.;:!?])"), r"\1", needs=",.;:!?"),
    Rule("space at a line's edge", re.compile(r"^ +| +$", re.MULTILINE), ""),
    Rule("blank lines", re.compile(r"\n{3,}"), "\n\n", needs="\n"),
)

SPACING = (
    # "1 000 000" with no-break or thin spaces: joined before those become plain spaces
    Rule("thousands with thin spaces", re.compile(r"(?<![\d.,])\d{1,3}(?:[\u00a0\u2009\u202f]\d{3})+(?!\d)"),
         lambda m: re.sub(r"\D", "", m.group()), needs="\u00a0\u2009\u202f"),
    SPACES,
)

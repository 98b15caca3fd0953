"""Cloud vendors' voice names (Azure, Google Cloud TTS, Amazon Polly) → the Kokoro voice of that language and
gender, so that SSML written for those services picks a fitting speaker here (documented in docs/api.md).

A vendor name says its language (`en-US-AvaNeural`: American English) or not (Polly's `Joanna`); its gender comes
from the table of well-known names below, or from a trailing `-female`/`-male` (how SSML's `<voice gender>` is
passed in), else the language's first voice.
"""

from __future__ import annotations

import re

from kokoro_speech.kokoro import language_letter

# The Kokoro voice for each language and gender: each language's best-graded voice (Kokoro's VOICES.md grades)
KOKORO_VOICE_FOR = {
    ("a", "female"): "af_heart", ("a", "male"): "am_michael",
    ("b", "female"): "bf_emma", ("b", "male"): "bm_george",
    ("e", "female"): "ef_dora", ("e", "male"): "em_alex",
    ("f", "female"): "ff_siwis", ("f", "male"): "ff_siwis",  # Kokoro has no male French voice
    ("h", "female"): "hf_alpha", ("h", "male"): "hm_omega",
    ("i", "female"): "if_sara", ("i", "male"): "im_nicola",
    ("j", "female"): "jf_alpha", ("j", "male"): "jm_kumo",
    ("p", "female"): "pf_dora", ("p", "male"): "pm_alex",
    ("z", "female"): "zf_xiaoxiao", ("z", "male"): "zm_yunxi",
}

# Well-known vendor voice names (Azure's without "Neural", Polly's, Google's Chirp HD names): gender, and for
# Polly (whose names carry no locale) the language
VENDOR_NAMES: dict[str, tuple[str, str | None]] = {
    # Azure
    **{name: ("female", None) for name in (
        "ava", "emma", "jenny", "aria", "sara", "jane", "nancy", "michelle", "ana", "amber", "ashley", "cora",
        "elizabeth", "monica", "sonia", "libby", "maisie", "hollie", "abbi", "bella", "olivia", "natasha",
        "elvira", "dalia", "ximena", "denise", "vivienne", "brigitte", "eloise", "swara", "ananya", "isabella",
        "elsa", "fiammetta", "nanami", "aoi", "mayu", "shiori", "francisca", "thalita", "leila", "xiaoxiao",
        "xiaoyi", "xiaochen", "xiaohan", "xiaomo", "xiaorui", "xiaoshuang", "xiaoxuan", "xiaoyan", "xiaozhen")},
    **{name: ("male", None) for name in (
        "andrew", "brian", "guy", "davis", "tony", "jason", "christopher", "eric", "roger", "steffan", "jacob",
        "brandon", "ryan", "thomas", "alfie", "elliot", "ethan", "noah", "oliver", "william", "alvaro", "jorge",
        "henri", "remy", "jerome", "madhur", "prabhat", "diego", "benigno", "giuseppe", "keita", "daichi",
        "naoki", "antonio", "donato", "yunxi", "yunjian", "yunyang", "yunxia", "yunfeng", "yunhao", "yunye")},
    # Amazon Polly
    **{name: ("female", "a") for name in ("joanna", "kendra", "kimberly", "salli", "ivy", "ruth", "danielle",
                                         "joanna", "olivia")},
    **{name: ("male", "a") for name in ("matthew", "justin", "joey", "kevin", "stephen", "gregory")},
    **{name: ("female", "b") for name in ("amy", "emma", "arthur")},
    **{name: ("female", "e") for name in ("lucia", "conchita", "lupe", "mia", "penelope")},
    **{name: ("male", "e") for name in ("enrique", "miguel", "pedro", "andres")},
    **{name: ("female", "f") for name in ("celine", "lea", "chantal", "gabrielle")},
    **{name: ("male", "f") for name in ("mathieu", "remi", "liam")},
    **{name: ("female", "h") for name in ("aditi", "kajal", "raveena")},
    **{name: ("female", "i") for name in ("carla", "bianca")},
    **{name: ("male", "i") for name in ("giorgio", "adriano")},
    **{name: ("female", "j") for name in ("mizuki", "kazuha", "tomoko")},
    **{name: ("male", "j") for name in ("takumi",)},
    **{name: ("female", "p") for name in ("camila", "vitoria")},
    **{name: ("male", "p") for name in ("ricardo", "thiago")},
    **{name: ("female", "z") for name in ("zhiyu",)},
    # Google's Chirp 3 HD voices (named for stars and moons)
    **{name: ("female", None) for name in ("aoede", "kore", "leda", "zephyr", "callirrhoe", "autonoe", "despina",
                                         "erinome", "laomedeia", "pulcherrima", "vindemiatrix", "achernar",
                                         "gacrux", "sulafat")},
    **{name: ("male", None) for name in ("puck", "charon", "fenrir", "orus", "enceladus", "iapetus", "umbriel",
                                       "algieba", "algenib", "rasalgethi", "alnilam", "schedar", "achird",
                                       "zubenelgenubi", "sadachbia", "sadaltager")},
}
_GENDER_WORDS = {"female": "female", "male": "male", "woman": "female", "man": "male"}

# `en-US-AvaNeural`, `en-US-AvaMultilingualNeural`, `en-GB-Neural2-B`, `ja-JP-Chirp3-HD-Aoede`, `en-US-female`
_LOCALE_NAME = re.compile(r"([a-z]{2,3}(?:-[A-Za-z]{2,4})?)-([A-Za-z0-9-]+?)(?:Multilingual)?(?:Neural|HD)?",
                          re.IGNORECASE)


def reading_language(tag: str) -> str | None:
    """The Kokoro language letter a locale names (`es-MX`: Spanish, `en-AU`: English), or None."""
    tag = tag.strip().lower().replace("_", "-")
    return language_letter(tag) or language_letter(tag.split("-")[0])


_VENDOR_SHAPE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*")  # no blends, weights or Kokoro ids


def vendor_voice(name: str, language_hint: str | None = None) -> str | None:
    """The Kokoro voice id for a vendor's voice `name`, or None when the name is not a vendor's. `language_hint` (a
    letter) is the language around it, for names without a locale."""
    language, words = None, name.strip()
    if not _VENDOR_SHAPE.fullmatch(words):
        return None
    match = _LOCALE_NAME.fullmatch(words)
    if match is not None and reading_language(match.group(1)) is not None:
        language, words = reading_language(match.group(1)), match.group(2)
    parts = [p.lower() for p in words.split("-") if p]
    gender, known_language = None, None
    for part in parts:
        if part in _GENDER_WORDS:
            gender = _GENDER_WORDS[part]
        elif part in VENDOR_NAMES:
            gender, known_language = VENDOR_NAMES[part]
    if language is None:
        if known_language is None:
            return None  # neither a locale nor a name we know: not a vendor voice
        language = known_language
    if language == "a" and match is not None and match.group(1).lower() not in ("en-us", "en"):
        language = "b" if match.group(1).lower() in ("en-gb", "en-ie", "en-au", "en-nz", "en-za", "en-in") else "a"
    language = language or language_hint or "a"
    return KOKORO_VOICE_FOR[(language, gender or "female")]

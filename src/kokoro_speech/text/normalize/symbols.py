"""Symbols as words: "&" → "and", "=" → "equals", "→" → "to", "%" → "percent", "°" → "degrees";
marks that are not read (bullets, pipes, stray Markdown) become pauses or spaces."""

from __future__ import annotations

import re

from kokoro_speech.text.normalize.rules import Rule

# "word(s)": both readings at once; a listener hears the plural ("file(s)" → "files")
OPTIONAL_PLURAL = Rule("optional plural", re.compile(r"(?<=[A-Za-z])\(s\)"), "s", needs="(s)")

SYMBOLS = (
    Rule("and/or", re.compile(r"\band/or\b"), "and or", needs="/"),
    Rule("ampersand", re.compile(r"\s*&\s*"), " and ", needs="&"),
    Rule("plus plus", re.compile(r"(?<=\w)\+\+"), " plus plus", needs="+"),
    Rule("equals", re.compile(r"\s*(?<![=!<>])==?(?![=>])\s*"), " equals ", needs="="),
    Rule("not equal", re.compile(r"\s*≠\s*"), " does not equal ", needs="≠"),
    Rule("approximately", re.compile(r"\s*≈\s*"), " approximately ", needs="≈"),
    Rule("at most", re.compile(r"\s*≤\s*|\s+<=\s+"), " less than or equal to ", needs="≤<"),
    Rule("at least", re.compile(r"\s*≥\s*|\s+>=\s+"), " greater than or equal to ", needs="≥>"),
    Rule("less than", re.compile(r"(?<=\w)\s+<\s+(?=\w)"), " less than ", needs="<"),
    Rule("greater than", re.compile(r"(?<=\w)\s+>\s+(?=\w)"), " greater than ", needs=">"),
    Rule("arrow", re.compile(r"\s*(?:→|->|⇒|=>)\s*"), " to ", needs="→⇒>"),
    Rule("plus or minus", re.compile(r"\s*±\s*"), " plus or minus ", needs="±"),
    Rule("times", re.compile(r"\s*×\s*"), " times ", needs="×"),
    Rule("divided by", re.compile(r"\s*÷\s*"), " divided by ", needs="÷"),
    Rule("plus", re.compile(r"\s*\+\s*"), " plus ", needs="+"),
    Rule("minus", re.compile(r"(?<=\s)[-−](?=\s+(?:zero|one|two|three|four|five|six|seven|eight|nine|ten)\b)"), "minus",
         needs="-−"),
    Rule("at", re.compile(r"\s*@\s*"), " at ", needs="@"),
    Rule("percent", re.compile(r"\s*%"), " percent", needs="%"),
    Rule("degrees", re.compile(r"°"), " degrees ", needs="°"),
    Rule("section", re.compile(r"§\s*"), "section ", needs="§"),
    Rule("copyright", re.compile(r"©\s*"), "copyright ", needs="©"),
    Rule("trademark", re.compile(r"[®™]"), "", needs="®™"),
    Rule("slash", re.compile(r"(?<=\w)/(?=\w)"), " or ", needs="/"),
    Rule("separator", re.compile(r"\s*[•·|¦]\s*"), ", ", needs="•·|¦"),
    Rule("unread mark", re.compile(r"[#*^_~`\\<>{}¶]"), " ", needs="#*^_~`\\<>{}¶"),
)

"""The web's written forms read aloud: e-mail addresses, URLs, bare domains, file names, hashtags, handles.
"docs.example.com/a-b" → "docs dot example dot com slash a b"."""

from __future__ import annotations

import re

from kokoro_speech.text.normalize.rules import Rule

_TLDS = (
    "com|org|net|edu|gov|mil|int|io|dev|ai|app|co|uk|us|ca|au|de|fr|es|it|nl|se|no|ch|jp|cn|in|br|ru|eu|"
    "info|biz|me|tv|ly|gg|xyz|tech|site|online|store|blog|news|cloud|page|sh|fm|am"
)
_SPELLED_TLDS = {"io", "ai", "uk", "us", "ca", "au", "de", "fr", "es", "it", "nl", "se", "ch", "jp", "cn", "in",
                 "br", "ru", "eu", "tv", "gg", "fm", "sh", "am", "ly", "edu"}
_TLD_WORDS = {"edu": "E D U"}
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")
_EXTENSIONS = {
    "json": "Jay-son", "jsonl": "Jay-son L", "yaml": "Yaml", "yml": "Yaml", "toml": "Toml", "py": "pie", "js": "J S",
    "ts": "T S", "md": "M D", "txt": "text", "csv": "CSV", "pdf": "PDF", "html": "HTML", "css": "CSS", "png": "PNG",
    "jpg": "Jay-peg", "jpeg": "Jay-peg", "gif": "gif", "mp3": "MP three", "mp4": "MP four", "wav": "wave",
    "zip": "zip", "exe": "E X E", "sh": "S H", "xml": "XML", "sql": "sequel", "log": "log", "ini": "I N I",
    "cfg": "config", "rs": "R S", "rb": "R B", "cpp": "C P P", "docx": "doc X", "xlsx": "X L S X",
    "pptx": "P P T X", "svg": "SVG", "webp": "web P", "gz": "G Z", "onnx": "onnx", "bin": "bin", "pt": "P T",
}


def _domain_words(host: str) -> str:
    parts = host.lower().split(".")
    words = []
    for i, part in enumerate(parts):
        if i == 0 and part == "www":
            words.append("W W W")
        elif i == len(parts) - 1 and part in _SPELLED_TLDS:
            words.append(_TLD_WORDS.get(part, part.upper()))
        else:
            words.append(" ".join(p for p in part.split("-") if p))
    return " dot ".join(words)


def _path_words(path: str) -> str:
    path = re.split(r"[?#]", path, maxsplit=1)[0].strip("/")
    segments = (re.sub(r"[-_+.%=~]+", " ", re.sub(r"\.(html?|php|aspx?)$", "", s)).strip() for s in path.split("/"))
    return " slash ".join(s for s in segments if s)


def _address(host: str, path: str) -> str:
    path_words = _path_words(path)
    return _domain_words(host) + (f" slash {path_words}" if path_words else "")


def _url(match: re.Match[str]) -> str:
    url, trailing = re.fullmatch(r"(.*?)([.,;:!?)\]}'\"]*)", match.group()).groups()  # sentence punctuation
    host, _, path = re.sub(r"^[a-z]+://", "", url, flags=re.IGNORECASE).partition("/")
    words = _address(host.split("@")[-1].split(":")[0], path)
    return f" {words} {trailing}" if trailing else f" {words} "


def _email(match: re.Match[str]) -> str:
    local = match.group(1)
    if local.isupper():
        local = local.lower()
    local = local.replace(".", " dot ").replace("_", " underscore ").replace("+", " plus ").replace("-", " dash ")
    return f"{' '.join(local.split())} at {_domain_words(match.group(2))}"


WEB = (
    Rule("e-mail", re.compile(r"(?<![\w.+-])([A-Za-z0-9][\w.+-]*)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"), _email,
         needs="@"),
    Rule("URL", re.compile(r"\b(?:(?:https?|ftp)://|www\.)[^\s<>\"'`]+", re.IGNORECASE), _url,
         needs=lambda text: "://" in text or "www." in text.lower()),
    Rule("bare domain", re.compile(
        rf"(?<![\w@./-])((?:[A-Za-z0-9-]+\.)+(?:{_TLDS}))(/[^\s<>\"'`]*)?(?![\w@-]|\.[A-Za-z0-9])", re.IGNORECASE),
         lambda m: _address(m.group(1), m.group(2) or ""), needs=re.compile(rf"\.(?:{_TLDS})\b", re.IGNORECASE).search),
    Rule("file name", re.compile(
        r"(?<![\w.@/])([A-Za-z_][\w-]*)\.(json|jsonl|yaml|yml|toml|py|js|ts|md|txt|csv|pdf|html|css|png|jpe?g|gif|"
        r"mp3|mp4|wav|zip|exe|sh|xml|sql|log|ini|cfg|rs|rb|cpp|docx|xlsx|pptx|svg|webp|gz|onnx|bin|pt)\b(?!\.\w)"),
         lambda m: f"{m.group(1).replace('_', ' ')} dot {_EXTENSIONS[m.group(2)]}",
         # the test is part of the behaviour: "x.mp3" is read as a file only beside a letters-only extension
         needs=re.compile(r"\.[a-z]{1,5}\b").search),
    Rule("hashtag", re.compile(r"(?<![\w&#/])#([A-Za-z][A-Za-z0-9_]*)"),
         lambda m: "hashtag " + " ".join(_CAMEL.sub(" ", m.group(1).replace("_", " ")).split()), needs="#"),
    Rule("handle", re.compile(r"(?<![\w.@/])@([A-Za-z0-9_]{1,30})\b"),
         lambda m: "at " + " ".join(m.group(1).replace("_", " ").split()), needs="@"),
)

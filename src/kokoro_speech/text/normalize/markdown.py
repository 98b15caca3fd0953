"""Markdown → plain text: fences, rules and table separators go, table rows become lists, links their text,
headings and list items end with a pause, emphasis marks go."""

from __future__ import annotations

import re

from kokoro_speech.text.normalize.rules import Rule

# run only where Markdown is likely: it would also drop a lone "--" line or the brackets of "<http://...>"
MARKDOWN_HINT = re.compile(r"^[ \t]*(?:#|>|[-+•] |\d+[.)] |\|)|---|[*_`~\[]", re.MULTILINE)

_HEADING_CLOSE = re.compile(r"[ \t]+#+[ \t]*$")
_ENDS_SENTENCE = re.compile(r"[.!?:;…,]['\"”’)\]]*\s*$")


def _block_line(match: re.Match[str]) -> str:
    heading, bullet, numbered, content = match.groups()
    if heading:
        content = _HEADING_CLOSE.sub("", content)
    content = content.rstrip()
    if (heading or bullet or numbered) and content and not _ENDS_SENTENCE.search(content):
        content += "."  # headings and list items get a pause
    return content


def _table_row(match: re.Match[str]) -> str:
    line = ", ".join(c.strip() for c in match.group(1).split("|") if c.strip())
    return line + "." if line and not _ENDS_SENTENCE.search(line) else line


def _code_words(code: str) -> str:
    code = re.sub(r"(?<=[A-Za-z_)])\.(?=[A-Za-z_])", " dot ", code)
    return " ".join(re.sub(r"[_()\[\]{};]+", " ", code).split()) or code


_EMPHASIS = re.compile(r"(\*\*|\*|~~|`)(?=\S)(.+?)(?<=\S)\1|(?<!\w)(__|_)(?=\S)(.+?)(?<=\S)\3(?!\w)")


def _emphasis(match: re.Match[str]) -> str:
    return match.group(2) if match.group(2) is not None else match.group(4)


# what the server does with code blocks and tables (--code-blocks, --markdown-tables): read (the rules of
# MARKDOWN below make a code block's lines and a table's rows plain text) or skip, with these rules first
CODE_BLOCKS = {
    "read": (),
    "skip": (Rule("code block", re.compile(
        r"^[ \t]{0,3}(```|~~~)[^\n]*\n[\s\S]*?(?:^[ \t]{0,3}\1[ \t]*(?:\n|$)|\Z)", re.MULTILINE), "\n"),),
}
TABLES = {
    "read": (),
    "skip": (Rule("table", re.compile(r"(?:^[ \t]*\|.*\|[ \t]*(?:\n|$))+", re.MULTILINE), "\n", needs="|"),),
}

MARKDOWN = (
    Rule("fence", re.compile(r"^[ \t]{0,3}(?:```|~~~).*(?:\n|$)", re.MULTILINE), ""),
    Rule("table separator", re.compile(
        r"^[ \t]*\|?[ \t]*:?-{2,}:?[ \t]*(?:\|[ \t]*:?-{2,}:?[ \t]*)*\|?[ \t]*(?:\n|$)", re.MULTILINE), ""),
    Rule("horizontal rule", re.compile(r"^[ \t]{0,3}(?:[-*_][ \t]*){3,}(?:\n|$)", re.MULTILINE), ""),
    Rule("table row", re.compile(r"^[ \t]*\|(.*)\|[ \t]*$", re.MULTILINE), _table_row),
    Rule("autolink", re.compile(r"<((?:https?|ftp)://[^>\s]+|[^>\s@]+@[^>\s@]+)>"), r"\1"),
    # [text](url) → text; misaki's [word](/phonemes/) is hidden by then, and its (/ excluded anyway
    Rule("link", re.compile(r"!?\[([^\]]*)\]\((?!/)[^)]*\)"), r"\1"),
    # "[text][1]" → text, and the "[1]: https://..." line that defines it goes
    Rule("link definition", re.compile(r"^[ \t]{0,3}\[[^\]\n]+\]:[ \t]+\S+.*(?:\n|$)", re.MULTILINE), "",
         needs="]:"),
    Rule("reference link", re.compile(r"\[([^\]\n]+)\]\[[^\]\n]*\]"), r"\1", needs="]["),
    # nested list items are indented by any amount (language models indent them by two to four spaces)
    Rule("block line", re.compile(
        r"^(?:[ \t]{0,3}(#{1,6})[ \t]+|[ \t]{0,3}>[ \t]?|[ \t]*([-*+•])[ \t]+(?=\S)|[ \t]*(\d+)[.)][ \t]+(?=\S))(.*)$",
        re.MULTILINE), _block_line),
    # `get_user(id)`, `user.save()`: code read as its words ("get user id", "user dot save")
    Rule("inline code", re.compile(r"`([^`\n]+)`"), lambda m: "`" + _code_words(m.group(1)) + "`", needs="`"),
    Rule("emphasis", _EMPHASIS, _emphasis),
    Rule("nested emphasis", _EMPHASIS, _emphasis),  # ***bold italic***, **_both_**
)

"""Results pages: Markdown in docs/ whose marked regions a benchmark rewrites with its tables and figures.

A region is `<!-- bench:NAME -->…<!-- /bench:NAME -->`: on lines of their own around a block (a table, a list),
or within a line around a figure. Everything else in the page is prose written there and kept as it is.
"""

from __future__ import annotations

import re
from pathlib import Path

REGION = re.compile(r"<!-- bench:([\w-]+) -->(.*?)<!-- /bench:\1 -->", re.S)


def fill(page: Path, *, only: bool = False, **regions: str) -> str:
    """Rewrites each region of `page` with its text (names with `_` for `-`); every region the page has must be
    given (unless `only`: a page with regions from other scripts too), and every one given must be there. Says
    so, and returns the new page."""
    regions = {name.replace("_", "-"): text for name, text in regions.items()}
    text = page.read_text(encoding="utf-8")
    found = {m.group(1) for m in REGION.finditer(text)}
    if (found - set(regions) and not only) or set(regions) - found:
        raise KeyError(f"{page.name}: regions not given {sorted(found - set(regions))}, "
                       f"not in the page {sorted(set(regions) - found)}")

    def rewrite(m: re.Match) -> str:
        if m.group(1) not in regions:  # another script's (`only`)
            return m.group(0)
        new = regions[m.group(1)]
        if m.group(2).startswith("\n"):  # a block: the markers keep their own lines
            new = "\n" + new.strip("\n") + "\n" if new.strip() else "\n"
        return f"<!-- bench:{m.group(1)} -->{new}<!-- /bench:{m.group(1)} -->"

    text = REGION.sub(rewrite, text)
    page.write_text(text, encoding="utf-8")
    print(f"wrote {page}")
    return text


def table(header: list[str], rows: list[list], align: str = "") -> str:
    """A Markdown table; `align` has an l or r per column (left unless told)."""
    rule = "|" + "|".join("---:" if a == "r" else "---" for a in align.ljust(len(header), "l")) + "|"
    lines = ["| " + " | ".join(str(cell) for cell in row) + " |" for row in [header, *rows]]
    lines = [re.sub(r"\|  (?=\|)", "| ", line) for line in lines]  # an empty cell as "| |"
    return "\n".join([lines[0], rule, *lines[1:]])


def checks(results: dict[str, bool], fail: str = "**fail**") -> str:
    """A table of named checks, each pass or `fail`."""
    return table(["check", "result"], [[name, "pass" if ok else fail] for name, ok in results.items()])

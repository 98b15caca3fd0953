"""The fixed benchmark texts: twenty, from one short sentence to a long paragraph (bench/data/texts.txt, then the
fourth paragraph of tests/long_text.txt), and that long text."""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
_LONG = (HERE.parent / "tests" / "long_text.txt").read_text()
TEXTS: list[str] = [*(HERE / "data" / "texts.txt").read_text(encoding="utf-8").splitlines(), _LONG.split("\n\n")[3]]
LONG_TEXT: str = _LONG.strip()
# one short sentence and one paragraph in each reading language (by voice letter), for the mixed-language loads
LANGUAGE_TEXTS: dict[str, list[str]] = json.loads(
    (HERE / "data" / "language_texts.json").read_text(encoding="utf-8"))

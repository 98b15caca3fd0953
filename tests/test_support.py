"""One helper does each shared job for the tests and the benchmarks (tests/support.py): a script or test that
starts a server, decodes audio, runs Whisper, computes a word error rate or reads /proc by itself fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[1]
HELPER = REPO / "tests" / "support.py"

# what only the helper does → the code that does it
JOBS = {
    "decodes audio": r"\bav\.open\(|^\s*import av\b|^\s*from av\b",
    "runs Whisper": r"\bfaster_whisper\b|\bWhisperModel\b",
    "computes word error rates": r"\bjiwer\b",
    "reads process memory": r"[\"']Vm(RSS|HWM)\b|\bVm(RSS|HWM):|/proc/self\b|/proc/\{",  # in code, not prose
    "starts a server": r"\buvicorn\b|\bsubprocess\.Popen\b|\"kokoro_speech\", \"serve\"",
}
# (file, job) → why that file may do it itself
EXEMPT = {
    ("test_deploy.py", "starts a server"): "a client run inside the container (docker exec), not a server",
    ("test_books.py", "decodes audio"): "reads the chapters and tags of the audiobooks it made, not their audio",
    ("test_books.py", "starts a server"): "runs the book command to kill it mid-book (resume), not a server",
    ("test_book_plumbing.py", "decodes audio"): "reads the chapters, tags and cover of containers it wrote",
    ("books.py", "decodes audio"): "encodes a small cover image for the test books, no audio",
    ("test_jobs_api.py", "decodes audio"): "reads the chapters of the audiobook a job made, not its audio",
    ("books.py", "starts a server"): "starts its own redis-server for the fleet's job store (bench/books.py)",
    ("test_jobs.py", "decodes audio"): "reads the chapters of the audiobook a job made, not its audio",
    ("conftest.py", "starts a server"): "starts a private redis-server for the fleet's job store",
}


def sources() -> list[Path]:
    files = [*(REPO / "bench").glob("*.py"), *(REPO / "tools").glob("*.py"), *(REPO / "tests").glob("*.py")]
    return [f for f in files if f not in (HELPER, Path(__file__).resolve())]


@pytest.mark.parametrize("job", list(JOBS))
def test_only_the_helper_does_it(job):
    pattern = re.compile(JOBS[job], re.M)
    found = [f"{path.relative_to(REPO)}:{text[:m.start()].count(chr(10)) + 1}: {m.group(0)}"
             for path in sources() if (path.name, job) not in EXEMPT
             for text in [path.read_text(encoding="utf-8")] for m in pattern.finditer(text)]
    assert not found, f"{job} outside tests/support.py:\n" + "\n".join(found)


def test_the_helper_does_each_job():
    text = HELPER.read_text(encoding="utf-8")
    assert all(re.search(pattern, text, re.M) for pattern in JOBS.values())


def test_results_pages_mark_their_regions_in_pairs():
    """Every `<!-- bench:NAME -->` a benchmark fills (bench/pages.py) is closed once, so an edit of a page's prose
    cannot leave a benchmark unable to rewrite it."""
    for page in (REPO / "docs").rglob("*.md"):
        text = page.read_text(encoding="utf-8")
        opened = re.findall(r"<!-- bench:([\w-]+) -->", text)
        closed = re.findall(r"<!-- /bench:([\w-]+) -->", text)
        assert sorted(opened) == sorted(closed) and len(set(opened)) == len(opened), page.name
        assert len(re.findall(r"<!-- bench:([\w-]+) -->.*?<!-- /bench:\1 -->", text, re.S)) == len(opened), page.name

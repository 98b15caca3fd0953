"""Book jobs (POST /v1/audio/jobs) on a live server: a job's speed against one plain request for the same text,
the whole book's, people's first audio while a book is read against idle, peak memory, two replicas on one Redis
against one, and the work redone after a kill -9. Writes docs/books-bench.md.

The book is bench/book_text.py's (10 chapters, 35,000 characters, written for the project), uploaded whole every
time; most sections read some of its chapters. Each section runs alone under the lock, its figures kept in
docs/books-bench.json. Run: flock /tmp/cpu.lock .venv/bin/python bench/books.py SECTION [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx

from book_text import TITLE, markdown, plain
from harness import REPO, Server, audio_seconds, machine
from texts import TEXTS

PORT, FLEET_PORTS, REDIS_PORT = 8896, (8897, 8898), 8899
THROUGHPUT_CHAPTER = 2  # about 3,900 characters (one plain request holds 4,096): a job against that request
BUSY_CHAPTERS = "3"  # the book read while people's first audio is measured
FLEET_CHAPTERS = "4-7"  # four short chapters, for one replica against two
KILL_INTO_PIECE = 3.0  # seconds after the first piece is saved when the server is killed (a piece takes ~4 s)
PEOPLE = TEXTS[1:7]  # short requests, as an assistant sends them
MEMORY_BOUND_MB = 1000
PAGE, RESULTS = REPO / "docs" / "books-bench.md", REPO / "docs" / "books-bench.json"


def metric(url: str, name: str) -> float:
    page = httpx.get(f"{url}/metrics", timeout=10).text
    found = re.search(rf"^{name}(?:_total)? ([0-9.e+-]+)$", page, re.M)
    return float(found.group(1)) if found else 0.0


def submit(url: str, book: bytes, chapters: str | None, **fields) -> str:
    response = httpx.post(f"{url}/v1/audio/jobs", files={"file": ("keeper.md", book)},
                          data={"voice": "af_heart", "response_format": "m4b", **fields,
                                **({"chapters": chapters} if chapters else {})}, timeout=60)
    response.raise_for_status()
    return response.json()["id"]


def wait(server: Server, job_id: str, statuses=("succeeded", "failed", "cancelled")) -> dict:
    while (shown := httpx.get(f"{server.url}/v1/audio/jobs/{job_id}", timeout=30).json())["status"] not in statuses:
        server.sample_peak()
        time.sleep(0.1)
    return shown


def job_rate(server: Server, book: bytes, chapters: str | None) -> tuple[float, float, float]:
    """(audio seconds per wall second, audio seconds, model audio seconds) of a job, upload to `succeeded`."""
    before, started = metric(server.url, "kokoro_audio_seconds"), time.perf_counter()
    done = wait(server, submit(server.url, book, chapters))
    wall = time.perf_counter() - started
    assert done["status"] == "succeeded", done
    audio = done["progress"]["audio_seconds"]
    return audio / wall, audio, metric(server.url, "kokoro_audio_seconds") - before


def first_audio(url: str, text: str) -> float:
    body = {"model": "tts-1", "input": text, "voice": "af_heart", "response_format": "pcm"}
    started, first = time.perf_counter(), None
    with httpx.stream("POST", f"{url}/v1/audio/speech", json=body, timeout=120) as response:
        response.raise_for_status()
        for chunk in response.iter_raw():
            if chunk and first is None:
                first = time.perf_counter() - started
    return first


def plain_rate(url: str, response_format: str = "aac") -> float:
    """Audio seconds per wall second of one plain speech request for the throughput chapter, read to its end."""
    body = {"model": "tts-1", "input": plain(THROUGHPUT_CHAPTER), "voice": "af_heart",
            "response_format": response_format}
    started = time.perf_counter()
    response = httpx.post(f"{url}/v1/audio/speech", json=body, timeout=900)
    response.raise_for_status()
    return audio_seconds(response.content, response_format) / (time.perf_counter() - started)


def speed(server: Server, book: bytes, repeats: int, folder: Path) -> dict:
    """The throughput chapter as a job against one plain request for it (AAC, the M4B's codec), in pairs run
    back to back (each ratio within a pair), and once as raw pcm (no encoding at all)."""
    pairs = []
    for _ in range(repeats):
        reference = plain_rate(server.url)
        rate, audio, _ = job_rate(server, book, str(THROUGHPUT_CHAPTER))
        pairs.append((rate, reference))
    return {"pairs": pairs, "ratios": [j / p for j, p in pairs], "pcm": plain_rate(server.url, "pcm"),
            "audio": audio}


def whole(server: Server, book: bytes, repeats: int, folder: Path) -> dict:
    """The whole book as one job, between plain requests for the throughput chapter (the reference)."""
    before = plain_rate(server.url)
    rate, audio, _ = job_rate(server, book, None)
    return {"rate": rate, "audio": audio, "wall": audio / rate, "references": [before, plain_rate(server.url)]}


def people(server: Server, book: bytes, repeats: int, folder: Path) -> dict:
    idle = [statistics.median(first_audio(server.url, t) for _ in range(repeats)) for t in PEOPLE]
    wait(server, job_id := submit(server.url, book, BUSY_CHAPTERS), ("running",))
    time.sleep(2)  # the book's pieces hold the model now
    busy = [statistics.median(first_audio(server.url, t) for _ in range(repeats)) for t in PEOPLE]
    shown = httpx.get(f"{server.url}/v1/audio/jobs/{job_id}", timeout=30).json()
    httpx.delete(f"{server.url}/v1/audio/jobs/{job_id}", timeout=30)
    return {"idle": idle, "busy": busy, "still_running": shown["status"] == "running", "progress": shown["progress"]}


def kill(server: Server, book: bytes, repeats: int, folder: Path) -> dict:
    """A clean job of the throughput chapter, then the same killed (SIGKILL) once some of its pieces are saved and
    the server started again on the same jobs folder and worker name: the model audio of both runs against the
    clean run's."""
    _, _, clean = job_rate(server, book, str(THROUGHPUT_CHAPTER))
    url = server.url
    job_id = submit(url, book, str(THROUGHPUT_CHAPTER))
    folder = folder / job_id
    before = metric(url, "kokoro_audio_seconds")
    while not list(folder.rglob("0*.json")):
        time.sleep(0.02)
    at_save = metric(url, "kokoro_audio_seconds")  # the next piece starts about now
    time.sleep(KILL_INTO_PIECE)
    seen = metric(url, "kokoro_audio_seconds")
    server.sample_peak()
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    saved, restarted = len(list(folder.rglob("0*.json"))), time.perf_counter()
    server.start().wait_healthy()
    done = wait(server, job_id)
    assert done["status"] == "succeeded", done
    second = metric(url, "kokoro_audio_seconds")
    return {"saved": saved, "first": seen - before, "second": second, "clean": clean,
            "redone": seen - before + second - clean, "in_flight": seen - at_save,
            "resume_seconds": time.perf_counter() - restarted}


def fleet(book: bytes, jobs_dir: Path, repeats: int) -> dict:
    """The fleet chapters on one replica, then on two sharing one Redis and one jobs folder; each replica on one
    core (--threads 1), as if each had a machine of its own."""
    redis = subprocess.Popen([shutil.which("redis-server"), "--port", str(REDIS_PORT), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    results = {}
    try:
        for replicas in (1, 2):
            args = ("--jobs-dir", str(jobs_dir), "--jobs-redis-url", f"redis://127.0.0.1:{REDIS_PORT}/{replicas}",
                    "--threads", "1")
            servers = [Server(port, *args, "--jobs-worker", f"replica-{i + 1}", start=False)
                       for i, port in enumerate(FLEET_PORTS[:replicas])]
            for server in servers:
                server.start()
            for server in servers:
                server.wait_healthy()
            try:
                for server in servers:
                    first_audio(server.url, "Warm up.")
                started = time.perf_counter()
                done = wait(servers[-1], submit(servers[0].url, book, FLEET_CHAPTERS))  # any replica answers
                assert done["status"] == "succeeded", done
                results[str(replicas)] = {"wall": time.perf_counter() - started, "workers": [
                    c["worker"] for c in done["chapters"]], "audio": done["progress"]["audio_seconds"]}
            finally:
                for server in servers:
                    server.stop()
    finally:
        redis.terminate()
        redis.wait(timeout=30)
    return results


def spread(values: list[float]) -> str:
    """The median and the range of `values`, as text."""
    return f"{statistics.median(values):.2f} ({min(values):.2f} to {max(values):.2f})"


SECTIONS = ("speed", "whole", "people", "kill", "fleet")


def rows(name: str, r: dict) -> str:
    """A section's row of the results table, from its result `r`."""
    if name == "speed":
        return (f"| Job speed (chapter {THROUGHPUT_CHAPTER}, {r['audio']:.0f} s of audio), against one plain "
                "`/v1/audio/speech` request for the same text in AAC (the M4B's codec), run back to back in pairs | "
                f"**{spread(r['ratios'])}×**; the job {spread([j for j, _ in r['pairs']])} audio s per wall s, the "
                f"request {spread([q for _, q in r['pairs']])}; raw `pcm` (no encoding) {r['pcm']:.2f} | ≥ 1.0× |")
    if name == "whole":
        return (f"| The whole book ({r['audio'] / 3600:.2f} hours of audio) as one job | {r['wall'] / 60:.1f} minutes, "
                f"{r['rate']:.2f} audio s per wall s against {' and '.join(f'{q:.2f}' for q in r['references'])} "
                f"for the plain request before and after: **{r['rate'] / statistics.mean(r['references']):.2f}×** "
                "| ≥ 1.0× |")
    if name == "people":
        busy = [b / i for b, i in zip(r["busy"], r["idle"], strict=True)]
        return (f"| People's first audio while chapter {BUSY_CHAPTERS} is read, against idle | "
                f"{statistics.median(r['busy']) * 1000:.0f} ms against {statistics.median(r['idle']) * 1000:.0f} ms: "
                f"**{spread(busy)}×** (per request; the book was {'still' if r['still_running'] else '**not**'} "
                f"running at the end, {r['progress']['characters_done']:,} of "
                f"{r['progress']['characters_total']:,} characters read) | ≤ 1.5× |")
    if name == "kill":
        return (f"| Work redone after `kill -9` (chapter {THROUGHPUT_CHAPTER}, killed with {r['saved']} of its pieces "
                f"saved) | **{r['redone']:.1f} s** of model audio made again, against {r['in_flight']:.1f} s made of "
                f"the pieces in flight when it was killed ({r['first']:.1f} s before the kill + {r['second']:.1f} s "
                f"after, against {r['clean']:.1f} s for a clean run); finished {r['resume_seconds']:.0f} s after the "
                "restart | at most the pieces in flight |")
    one, two = r["1"], r["2"]
    return (f"| Two replicas on one Redis against one (chapters {FLEET_CHAPTERS}, {one['audio']:.0f} s of audio) | "
            f"{two['wall']:.1f} s against {one['wall']:.1f} s: **{one['wall'] / two['wall']:.2f}×** faster; chapters "
            f"read by {', '.join(two['workers'])} | both read chapters |")


def write_page(runs: dict, book_chars: int) -> None:
    peak = max(run["peak_mb"] for run in runs.values())
    when = ", ".join(f"{name} {run['minutes']:.1f} min ({run['repeats']} repeats)" for name, run in runs.items())
    lines = [
        "# Book jobs: speed, people first, memory, a fleet, a kill", "",
        f"Measured by `bench/books.py` on {machine()}; each section run on its own under the CPU lock "
        f"({when}); medians of a section's repeats (ranges in brackets), every ratio against a reference from the "
        f"same run. The book is *{TITLE}* (`bench/book_text.py`, written for the project): 10 chapters, "
        f"{book_chars:,} characters of Markdown, uploaded whole to `POST /v1/audio/jobs` every time; the sections "
        "but the whole book read some of its chapters (the `chapters` field), named below. Sections not run yet: "
        f"{', '.join(n for n in SECTIONS if n not in runs) or 'none'}.",
        "",
        "| Measure | Result | Target |",
        "| --- | --- | --- |",
        *(rows(name, runs[name]["result"]) for name in SECTIONS if name in runs),
        f"| Peak memory (VmHWM) of the server, the highest of the sections | **{peak:.0f} MB** | ≤ "
        f"{MEMORY_BOUND_MB} MB |",
        "", "How each is measured:", "",
        "- **Speed**: wall time from the upload to `succeeded` (reading, writing the M4B, the manifest) against "
        "a plain request for the same title and paragraphs, read to its end. A job's audio includes the "
        "narrator's pauses (after titles, between paragraphs), which cost no synthesis.",
        "- **People first**: time to the first audio byte of six short requests (bench/texts.py's 2nd to 7th, "
        "`pcm`), each the median of its repeats, idle and then while the book is read. A job's calls run when no "
        "person's call waits (pipeline/scheduler.py).",
        "- **Fleet**: the same chapters on one replica, then on two sharing a Redis and one jobs folder, each on "
        "one core (`--threads 1`, as on machines of their own). Submitted to the first, followed on the second.",
        "- **Kill**: SIGKILL while the server reads a piece, then started again with the same `--jobs-dir` and "
        "`--jobs-worker`. Redone work: the model audio (`kokoro_audio_seconds`) of both runs less a clean run's "
        f"(two pieces of up to 300 characters in flight; killed {KILL_INTO_PIECE:g} s after the first was saved). "
        "SIGTERM instead finishes and saves the pieces in flight (tests/test_jobs_api.py).",
        "",
        "Run a section again: `flock /tmp/cpu.lock .venv/bin/python bench/books.py SECTION` (figures kept in "
        "`docs/books-bench.json`; fleet needs `redis-server`).",
        "",
    ]
    PAGE.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("section", choices=SECTIONS)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    book = markdown().encode()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kokoro-books-bench-") as folder:
        if args.section == "fleet":
            result, peak = fleet(book, Path(folder), args.repeats), 0.0
        else:
            server = Server(PORT, "--jobs-dir", folder, "--jobs-worker", "solo")
            try:
                first_audio(server.url, "Warm up.")
                result = globals()[args.section](server, book, args.repeats, Path(folder))
            finally:
                server.stop()
            peak = server.peak_rss_mb
    runs = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    minutes = (time.perf_counter() - started) / 60
    runs[args.section] = {"result": result, "peak_mb": peak, "repeats": args.repeats, "minutes": minutes}
    RESULTS.write_text(json.dumps(runs, indent=1) + "\n")
    print(json.dumps(runs[args.section]), flush=True)
    write_page({name: runs[name] for name in SECTIONS if name in runs}, len(book))


if __name__ == "__main__":
    threading.current_thread().name = "books-bench"
    main()

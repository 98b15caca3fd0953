"""Book jobs (POST /v1/audio/jobs) on a live server: a job's speed against one plain request for the same text,
people's first audio while a book is read against idle, peak memory, two replicas on one Redis against one, and
the work redone after a kill -9. Writes docs/books-bench.md.

The book is bench/book_text.py's (10 chapters, about 35,000 characters, written for the project); it is uploaded
whole every time, and the runs read chosen chapters of it (`chapters`), so the whole benchmark takes about ten
minutes on two cores. Every figure is from this run: medians of the repeats, ratios against references measured
in the same run.

Run: flock /tmp/cpu.lock .venv/bin/python bench/books.py [--repeats 2]
"""

from __future__ import annotations

import argparse
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
PAGE = REPO / "docs" / "books-bench.md"


def metric(url: str, name: str) -> float:
    page = httpx.get(f"{url}/metrics", timeout=10).text
    found = re.search(rf"^{name}(?:_total)? ([0-9.e+-]+)$", page, re.M)
    return float(found.group(1)) if found else 0.0


def submit(url: str, book: bytes, chapters: str, **fields) -> str:
    response = httpx.post(f"{url}/v1/audio/jobs", files={"file": ("keeper.md", book)},
                          data={"voice": "af_heart", "response_format": "m4b", "chapters": chapters, **fields},
                          timeout=60)
    response.raise_for_status()
    return response.json()["id"]


def wait(url: str, job_id: str, statuses=("succeeded", "failed", "cancelled"), timeout: float = 900,
         watch: Server | None = None) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        shown = httpx.get(f"{url}/v1/audio/jobs/{job_id}", timeout=30).json()
        if shown["status"] in statuses:
            return shown
        if watch is not None:
            watch.sample_peak()
        if time.monotonic() > deadline:
            raise RuntimeError(f"job {job_id} still {shown['status']} after {timeout:.0f} s")
        time.sleep(0.1)


def first_audio(url: str, text: str) -> float:
    body = {"model": "tts-1", "input": text, "voice": "af_heart", "response_format": "pcm"}
    started, first = time.perf_counter(), None
    with httpx.stream("POST", f"{url}/v1/audio/speech", json=body, timeout=120) as response:
        response.raise_for_status()
        for chunk in response.iter_raw():
            if chunk and first is None:
                first = time.perf_counter() - started
    return first


def plain_request(url: str, text: str, response_format: str) -> tuple[float, float]:
    """(audio seconds, wall seconds) of one plain speech request for `text`, read to its end."""
    body = {"model": "tts-1", "input": text, "voice": "af_heart", "response_format": response_format}
    started = time.perf_counter()
    response = httpx.post(f"{url}/v1/audio/speech", json=body, timeout=900)
    response.raise_for_status()
    return audio_seconds(response.content, response_format), time.perf_counter() - started


def throughput_and_people(book: bytes, jobs_dir: Path, repeats: int) -> dict:
    server = Server(PORT, "--jobs-dir", str(jobs_dir), "--jobs-worker", "solo")
    try:
        url = server.url
        first_audio(url, "Warm up.")
        job_rates, plain_rates, aac_rates, model_seconds = [], [], [], []
        for _ in range(repeats):
            audio, wall = plain_request(url, plain(THROUGHPUT_CHAPTER), "pcm")
            plain_rates.append(audio / wall)
            audio, wall = plain_request(url, plain(THROUGHPUT_CHAPTER), "aac")
            aac_rates.append(audio / wall)
            before = metric(url, "kokoro_audio_seconds")
            started = time.perf_counter()
            done = wait(url, submit(url, book, str(THROUGHPUT_CHAPTER)), watch=server)
            wall = time.perf_counter() - started
            assert done["status"] == "succeeded", done
            job_rates.append(done["progress"]["audio_seconds"] / wall)
            model_seconds.append(metric(url, "kokoro_audio_seconds") - before)
        job_audio = done["progress"]["audio_seconds"]

        idle = [statistics.median(first_audio(url, t) for _ in range(repeats)) for t in PEOPLE]
        busy_job = submit(url, book, BUSY_CHAPTERS)
        wait(url, busy_job, ("running",))
        time.sleep(2)  # the book's pieces hold the model now
        busy = [statistics.median(first_audio(url, t) for _ in range(repeats)) for t in PEOPLE]
        shown = httpx.get(f"{url}/v1/audio/jobs/{busy_job}", timeout=30).json()
        still_reading = shown["status"] == "running"
        httpx.delete(f"{url}/v1/audio/jobs/{busy_job}", timeout=30)
        time.sleep(3)  # its reading stops within a second and the model call running then
        server.sample_peak()

        kill = kill_and_resume(server, book, jobs_dir, clean_model_seconds=statistics.median(model_seconds))
    finally:
        server.stop()
    return {"job_rate": statistics.median(job_rates), "plain_rate": statistics.median(plain_rates),
            "aac_rate": statistics.median(aac_rates), "aac_rates": aac_rates,
            "job_rates": job_rates, "plain_rates": plain_rates, "job_audio": job_audio,
            "idle": statistics.median(idle), "busy": statistics.median(busy), "idle_each": idle, "busy_each": busy,
            "busy_progress": shown["progress"], "still_reading": still_reading, "peak_mb": server.peak_rss_mb,
            **kill}


def kill_and_resume(server: Server, book: bytes, jobs_dir: Path, clean_model_seconds: float) -> dict:
    """The throughput chapter again, killed (SIGKILL) once some of its pieces are saved, then the server started
    again on the same jobs folder and worker name: the model audio of both runs against a clean run's."""
    url = server.url
    job_id = submit(url, book, str(THROUGHPUT_CHAPTER))
    folder = jobs_dir / job_id
    before = metric(url, "kokoro_audio_seconds")
    deadline = time.monotonic() + 300
    while not list(folder.rglob("0*.json")):
        assert time.monotonic() < deadline, "no piece was saved"
        time.sleep(0.02)
    at_save = metric(url, "kokoro_audio_seconds")  # the next piece starts about now
    time.sleep(KILL_INTO_PIECE)
    seen = metric(url, "kokoro_audio_seconds")
    server.sample_peak()
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    saved = len(list(folder.rglob("0*.json")))
    first_run = seen - before
    restarted = time.perf_counter()
    server.start()
    server.wait_healthy()
    done = wait(url, job_id, watch=server)
    assert done["status"] == "succeeded", done
    second_run = metric(url, "kokoro_audio_seconds")
    return {"kill_saved_pieces": saved, "kill_first_run": first_run, "kill_second_run": second_run,
            "kill_clean": clean_model_seconds, "kill_redone": first_run + second_run - clean_model_seconds,
            "kill_in_flight": seen - at_save,
            "kill_resume_seconds": time.perf_counter() - restarted}


def fleet(book: bytes, jobs_dir: Path) -> dict:
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
                job_id = submit(servers[0].url, book, FLEET_CHAPTERS)
                done = wait(servers[-1].url, job_id)  # any replica answers
                wall = time.perf_counter() - started
                assert done["status"] == "succeeded", done
                results[replicas] = {"wall": wall, "audio": done["progress"]["audio_seconds"],
                                     "workers": [c["worker"] for c in done["chapters"]]}
            finally:
                for server in servers:
                    server.stop()
    finally:
        redis.terminate()
        redis.wait(timeout=30)
    return results


def write_page(run: dict, fleet_run: dict, book_chars: int, repeats: int, seconds: float) -> None:
    one, two = fleet_run[1], fleet_run[2]
    busy_ratio = run["busy"] / run["idle"]
    speed_ratio = run["job_rate"] / run["plain_rate"]
    aac_ratio = run["job_rate"] / run["aac_rate"]
    lines = [
        "# Book jobs: speed, people first, memory, a fleet, a kill",
        "",
        f"Measured by `bench/books.py` on {machine()}, in one run of {seconds / 60:.1f} minutes; medians of "
        f"{repeats} repeats, every ratio against a reference from the same run. The book is *{TITLE}* "
        f"(`bench/book_text.py`, written for the project): 10 chapters, {book_chars:,} characters of Markdown, "
        "uploaded whole to `POST /v1/audio/jobs` every time; to keep the run near ten minutes, each measurement "
        "reads some of its chapters (the `chapters` field), named below.",
        "",
        "| Measure | Result | Target |",
        "| --- | --- | --- |",
        f"| Job speed (chapter {THROUGHPUT_CHAPTER}, {run['job_audio']:.0f} s of audio) | "
        f"{run['job_rate']:.2f} audio s per wall s (an M4B), against {run['aac_rate']:.2f} for one plain "
        f"`/v1/audio/speech` request for the same text in AAC, the same codec: **{aac_ratio:.2f}×**; against "
        f"{run['plain_rate']:.2f} for raw `pcm` (no encoding at all): {speed_ratio:.2f}× | ≥ 1.0× |",
        f"| People's first audio while chapters {BUSY_CHAPTERS} are read | {run['busy'] * 1000:.0f} ms against "
        f"{run['idle'] * 1000:.0f} ms idle: **{busy_ratio:.2f}×** | ≤ 1.5× |",
        f"| Peak memory (VmHWM) of the server through all of it | **{run['peak_mb']:.0f} MB** | ≤ "
        f"{MEMORY_BOUND_MB} MB |",
        f"| Two replicas on one Redis against one (chapters {FLEET_CHAPTERS}, {one['audio']:.0f} s of audio) | "
        f"{two['wall']:.1f} s against {one['wall']:.1f} s: **{one['wall'] / two['wall']:.2f}×** faster; chapters "
        f"read by {', '.join(two['workers'])} | both read chapters |",
        f"| Work redone after `kill -9` (chapter {THROUGHPUT_CHAPTER}, killed with {run['kill_saved_pieces']} "
        "of its pieces saved) | "
        f"**{run['kill_redone']:.1f} s** of model audio made again, against {run['kill_in_flight']:.1f} s made of "
        f"the pieces in flight when it was killed ({run['kill_first_run']:.1f} s before the kill + "
        f"{run['kill_second_run']:.1f} s after, against {run['kill_clean']:.1f} s for a clean run); resumed and "
        f"finished {run['kill_resume_seconds']:.0f} s after the restart | at most the pieces in flight |",
        "",
        "How each is measured:",
        "",
        "- **Job speed**: wall time from the upload to `succeeded` (reading, writing the M4B with its chapter, "
        "the manifest), against one plain request for the chapter's title and paragraphs, in `aac` and in "
        "`pcm`, read to its end. The job's audio seconds include the narrator's pauses (after the title, between "
        "paragraphs), which cost no synthesis. Each: " +
        ", ".join(f"{j:.2f}" for j in run["job_rates"]) + " (job), " +
        ", ".join(f"{p:.2f}" for p in run["aac_rates"]) + " (plain, aac) and " +
        ", ".join(f"{p:.2f}" for p in run["plain_rates"]) + " (plain, pcm).",
        "- **People first**: time to the first audio byte of six short requests (bench/texts.py's 2nd to 7th, "
        f"`pcm`), each the median of {repeats}, idle and then while the book was read (it was still "
        f"{'running' if run['still_reading'] else 'not running'} when they were done, "
        f"{run['busy_progress']['characters_done']:,} of {run['busy_progress']['characters_total']:,} "
        "characters read: the book reads only between people's calls). A job's model calls run only when no "
        "person's call waits, and a person's call that "
        "finds the model busy with a job's call interrupts it (it runs again later): idle " +
        ", ".join(f"{t * 1000:.0f}" for t in run["idle_each"]) + " ms; busy " +
        ", ".join(f"{t * 1000:.0f}" for t in run["busy_each"]) + " ms.",
        "- **Memory**: the server's VmHWM (peak resident set) sampled through the speed, people-first and kill "
        "runs, both processes of the kill run counted (the higher).",
        "- **Fleet**: the same chapters on one replica, then on two replicas sharing a Redis (`redis-server`) "
        "and one jobs folder, each replica on one core (`--threads 1`), as replicas on machines of their own "
        "would be; on this two-core machine the two replicas are all the cores there are. Submitted to the "
        "first replica, followed on the second.",
        "- **Kill**: the server is killed with SIGKILL while it reads a piece of the chapter, then started "
        "again with the same `--jobs-dir` and `--jobs-worker`; it takes its own claim back at once and reads "
        "what was not saved. Redone work is the model audio (the `kokoro_audio_seconds` counter) of both runs "
        "less that of a clean run of the same chapter: what the killed process had made of the piece in "
        f"flight (a job has two pieces of up to 300 characters in flight; killed {KILL_INTO_PIECE:g} s after the "
        "first piece was saved).",
        "",
        "Run it again: `flock /tmp/cpu.lock .venv/bin/python bench/books.py` (needs `redis-server`).",
        "",
    ]
    PAGE.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    book = markdown().encode()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kokoro-books-bench-") as folder:
        run = throughput_and_people(book, Path(folder) / "solo", args.repeats)
        print({k: v for k, v in run.items()}, flush=True)
        fleet_run = fleet(book, Path(folder) / "fleet")
        print(fleet_run, flush=True)
    write_page(run, fleet_run, len(book), args.repeats, time.perf_counter() - started)
    print(PAGE.read_text())


if __name__ == "__main__":
    threading.current_thread().name = "books-bench"
    main()

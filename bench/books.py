"""Book jobs (POST /v1/audio/jobs) on a live server against plain requests, people's first audio, memory, two
replicas on one Redis and a kill -9 (bench/data/keepers_year.md); fills docs/books-bench.md's tables and figures.
Run: flock /tmp/cpu.lock .venv/bin/python bench/books.py [--repeats 2] (about ten minutes on two cores)
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from kokoro_speech.api.jobs import PARALLEL_PIECES

from harness import (
    REPO, SAMPLE_RATE, Server, machine, median_of, metric, redis_server, request, saved_pieces, wait_until,
)
from pages import fill, table
from texts import TEXTS

BOOK = Path(__file__).parent / "data" / "keepers_year.md"
PORT, FLEET_PORTS = 8896, (8897, 8898)
THROUGHPUT_CHAPTER = 2  # about 3,900 characters (one plain request holds 4,096): a job against that request
BUSY_CHAPTERS = "3"  # the book read while people's first audio is measured
FLEET_CHAPTERS = "4-7"  # four short chapters, for one replica against two
KILL_INTO_PIECE = 3.0  # seconds after the first piece is saved when the server is killed (a piece takes ~4 s)
PEOPLE = TEXTS[1:7]  # short requests, as an assistant sends them
MEMORY_BOUND_MB = 1000
POLL_SECONDS = 0.5  # a job's status, as a page polls it
PAGE = REPO / "docs" / "books-bench.md"


def plain(chapter: int) -> str:
    """One chapter (1-based) as a plain request would send it: its title, then its paragraphs."""
    title, *paragraphs = BOOK.read_text(encoding="utf-8").split("\n## ")[chapter].strip().split("\n\n")
    return "\n\n".join([f"{title}.", *paragraphs])


def submit(url: str, book: bytes, chapters: str) -> str:
    response = httpx.post(f"{url}/v1/audio/jobs", files={"file": ("keeper.md", book)},
                          data={"voice": "af_heart", "response_format": "m4b", "chapters": chapters}, timeout=60)
    response.raise_for_status()
    return response.json()["id"]


def wait(url: str, job_id: str, statuses=("succeeded", "failed", "cancelled"), timeout: float = 900,
         watch: Server | None = None) -> dict:
    """The job once in `statuses`, asked every POLL_SECONDS on one connection (the polls share the job's cores)."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=url, timeout=30) as client:
        while (shown := client.get(f"/v1/audio/jobs/{job_id}").json())["status"] not in statuses:
            if watch is not None:
                watch.sample_peak()
            if time.monotonic() > deadline:
                raise RuntimeError(f"job {job_id} still {shown['status']} after {timeout:.0f} s")
            time.sleep(POLL_SECONDS)
    return shown


def speech(url: str, text: str, response_format: str = "pcm", timeout: float = 900):
    body = {"model": "tts-1", "input": text, "voice": "af_heart", "response_format": response_format}
    return request(f"{url}/v1/audio/speech", body, timeout=timeout, check=True)


def first_audio(url: str, text: str) -> float:
    return speech(url, text, timeout=120).first_byte


def throughput_and_people(book: bytes, jobs_dir: Path, repeats: int) -> dict:
    with Server(PORT, "--jobs-dir", str(jobs_dir), "--jobs-worker", "solo") as server:
        url = server.url
        first_audio(url, "Warm up.")
        job_rates, plain_rates, aac_rates, model_seconds = [], [], [], []
        for _ in range(repeats):
            for rates, response_format in ((plain_rates, "pcm"), (aac_rates, "aac")):  # audio s per wall s, whole
                rates.append((reply := speech(url, plain(THROUGHPUT_CHAPTER), response_format)).audio / reply.seconds)
            before = metric(url, "kokoro_audio_seconds")
            started = time.perf_counter()
            done = wait(url, submit(url, book, str(THROUGHPUT_CHAPTER)), watch=server)
            assert done["status"] == "succeeded", done
            job_rates.append(done["progress"]["audio_seconds"] / (time.perf_counter() - started))
            model_seconds.append(metric(url, "kokoro_audio_seconds") - before)
        job_audio = done["progress"]["audio_seconds"]

        idle = [median_of(repeats, first_audio, url, t) for t in PEOPLE]
        busy_job = submit(url, book, BUSY_CHAPTERS)
        wait(url, busy_job, ("running",))
        time.sleep(2)  # the book's pieces hold the model now
        busy = [median_of(repeats, first_audio, url, t) for t in PEOPLE]
        shown = httpx.get(f"{url}/v1/audio/jobs/{busy_job}", timeout=30).json()
        httpx.delete(f"{url}/v1/audio/jobs/{busy_job}", timeout=30)
        time.sleep(3)  # its reading stops within a second and the model call running then
        server.sample_peak()

        kill = kill_and_resume(server, book, jobs_dir, clean=statistics.median(model_seconds))
    return {"job_rates": job_rates, "plain_rates": plain_rates, "aac_rates": aac_rates, "job_audio": job_audio,
            "idle_each": idle, "busy_each": busy, "busy_progress": shown["progress"],
            "still_reading": shown["status"] == "running", "peak_mb": server.peak_rss_mb, **kill}


def kill_and_resume(server: Server, book: bytes, jobs_dir: Path, clean: float) -> dict:
    """The throughput chapter again, SIGKILLed once pieces are saved, and restarted on the same folder and worker
    name. Lost: the model audio made before the kill less the pieces saved by then, against the pieces in flight
    (their audio as the resumed run saves them); `clean`: a clean run's model audio."""
    url = server.url
    job_id = submit(url, book, str(THROUGHPUT_CHAPTER))
    folder = jobs_dir / job_id
    before = metric(url, "kokoro_audio_seconds")
    wait_until(lambda: saved_pieces(folder), "no piece was saved", 300)
    time.sleep(KILL_INTO_PIECE)
    server.sample_peak()
    made = metric(url, "kokoro_audio_seconds") - before  # just before the kill
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    at_kill, resumed = saved_pieces(folder), {}
    restarted = time.perf_counter()
    server.start()
    server.wait_healthy()

    def finished() -> bool:
        resumed.update(saved_pieces(folder))  # before the audiobook is written and its pieces removed
        server.sample_peak()
        return httpx.get(f"{url}/v1/audio/jobs/{job_id}", timeout=30).json()["status"] in ("succeeded", "failed")

    wait_until(finished, "the resumed job finished", 900, interval=0.05)
    assert wait(url, job_id)["status"] == "succeeded"
    in_flight = sorted(resumed.keys() - at_kill.keys())[:PARALLEL_PIECES]
    return {"kill_saved_pieces": len(at_kill), "kill_lost": made - sum(at_kill.values()) / SAMPLE_RATE,
            "kill_clean": clean, "kill_in_flight_pieces": len(in_flight),
            "kill_in_flight": sum(resumed[name] for name in in_flight) / SAMPLE_RATE,
            "kill_redone": made + metric(url, "kokoro_audio_seconds") - clean,
            "kill_resume_seconds": time.perf_counter() - restarted}


def fleet(book: bytes, jobs_dir: Path) -> dict:
    """The fleet chapters on one replica, then on two sharing one Redis and one jobs folder; each replica on one
    core (--threads 1), as if each had a machine of its own."""
    results = {}
    with redis_server() as redis:
        for replicas in (1, 2):
            args = ("--jobs-dir", str(jobs_dir), "--jobs-redis-url", f"{redis}/{replicas}", "--threads", "1")
            with contextlib.ExitStack() as running:  # each replica stopped, however the run ends
                servers = [running.enter_context(Server(port, *args, "--jobs-worker", f"replica-{i + 1}"))
                           for i, port in enumerate(FLEET_PORTS[:replicas])]
                for server in servers:
                    first_audio(server.url, "Warm up.")
                started = time.perf_counter()
                done = wait(servers[-1].url, submit(servers[0].url, book, FLEET_CHAPTERS))  # any replica answers
                assert done["status"] == "succeeded", done
                results[replicas] = {"wall": time.perf_counter() - started, "workers": [
                    c["worker"] for c in done["chapters"]], "audio": done["progress"]["audio_seconds"]}
    return results


def write_page(run: dict, fleet_run: dict, book_chars: int, repeats: int, seconds: float) -> None:
    one, two = fleet_run[1], fleet_run[2]
    m = {key: statistics.median(run[f"{key}_each" if key in ("idle", "busy") else f"{key}_rates"])
         for key in ("job", "plain", "aac", "idle", "busy")}
    rows = [
        [f"Job speed (chapter {THROUGHPUT_CHAPTER}, {run['job_audio']:.0f} s of audio)",
         f"{m['job']:.2f} audio s per wall s (an M4B), against {m['aac']:.2f} for one plain `/v1/audio/speech` "
         f"request for the same text in AAC, the same codec: **{m['job'] / m['aac']:.2f}×**; against "
         f"{m['plain']:.2f} for raw `pcm` (no encoding at all): {m['job'] / m['plain']:.2f}×", "≥ 1.0×"],
        [f"People's first audio while chapters {BUSY_CHAPTERS} are read", f"{m['busy'] * 1000:.0f} ms against "
         f"{m['idle'] * 1000:.0f} ms idle: **{m['busy'] / m['idle']:.2f}×**", "≤ 1.5×"],
        ["Peak memory (VmHWM) of the server through all of it", f"**{run['peak_mb']:.0f} MB**",
         f"≤ {MEMORY_BOUND_MB} MB"],
        [f"Two replicas on one Redis against one (chapters {FLEET_CHAPTERS}, {one['audio']:.0f} s of audio)",
         f"{two['wall']:.1f} s against {one['wall']:.1f} s: **{one['wall'] / two['wall']:.2f}×** faster; chapters "
         f"read by {', '.join(two['workers'])}", "both read chapters"],
        [f"Work lost to `kill -9` (chapter {THROUGHPUT_CHAPTER}, killed with {run['kill_saved_pieces']} of its "
         "pieces saved)", f"**{run['kill_lost']:.1f} s** of model audio made before the kill and not saved, against "
         f"{run['kill_in_flight']:.1f} s for the {run['kill_in_flight_pieces']} pieces in flight then; both runs less "
         f"a clean run ({run['kill_clean']:.1f} s): {run['kill_redone']:.1f} s (the difference of two long runs); "
         f"resumed and finished {run['kill_resume_seconds']:.0f} s after the restart", "at most the pieces in flight"]]

    def each(key: str, scale: float = 1, digits: int = 2) -> str:
        return ", ".join(f"{value * scale:.{digits}f}" for value in run[key])

    progress = run["busy_progress"]
    fill(PAGE, run=f"{machine()}, in one run of {seconds / 60:.1f} minutes; medians of {repeats} repeats",
         book=f"10 chapters, {book_chars:,} characters", measures=table(["Measure", "Result", "Target"], rows),
         speed_each=f"{each('job_rates')} (job), {each('aac_rates')} (plain, aac) and {each('plain_rates')} "
                    "(plain, pcm)",
         busy=f"{repeats}, idle and then while the book was read (it was still "
              f"{'running' if run['still_reading'] else 'not running'} when they were done, "
              f"{progress['characters_done']:,} of {progress['characters_total']:,}",
         people_each=f"idle {each('idle_each', 1000, 0)} ms; busy {each('busy_each', 1000, 0)} ms",
         kill_into=f"{KILL_INTO_PIECE:g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    book = BOOK.read_bytes()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kokoro-books-bench-") as folder:
        run = throughput_and_people(book, Path(folder) / "solo", args.repeats)
        print(run, flush=True)
        fleet_run = fleet(book, Path(folder) / "fleet")
        print(fleet_run, flush=True)
    write_page(run, fleet_run, len(book), args.repeats, time.perf_counter() - started)


if __name__ == "__main__":
    main()

"""Bounded memory and honest overload: memory for one slow request and under a mixed overload, served latencies,
refusals, and turns that fit how clients ask (Open WebUI, SillyTavern); docs/overload.md says how. Fills that page
from docs/overload.json.

Run: .venv/bin/python bench/overload.py [--seconds 300] [--clients 12] [--again [PART...]] (QUICK=1: a smoke run)
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import re
import statistics
import sys
import threading
import time
from dataclasses import asdict, dataclass

import httpx
import openai

from harness import QUICK, REPO, Server, audio_seconds, in_threads, machine, metric, percentile, request
from pages import checks, fill, table
from texts import LANGUAGE_TEXTS, LONG_TEXT, TEXTS

PORT = 8894
LONG = "4,096 chars, speed 0.25"
PARAGRAPH = TEXTS[17] + " " + TEXTS[18]  # about 460 characters
FORMATS = ("mp3", "wav", "aac", "opus", "flac", "pcm")
SPEEDS = (0.25, 0.5, 0.8, 1.0, 1.0, 1.3, 2.0)
# every reading language, each its own voice and text (English: the benchmark texts), in equal shares
VOICES = {"a": "af_heart", "b": "bm_george", "e": "ef_dora", "f": "ff_siwis", "h": "hm_omega", "i": "im_nicola",
          "j": "jf_alpha", "p": "pm_alex", "z": "zf_xiaoxiao"}
MIX = list(VOICES)  # the languages the clients choose from (--languages)
KEYS = [f"bench-key-{i}" for i in range(16)]  # one per client: turns are taken by key
REPLY = re.split(r"(?<=[.!?])\s+", " ".join(TEXTS[4:]))[:14]  # an assistant's reply, as Open WebUI splits it
MESSAGE = TEXTS[16]  # a chat message, as SillyTavern sends it
RAW = REPO / "docs" / "overload.json"  # the measurements, from which the page is written
OLD_PIECES = ("--max-piece-frames", "1880")  # 200 tokens at speed 0.25: the sizing before this change
# the settings that move memory or admission, each under the same mixed load (shorter than the default's long run)
SETTINGS = {
    "defaults": (),
    "--max-piece-frames 200": ("--max-piece-frames", "200"),
    "--max-piece-frames 800": ("--max-piece-frames", "800"),
    "--share-cores": ("--share-cores",),
    "--share-cores --max-piece-frames 300": ("--share-cores", "--max-piece-frames", "300"),
    "--max-first-audio-seconds 30 --max-request-seconds 120": ("--max-first-audio-seconds", "30",
                                                               "--max-request-seconds", "120"),
}


def single(args: tuple[str, ...], text: str, speed: float, most_audio: float) -> dict:
    """Peak memory of a fresh server for one pcm request at `speed`, read to its end or for `most_audio` seconds
    of audio (by then the piece budgets have grown to their cap, so the peak is reached), then abandoned."""
    with Server(PORT, *args) as server:
        idle = server.state()["rss_mb"]
        body = {"input": text, "voice": "af_heart", "response_format": "pcm", "speed": speed}
        reply = request(f"{server.url}/v1/audio/speech", body, most_audio=most_audio)
        peak = server.sample_peak()
    ended = {"200": "to its end", "aborted": "abandoned"}.get(reply.status, f"cut off ({reply.status})")
    return {"idle": idle, "peak": peak, "seconds": reply.seconds, "audio": reply.audio, "ended": ended}


@dataclass
class Outcome:
    status: str
    seconds: float  # to the end of the response, or to the refusal
    audio: float = 0.0
    speed: float = 1.0
    fmt: str = ""
    retry_after: int = 0
    at: float = 0.0  # when it was sent, in seconds since the load began


def client(seed: int, url: str, deadline: float, outcomes: list[Outcome], lock: threading.Lock) -> None:
    rng = random.Random(seed)
    began = time.monotonic()
    with httpx.Client(timeout=120, headers={"authorization": f"Bearer {KEYS[seed % len(KEYS)]}"}) as http:
        while time.monotonic() < deadline:
            fmt, speed = rng.choice(FORMATS), rng.choice(SPEEDS)
            language, long = rng.choice(MIX), rng.random() < 0.5
            text = (rng.choice(TEXTS[12:] if long else TEXTS[:12]) if language in "ab"
                    else LANGUAGE_TEXTS[language][long])
            body = {"model": "tts-1", "input": text, "voice": VOICES[language], "response_format": fmt, "speed": speed}
            abort = fmt == "pcm" and rng.random() < 0.3
            sent = time.monotonic() - began
            reply = request(f"{url}/v1/audio/speech", body, http=http, abort=abort)
            wait = int(reply.retry_after or "1") if reply.status == "429" else 0
            with lock:
                outcomes.append(Outcome(reply.status, reply.seconds, reply.audio, speed, fmt, wait, sent))
            time.sleep(min(wait, 5))


def burst(size: int) -> dict:
    """`size` long requests at once, and one official OpenAI SDK client with its default settings (2 retries
    that honour Retry-After) a second later: does it get its audio while the burst drains?"""
    with Server(PORT) as server:
        outcomes, order = [], itertools.count()

        def long_request() -> None:
            body = {"input": TEXTS[16 + next(order) % 4], "voice": "af_heart", "response_format": "wav"}
            outcomes.append(str(httpx.post(f"{server.url}/v1/audio/speech", json=body, timeout=300).status_code))

        drain = threading.Thread(target=in_threads, args=(long_request, size))
        drain.start()
        time.sleep(1)
        sdk = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused")
        started = time.monotonic()
        try:
            response = sdk.audio.speech.create(model="tts-1", voice="alloy", input=TEXTS[8], response_format="wav")
            result = f"{audio_seconds(response.content, 'wav'):.1f} s of audio after {time.monotonic() - started:.0f} s"
        except openai.APIError as exc:
            result = f"failed after {time.monotonic() - started:.0f} s: {type(exc).__name__}: {exc}"
        drain.join()
    return {"size": size, "burst": sorted(outcomes), "sdk": result}


def mixed(args: tuple[str, ...], clients: int, seconds: float) -> dict:
    with Server(PORT, *args, "--api-keys", ",".join(KEYS)) as server:
        warm = server.state()["rss_mb"]
        outcomes: list[Outcome] = []
        lock, seeds, deadline = threading.Lock(), itertools.count(), time.monotonic() + seconds
        with server.rss_samples() as samples:
            in_threads(lambda: client(next(seeds), server.url, deadline, outcomes, lock), clients)
            learned = metric(server.url, "kokoro_seconds_per_frame")
        exit_code = server.stop()
    half = [mb for t, mb in samples if t > seconds / 2]
    return {"warm": warm, "peak": server.peak_rss_mb, "steady": statistics.median(half) if half else 0.0,
            "first_half_max": max((mb for t, mb in samples if t <= seconds / 2), default=0.0),
            "second_half_max": max(half, default=0.0), "outcomes": [asdict(o) for o in outcomes],
            "exit": exit_code, "seconds_per_frame": learned}


def connection(url: str, key: str | None) -> httpx.Client:
    """A client of `key`, connected already, as a pool keeps it (opened in a burst on a busy machine, connections
    take longer than the 10 ms between two sends: the server would see the sends out of order)."""
    http = httpx.Client(headers={"authorization": f"Bearer {key}"}, timeout=300)
    http.get(f"{url}/health")
    return http


def ask(url: str, http: httpx.Client, text: str, at: float | None = None) -> tuple[str, float, float]:
    """One mp3 request read whole: (status, seconds from `at` (default: now) to its end, audio seconds)."""
    at = time.monotonic() if at is None else at
    got = request(f"{url}/v1/audio/speech", {"model": "tts-1", "input": text, "voice": "af_heart",
                                             "response_format": "mp3"}, http=http)
    return got.status, time.monotonic() - at, got.audio


def reply(url: str, key: str, message_key: str | None = None) -> dict:
    """REPLY's sentences sent 10 ms apart (a page's loop) with one key, played in order as each is whole; with
    `message_key`, MESSAGE from that key half a second in (measured from then)."""
    sends = [(key, text, 0.01 * k, 0.0) for k, text in enumerate(REPLY)] + [(message_key, MESSAGE, 0.62, 0.5)]
    pool = [connection(url, sender) for sender, *_ in sends]
    out: list = [None] * len(sends)
    at, order = time.monotonic(), itertools.count()

    def send() -> None:
        k = next(order)
        _, text, offset, since = sends[k]
        time.sleep(max(0.0, at + offset - time.monotonic()))
        out[k] = ask(url, pool[k], text, at + since)

    in_threads(send, len(sends) - (not message_key))
    ends, waits = out[0][1] + out[0][2], []  # playback: each sentence after the one before, once it is whole
    for status, ready, audio in out[1:len(REPLY)]:
        if status == "200":
            waits += [ready - ends] if ready > ends else []
            ends = max(ends, ready) + audio
    return {"refused": sum(o[0] == "429" for o in out[:len(REPLY)]),
            "first": out[0][1] if out[0][0] == "200" else None, "waits": waits,
            "message": out[-1][1] if message_key and out[-1][0] == "200" else None,
            "message_refused": bool(message_key) and out[-1][0] == "429"}


def turns(clients: int, repeats: int) -> dict:
    """A reply at once (Open WebUI), a message (SillyTavern): each alone, together, and beside greedy clients."""
    with Server(PORT, "--api-keys", ",".join(KEYS)) as server:
        lone = [ask(server.url, connection(server.url, KEYS[0]), REPLY[0]) for _ in range(repeats)]
        message = ask(server.url, connection(server.url, KEYS[1]), MESSAGE)
        alone = [reply(server.url, KEYS[0]) for _ in range(repeats)]
        together = [reply(server.url, KEYS[0], KEYS[1]) for _ in range(repeats)]
        outcomes: list[Outcome] = []
        lock, seeds, deadline = threading.Lock(), itertools.count(2), time.monotonic() + 20 + 35 * repeats
        greedy = threading.Thread(target=in_threads, args=(
            lambda: client(next(seeds), server.url, deadline, outcomes, lock), clients))
        greedy.start()
        loaded = []
        for _ in range(repeats):
            time.sleep(10)
            loaded.append(reply(server.url, KEYS[0], KEYS[1]))
        greedy.join()
    return {"lone": statistics.median(o[1] for o in lone), "message_alone": message[1],
            "alone": alone, "together": together, "loaded": loaded, "greedy": clients, "repeats": repeats,
            "greedy_refused": sum(o.status == "429" for o in outcomes), "greedy_requests": len(outcomes)}


def turn_rows(measured: dict) -> list[list]:
    rows = []
    for label, key in (("a reply alone", "alone"), ("a reply and a message", "together"),
                       (f"both beside {measured['greedy']} greedy clients", "loaded")):
        runs = measured[key]
        message = [r["message"] for r in runs if r["message"] is not None]
        refused = sum(r.get("message_refused", False) for r in runs)
        firsts = [r["first"] for r in runs if r["first"] is not None]
        rows.append([label, "/".join(str(r["refused"]) for r in runs),
                     f"{statistics.median(firsts) / measured['lone']:.2f}×" if firsts else "refused",
                     "/".join(f"{len(r['waits'])} ({sum(r['waits']):.1f} s)" for r in runs),
                     (f"{statistics.median(message) / measured['message_alone']:.2f}×" if message else "-")
                     + (f", {refused} of {len(runs)} refused" if refused else "")])
    return rows


def settings(clients: int, seconds: float) -> dict:
    """Each setting of SETTINGS under the mixed load for `seconds`: memory, served latencies, refusals."""
    measured = {}
    for label, config in list(SETTINGS.items())[: 2 if QUICK else None]:
        load = mixed(config, clients, seconds)
        outcomes = [Outcome(**o) for o in load.pop("outcomes")]
        served = [o.seconds for o in outcomes if o.status == "200"]
        refused = [o.seconds for o in outcomes if o.status == "429"]
        measured[label] = load | {
            "seconds": seconds, "requests": len(outcomes), "refused": len(refused),
            "failed": sum(o.status not in ("200", "429", "aborted") for o in outcomes),
            "served": {str(p): percentile(served, p) if served else 0.0 for p in (50, 90, 100)},  # JSON keys
            "refusal_ms": percentile(refused, 50) * 1000 if refused else 0.0,
            "audio": sum(o.audio for o in outcomes if o.status == "200")}
        print(label, {k: v for k, v in measured[label].items()}, flush=True)
    return measured


def setting_rows(measured: dict) -> list[list]:
    return [[f"`{label}`", f"{m['warm']:.0f}", f"{m['steady']:.0f}", f"{m['peak']:.0f}",
             f"{m['served']['50']:.1f} / {m['served']['90']:.1f} / {m['served']['100']:.1f} s",
             f"{m['refused'] / max(1, m['requests']):.0%} of {m['requests']}", f"{m['refusal_ms']:.0f} ms",
             f"{m['audio'] / m['seconds']:.2f}", m["failed"], m["exit"]] for label, m in measured.items()]


def distribution(values: list[float]) -> str:
    return (f"median {percentile(values, 50):.1f} s, p90 {percentile(values, 90):.1f} s, max {max(values):.1f} s"
            if values else "none")


def singles(repeats: int, most_audio: float) -> dict:
    """Each single request of a fresh server, `repeats` times: medians, how each ended, the spread of the peak."""
    measured = {}
    for label, config, text, speed in [
        ("461 chars, speed 0.25", (), PARAGRAPH, 0.25),
        ("461 chars, speed 0.25, old sizing", OLD_PIECES, PARAGRAPH, 0.25),
        (LONG, (), LONG_TEXT[:4096], 0.25),
        ("461 chars, speed 1.0", (), PARAGRAPH, 1.0),
    ]:
        runs = [single(config, text, speed, most_audio) for _ in range(repeats)]
        measured[label] = {key: statistics.median(run[key] for run in runs) for key in runs[0] if key != "ended"}
        measured[label]["ended"] = ", ".join(sorted({run["ended"] for run in runs}))
        measured[label]["spread"] = max(r["peak"] for r in runs) - min(r["peak"] for r in runs)
        print(label, measured[label], flush=True)
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20 if QUICK else 300, help="the mixed overload's length")
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=1 if QUICK else 2, help="runs of each single request")
    parser.add_argument("--setting-seconds", type=float, default=10 if QUICK else 120, help="each setting's load")
    parser.add_argument("--again", nargs="*", choices=("mixed", "burst", "settings", "long", "turns"),
                        help="only these parts again, the rest from docs/overload.json (none: the page again); "
                             "long: the 4,096 characters at speed 0.25, to the end")
    parser.add_argument("--languages", default="".join(VOICES), help="the load's language letters (default: all)")
    args = parser.parse_args()
    MIX[:] = args.languages
    raw = json.loads(RAW.read_text()) if args.again is not None else {"repeats": args.repeats, "machine": machine()}
    parts = {  # each measures a part of the page again
        "singles": lambda: {"singles": singles(args.repeats, 10 if QUICK else 1e9)},  # QUICK: 10 s of audio each
        "burst": lambda: {"sdk": burst(8)},
        "mixed": lambda: {"load": mixed((), args.clients, args.seconds), "clients": args.clients,
                          "seconds": args.seconds, "languages": args.languages},
        "settings": lambda: {"settings": settings(args.clients, args.setting_seconds)},
        "turns": lambda: {"turns": turns(6, 1 if QUICK else 3)},
        "long": lambda: {"singles": raw["singles"] | {LONG: single((), LONG_TEXT[:4096], 0.25, 1e9) | {"spread": 0.0}}},
    }
    for name in ("singles", "burst", "mixed", "settings", "turns") if args.again is None else args.again:
        raw |= parts[name]()
    RAW.write_text(json.dumps(raw, indent=1))
    report(**raw)


def report(singles: dict, load: dict, sdk: dict, clients: int, seconds: float, repeats: int, machine: str,
           settings: dict, languages: str = "ab", turns: dict | None = None) -> None:
    outcomes = [Outcome(**o) for o in load["outcomes"]]
    served = [o for o in outcomes if o.status == "200"]
    refused = [o for o in outcomes if o.status == "429"]
    five_xx = [o for o in outcomes if o.status.startswith("5")]
    errors = [o for o in outcomes if o.status not in ("200", "429", "aborted") and not o.status.startswith("5")]
    over_60 = [o for o in served if o.seconds > 60]
    # a response longer than its own audio would keep a listener waiting; within it, it kept up with playback
    late = [o for o in over_60 if o.seconds > o.audio]
    results = {
        "one slow request (speed 0.25, 4,096 chars) peaks at or under 1,000 MB":
            singles[LONG]["peak"] <= 1000,
        "peak under the mixed load at or under 1,000 MB": load["peak"] <= 1000,
        "no growth after warm-up (second half's highest within 5% of the first half's)":
            load["second_half_max"] <= load["first_half_max"] * 1.05,
        "every served request within 60 s, or before its audio would have finished playing": not late,
        "refusals answered in under 100 ms (p99)": not refused or percentile([o.seconds for o in refused], 99) < 0.1,
        "no 5xx, no timeouts or broken streams": not five_xx and not errors,
        "the OpenAI SDK with default settings gets its audio during a burst": "of audio" in sdk["sdk"],
        "SIGTERM exits 0": load["exit"] == 0,
    }
    if turns:
        results |= {
            "a reply's 14 sentences at once (one key): none refused": all(
                r["refused"] == 0 for r in turns["alone"] + turns["together"]),
            "its playback never waits (the reply alone)": not any(r["waits"] for r in turns["alone"]),
            "its first sentence whole within 1.5× a lone sentence's time (median)": statistics.median(
                r["first"] or math.inf for r in turns["alone"] + turns["together"]) <= 1.5 * turns["lone"]}
    counts = (f"{len(outcomes)}: {len(served)} served, {len(refused)} refused (429), "
              f"{sum(o.status == 'aborted' for o in outcomes)} abandoned by their client, {len(five_xx)} 5xx, "
              f"{len(errors)} other errors")
    audio = sum(o.audio for o in served)  # the machine was busy throughout: its whole time went into this
    over_60_detail = "".join(f"; {o.fmt} at speed {o.speed:g}, sent at {o.at:.0f} s: {o.audio:.0f} s of audio in "
                             f"{o.seconds:.0f} s" for o in over_60[:8])
    single_rows = [[label, f"{r['audio']:.0f} s, {r.get('ended', 'to its end')}", f"{r['seconds']:.0f} s",
                    f"{r['idle']:.0f}", f"{r['peak']:.0f}", f"{r['spread']:.0f}"] for label, r in singles.items()]
    ratio = singles["461 chars, speed 0.25, old sizing"]["peak"] / singles["461 chars, speed 0.25"]["peak"]
    load_rows = [
        ["requests", counts], ["share refused", f"{len(refused) / max(1, len(outcomes)):.0%}"],
        ["time to a refusal", distribution([o.seconds * 1000 for o in refused]).replace(" s", " ms")],
        ["Retry-After given", distribution([float(o.retry_after) for o in refused])],
        ["time to serve (whole response)", distribution([o.seconds for o in served])],
        ["served slower than 60 s", f"{len(over_60)}{over_60_detail}"],
        ["served slower than 60 s and slower than its own audio", len(late)],
        ["audio served", f"{audio:.0f} s, {audio / seconds:.2f} s per second"],
        ["a frame's cost: learned from the model calls / end to end",
         f"{load.get('seconds_per_frame', 0) * 1000:.1f} / {seconds / max(1.0, audio * 40) * 1000:.1f} ms"],
        ["memory warm / steady (median, second half) / peak",
         f"{load['warm']:.0f} / {load['steady']:.0f} / {load['peak']:.0f} MB"],
        ["highest memory, first half / second half",
         f"{load['first_half_max']:.0f} / {load['second_half_max']:.0f} MB"],
        ["exit code after SIGTERM", load["exit"]]]
    fill(REPO / "docs" / "overload.md", machine=machine, repeats=f"median of {repeats} fresh servers",
         singles=table(["request", "audio read", "time", "idle MB", "peak MB", "spread of the peak, MB"], single_rows),
         ratio=f"**{ratio:.2f}×**", load_size=f"{clients} clients for {seconds:.0f} s", formats=", ".join(FORMATS),
         speeds=", ".join(map(str, SPEEDS)),
         languages=", ".join(f"`{VOICES[letter]}`" for letter in languages), load=table(["figure", "value"], load_rows),
         settings_size=f"({clients} clients) for {next(iter(settings.values()))['seconds']:.0f} s",
         settings=table(["setting", "warm", "steady", "peak", "served", "refused", "refusal (median)",
                         "audio s per s", "errors", "exit"], setting_rows(settings)),
         burst_size=str(sdk["size"]), burst=", ".join(sdk["burst"]), sdk=sdk["sdk"],
         **({"turns": table(["clients", "sentences refused (each run)", "first sentence whole ÷ alone",
                             "playback waits (each run: count, seconds)", "message whole ÷ alone"], turn_rows(turns)),
             "turns_reference": f"{turns['lone']:.2f} s / {turns['message_alone']:.1f} s"} if turns else {}),
         checks=checks(results, fail="**FAIL**"))
    sys.exit(0 if all(results.values()) else 1)


if __name__ == "__main__":
    main()

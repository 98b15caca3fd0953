"""Streaming on the real path: clients that leave stop their synthesis; a full server says 429 at once."""

from __future__ import annotations

import re
import threading

import httpx

from support import decode, wait_until

LONG = " ".join(["Every sentence here adds a little more audio to a stream that the client will abandon."] * 12)


def own_threads() -> set[str]:
    """Threads other than the pooled workers of asyncio and AnyIO (reused, up to a fixed bound)."""
    return {t.name for t in threading.enumerate() if not t.name.startswith(("asyncio_", "AnyIO worker"))}


def wait_idle(engine, timeout: float = 30.0) -> None:
    wait_until(lambda: not engine.scheduler.active_requests and not engine.scheduler.queued_calls,
               "synthesis kept running for a client that left", timeout)


def test_aborted_streams_stop_within_a_piece_and_leak_nothing(server, engine):
    wait_idle(engine)
    body = {"input": LONG, "voice": "af_heart", "response_format": "pcm"}
    threads_before = own_threads()
    for _ in range(5):
        calls_before = engine.scheduler.calls_done
        with httpx.stream("POST", f"{server.url}/v1/audio/speech", json=body, timeout=60) as response:
            assert response.status_code == 200
            next(response.iter_bytes())
        wait_idle(engine)
        # the first piece, at most the one running when the client left, and the one after it
        assert engine.scheduler.calls_done - calls_before <= 3
    assert own_threads() == threads_before


def test_compressed_stream_arrives_in_chunks_that_form_one_file(server):
    body = {"input": LONG[:400], "voice": "af_heart", "response_format": "mp3"}
    with httpx.stream("POST", f"{server.url}/v1/audio/speech", json=body, timeout=120) as response:
        chunks = list(response.iter_raw())
    assert len(chunks) >= 2
    audio = decode(b"".join(chunks), "mp3")
    assert audio.duration > 10


def test_full_server_answers_429_with_retry_after(server, engine):
    wait_idle(engine)
    limit = engine.scheduler.max_requests
    engine.scheduler.max_requests = 1
    try:
        body = {"input": LONG, "voice": "af_heart", "response_format": "pcm"}
        with httpx.stream("POST", f"{server.url}/v1/audio/speech", json=body, timeout=60) as busy:
            stream = busy.iter_bytes()  # held: dropping the iterator would close the connection
            next(stream)
            refused = httpx.post(f"{server.url}/v1/audio/speech", json={**body, "input": "Hi."}, timeout=60)
            # answered while the long synthesis still runs: refused at once, not queued behind it
            assert engine.scheduler.active_requests == 1
            metrics = httpx.get(f"{server.url}/metrics", timeout=10).text
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["error"]["type"] == "rate_limit_error"
        refusals = re.search(r"^kokoro_refused_total (\S+)", metrics, re.M)
        assert refusals and float(refusals.group(1)) >= 1, metrics
        backlog = re.search(r"^kokoro_backlog_seconds (\S+)", metrics, re.M)
        assert backlog and float(backlog.group(1)) > 1, metrics  # the long request's work is counted
    finally:
        engine.scheduler.max_requests = limit
    wait_idle(engine)


def test_concurrent_requests_all_complete(server):
    results: list[float] = []

    def one(i: int) -> None:
        response = httpx.post(f"{server.url}/v1/audio/speech", timeout=120,
                              json={"input": f"Client number {i} says hello.", "voice": "am_adam",
                                    "response_format": "wav"})
        assert response.status_code == 200, (response.status_code, response.text)
        results.append(decode(response.content, "wav").duration)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and all(d > 1.0 for d in results)


def test_a_synthesis_dropped_before_its_first_chunk_frees_its_slot(engine):
    import asyncio
    import gc

    wait_idle(engine)

    async def open_and_drop() -> None:
        synthesis = await engine.open("Hello there.", "af_heart", 1.0)
        assert engine.scheduler.active_requests == 1
        del synthesis  # like a client that left before the response started

    asyncio.run(open_and_drop())
    gc.collect()
    assert engine.scheduler.active_requests == 0

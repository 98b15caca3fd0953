"""Prometheus metrics: requests by route (its path template), status and format, latency and time-to-first-audio
histograms, audio generated, queue depth and model state. One registry per app, no globals."""

from __future__ import annotations

import time
from typing import Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kokoro_speech.api.policy import label_of
from kokoro_speech.audio.encode import FORMATS
from kokoro_speech.kokoro import SAMPLE_RATE
from kokoro_speech.pipeline.engine import Engine

_FORMAT_OF = {f.content_type: f.name for f in FORMATS.values()} | {"text/event-stream": "sse"}
_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60, 120)


class EngineCollector:
    """Reads the engine's live state at scrape time."""

    def __init__(self, engine: Callable[[], Engine | None]) -> None:
        self.engine = engine

    def collect(self):
        engine = self.engine()
        loaded = GaugeMetricFamily("kokoro_model_loaded", "1 once the model is loaded and warm")
        loaded.add_metric([], 1.0 if engine is not None else 0.0)
        yield loaded
        active = GaugeMetricFamily("kokoro_active_requests", "Synthesis requests admitted and not finished")
        queued = GaugeMetricFamily("kokoro_queue_depth", "Model calls waiting for a worker")
        limit = GaugeMetricFamily("kokoro_max_requests", "Synthesis requests admitted at once before 429")
        audio = CounterMetricFamily("kokoro_audio_seconds", "Seconds of audio synthesized")
        backlog = GaugeMetricFamily("kokoro_backlog_seconds", "Machine-seconds of admitted work not yet done")
        refused = CounterMetricFamily("kokoro_refused", "Speech requests refused with 429 by admission")
        speed = GaugeMetricFamily("kokoro_seconds_per_frame", "Machine-seconds one 25 ms frame costs (learned)")
        if engine is not None:
            admission = engine.scheduler.admission
            active.add_metric([], engine.scheduler.active_requests)
            queued.add_metric([], engine.scheduler.queued_calls)
            limit.add_metric([], engine.scheduler.max_requests)
            audio.add_metric([], engine.scheduler.samples_done / SAMPLE_RATE)
            backlog.add_metric([], admission.backlog_seconds())
            refused.add_metric([], admission.refused)
            speed.add_metric([], admission.seconds_per_frame)
        yield from (active, queued, limit, audio, backlog, refused, speed)


class Metrics:
    def __init__(self, engine: Callable[[], Engine | None]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("kokoro_requests", "HTTP requests", ["route", "status", "format"],
                                registry=self.registry)
        self.latency = Histogram("kokoro_request_seconds", "Time to the end of the response", ["route"],
                                 buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.first_audio = Histogram("kokoro_time_to_first_audio_seconds",
                                     "Time from the request to the first audio byte sent", ["format"],
                                     buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.registry.register(EngineCollector(engine))

    def finished(self, route: str, status: str, fmt: str, seconds: float) -> None:
        """One request (an HTTP response, a WebSocket turn, a Wyoming synthesis) counted and timed."""
        self.requests.labels(route, status, fmt).inc()
        self.latency.labels(route).observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Counts every response, and times its end and (for audio) its first body byte."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        metrics = self.metrics
        started = time.perf_counter()
        status, fmt, first_sent = "500", "none", False

        async def timed_send(message: Message) -> None:
            nonlocal status, fmt, first_sent
            if message["type"] == "http.response.start":
                status = str(message["status"])
                content_type = dict(message.get("headers", [])).get(b"content-type", b"").decode()
                fmt = _FORMAT_OF.get(content_type.split(";")[0].strip(), "none")
            elif message["type"] == "http.response.body" and message.get("body") and not first_sent:
                first_sent = True
                if fmt != "none" and status == "200":
                    metrics.first_audio.labels(fmt).observe(time.perf_counter() - started)
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            metrics.finished(label_of(scope), status, fmt, time.perf_counter() - started)  # routed by now

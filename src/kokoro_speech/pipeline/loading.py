"""Starting the engine: the model file to load, the model sessions (built and warmed up), the voices, the lexicon
and the G2P, and the scheduler over them; the two halves of a cold start overlap.

    model file: bundled or --model (model/weights.py) → faster graph → copy with durations (model/derived.py)
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kokoro_speech.config import Settings
from kokoro_speech.kokoro import SAMPLES_PER_FRAME, STYLE_SIZE, to_token_ids
from kokoro_speech.model.derived import fast_model, with_durations
from kokoro_speech.model.session import KokoroModel, usable_cores
from kokoro_speech.model.voices import VoiceRegistry, load_voices
from kokoro_speech.model.weights import resolve_model
from kokoro_speech.pipeline.admission import Admission
from kokoro_speech.pipeline.scheduler import ModelSession, Scheduler
from kokoro_speech.text.lexicon import Lexicon
from kokoro_speech.text.phonemize import Phonemizers

log = logging.getLogger(__name__)

WARM_UP_TEXT = "Kokoro is warming up."
WARM_UP_PHONEMES = "həlˈO wˈɜɹld."  # "hello world.": the model runs without waiting for the G2P


def model_file(settings: Settings) -> Path:
    """The file the sessions load: the model the settings name, its faster graph on CPU (unless --no-fast-model),
    and the copy of that which also outputs each phoneme's duration, for word timestamps (audio bit-identical)."""
    path = resolve_model(settings.model, settings.cache_dir, offline=settings.offline,
                         float_precision=settings.cuda_precision if settings.device == "cuda" else None)
    if settings.fast_model and settings.device == "cpu":
        path = fast_model(path, settings.cache_dir)
    return with_durations(path, settings.cache_dir)


def warm(session: ModelSession) -> None:
    """A session's first run is its slowest: pay for it before any request."""
    session(to_token_ids(WARM_UP_PHONEMES), np.zeros(STYLE_SIZE, np.float32), 1.0)


def seconds_per_frame(session: ModelSession) -> float:
    """What a frame costs this machine, from one short piece on a warm session (~0.3 s here, with nothing else
    running): admission's first measure of its speed, where the prior is one machine's and a slower one would be
    promised too much until its first calls had taught it. Within about a third of what longer pieces cost per
    frame, either way; the calls then correct it."""
    started = time.perf_counter()
    audio = session(to_token_ids(WARM_UP_PHONEMES), np.zeros(STYLE_SIZE, np.float32), 1.0)
    return (time.perf_counter() - started) / (audio.size / SAMPLES_PER_FRAME)


def _warm_sessions(path: Path, settings: Settings) -> tuple[KokoroModel, KokoroModel | None, int]:
    """The wide session (every core) and, with --share-cores, a narrow single-threaded one; each run once."""
    cores = settings.threads or usable_cores()
    model = KokoroModel(path, device=settings.device, threads=cores, conv_algo_search=settings.cuda_conv_algo_search)
    warm(model)
    narrow = None
    if settings.share_cores and settings.device == "cpu" and cores > 1:  # see scheduler.py
        narrow = KokoroModel(path, device=settings.device, threads=1)
        warm(narrow)
    return model, narrow, cores


@dataclass(frozen=True)
class Loaded:
    """Everything an engine holds, loaded and warm."""

    model: KokoroModel
    voices: VoiceRegistry
    phonemizers: Phonemizers
    scheduler: Scheduler
    lexicon: Lexicon | None


def load(settings: Settings, *, voices: VoiceRegistry | None = None) -> Loaded:
    """Find and verify the weights, start the model session(s) and warm everything up.

    The sessions are built and run once on a thread (ONNX Runtime releases the GIL) while this thread loads the
    voices (unless given) and the G2P (Python): the two halves of a cold start overlap.
    """
    path = model_file(settings)
    started = time.perf_counter()
    with ThreadPoolExecutor(1, thread_name_prefix="engine-load") as pool:
        sessions = pool.submit(_warm_sessions, path, settings)
        if voices is None:
            voices = load_voices(settings)
        lexicon = Lexicon.load(settings.lexicon) if settings.lexicon is not None else None
        phonemizers = Phonemizers()
        phonemizers.warm_up(WARM_UP_TEXT)
        model, narrow, cores = sessions.result()
    speed = seconds_per_frame(model)  # once the G2P's warm-up no longer shares the cores
    admission = Admission(max_requests=settings.max_admitted_requests,
                          first_audio_seconds=settings.max_first_audio_seconds,
                          finish_seconds=settings.max_request_seconds, seconds_per_frame=speed)
    scheduler = Scheduler(model, admission=admission, narrow=narrow, cores=cores)
    log.info("engine loaded and warm in %.2f s", time.perf_counter() - started)
    return Loaded(model, voices, phonemizers, scheduler, lexicon)

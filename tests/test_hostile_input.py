"""Hostile input: arbitrary Unicode through the text path (property-based), nasty bodies through the live
server on the real model, and the OpenAPI schema fuzzed with schemathesis on a fast stand-in model."""

from __future__ import annotations

import collections
import json
from functools import partial

import httpx
import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from kokoro_speech.kokoro import MAX_TOKENS, SAMPLES_PER_FRAME, vocabulary
from kokoro_speech.text.normalize import normalize
from kokoro_speech.text.phonemize import Phonemizers
from kokoro_speech.text.split import plan_pieces, split_sentences

PHONEMIZERS = Phonemizers()
NASTY_PIECES = st.sampled_from([
    "🙂", "👩🏽‍💻", "\u0301", "\u200b", "\u200f", "\u202e", "\ufeff", "\x00", "\x1b[31m", "שלום", "مرحبا",
    "<speak>", "</b>", "&amp;", "[x](/y/)", "$", "%", "1,000,000", "3/14", "10:30", "Dr.", "...", "\n\n", "#", "*",
    "https://example.com/a?b=c", "a@b.co", "ｆｕｌｌ", "Ⅻ", "½", "∞", "𝔘𝔫𝔦", "\ud800",
])
TEXT = st.lists(st.one_of(st.text(max_size=40), NASTY_PIECES, st.from_regex(r"[A-Za-z]{1,12}", fullmatch=True)),
                max_size=25).map(" ".join)


@pytest.mark.unit
@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXT, language=st.sampled_from(["a", "b"]))
def test_any_text_becomes_pieces_inside_the_window_or_nothing(text, language):
    words = normalize(text, british=language == "b")
    pieces = list(plan_pieces(split_sentences(words), partial(PHONEMIZERS.phonemize, language=language)))
    vocab = vocabulary()
    for piece in pieces:
        assert 0 < piece.token_count <= MAX_TOKENS
        assert all(symbol in vocab for symbol in piece.phonemes)


NASTY_BODIES = [
    '{"input": "\\ud800 lone surrogate \\udfff here", "voice": "af_heart"}',
    '{"input": "\\u202eevil RTL \\u200f\\u200b text \\u0301\\u0301", "voice": "af_heart"}',
    '{"input": "\\u200b\\u200b\\u200b", "voice": "af_heart"}',
    '{"input": "   \\n\\t  ", "voice": "af_heart"}',
    '{"input": "?!.,;:—…", "voice": "af_heart"}',
    '{"input": "<speak><prosody rate=\\"slow\\">Hello <b>there</b></prosody></speak>", "voice": "af_heart"}',
    json.dumps({"input": "https://example.com/" + "segment/" * 60, "voice": "af_heart"}),
    json.dumps({"input": "Supercalifragilistic" * 30, "voice": "bf_emma"}),
    json.dumps({"input": "🙂" * 4096, "voice": "af_heart"}),
    json.dumps({"input": "." * 4096, "voice": "af_heart"}),
    json.dumps({"input": "Hola, ¿cómo estás? Muy bien.", "voice": "ef_dora"}),
    json.dumps({"input": "Bonjour à tous, ça va très bien.", "voice": "ff_siwis"}),
]


@pytest.mark.parametrize("body", NASTY_BODIES)
def test_nasty_bodies_get_audio_or_a_400_never_a_500(server, body):
    response = httpx.post(f"{server.url}/v1/audio/speech", content=body.encode(),
                          headers={"content-type": "application/json"}, timeout=300)  # a hang fails here
    assert response.status_code in (200, 400), response.text[:300]
    if response.status_code == 400:
        assert response.json()["error"]["param"] in ("input", "voice")
    else:
        assert len(response.content) > 1000


class StandInModel:
    """Instant 'audio' (noise, one 25 ms frame per token and pad) and its durations: fuzzing exercises the plumbing,
    timestamps included (so /dev/captioned_speech is fuzzed past its 400s), not the model."""

    durations_output = "durations"

    def __call__(self, tokens, style, speed):
        return self.timed(tokens, style, speed)[0]

    def timed(self, tokens, style, speed):
        frames = np.ones(len(tokens) + 2, np.int64)
        audio = np.random.default_rng(len(tokens)).uniform(-0.3, 0.3, frames.size * SAMPLES_PER_FRAME)
        return audio.astype(np.float32), frames


def test_openapi_schema_fuzzed_with_schemathesis(settings, engine, tmp_path):
    schemathesis = pytest.importorskip("schemathesis")
    from kokoro_speech.api.app import create_app
    from kokoro_speech.pipeline.engine import Engine
    from kokoro_speech.pipeline.admission import Admission
    from kokoro_speech.pipeline.scheduler import Scheduler
    from kokoro_speech.model.voices import load_voices

    stand_in = StandInModel()
    voices = load_voices(settings.model_copy(update={"saved_voices_dir": tmp_path}))  # voices it saves stay here
    fast = Engine(stand_in, voices, engine.phonemizers, Scheduler(stand_in, admission=Admission(max_requests=64)))
    app = create_app(settings, engine=fast)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures, answered = [], collections.Counter()
    for operation in schema.get_all_operations():
        operation = operation.ok()

        @hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case) -> None:
            response = case.call()
            answered[(case.path, response.status_code)] += 1
            if response.status_code >= 500:
                failures.append((case.method, case.path, case.body, response.status_code, response.text[:200]))

        check()
    fast.close()
    assert not failures, failures[:5]
    assert answered[("/dev/captioned_speech", 200)] > 0, answered  # fuzzed past validation, timestamps and all

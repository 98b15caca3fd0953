"""The execution provider flag: --device cuda runs on ONNX Runtime's CUDA provider where there is one, and
says clearly what to install where there is none."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

from kokoro_speech.errors import SetupError
from kokoro_speech.model.session import KokoroModel

HAS_CUDA = "CUDAExecutionProvider" in ort.get_available_providers()


@pytest.mark.skipif(HAS_CUDA, reason="this machine has a CUDA provider")
def test_cuda_without_a_cuda_runtime_is_a_clear_setup_error(engine):
    with pytest.raises(SetupError, match="onnxruntime-gpu"):
        KokoroModel(engine.model.path, device="cuda")


@pytest.mark.skipif(not HAS_CUDA, reason="no CUDA provider here (pip install onnxruntime-gpu on a GPU machine)")
def test_cuda_session_speaks_like_the_cpu_one(engine):
    gpu = KokoroModel(engine.model.path, device="cuda")
    assert gpu.providers[0] == "CUDAExecutionProvider"
    tokens = [50, 83, 54, 156, 31, 16, 65, 156, 87, 123, 54, 46, 4]
    style = engine.voices.resolve("af_heart").style_for(len(tokens))
    audio, reference = gpu(tokens, style, 1.0), engine.model(tokens, style, 1.0)
    assert abs(audio.size - reference.size) < 0.05 * reference.size
    assert np.sqrt(np.mean(audio**2)) > 0.01

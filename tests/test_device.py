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


def _tiny_graph(tmp_path, op_type: str):
    """A one-node ONNX file: enough for the checks that read a graph's operators."""
    from onnx import TensorProto, helper, save

    inputs = [helper.make_tensor_value_info(n, TensorProto.UINT8 if op_type == "ConvInteger" else TensorProto.FLOAT,
                                            [1, 1, 4]) for n in ("x", "w")]
    output = helper.make_tensor_value_info("y", TensorProto.INT32 if op_type == "ConvInteger" else TensorProto.FLOAT,
                                           [1, 1, 4])
    graph = helper.make_graph([helper.make_node(op_type, ["x", "w"], ["y"])], "tiny", inputs, [output])
    path = tmp_path / f"{op_type}.onnx"
    save(helper.make_model(graph), str(path))
    return path


@pytest.fixture
def stub_cuda(monkeypatch):
    """A provider list with CUDA in it, as onnxruntime-gpu reports on a GPU machine (no GPU is needed)."""
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])


@pytest.mark.unit
def test_cuda_providers_carry_the_convolution_search(stub_cuda):
    from kokoro_speech.model.session import providers_for

    assert providers_for("cuda") == [("CUDAExecutionProvider", {"cudnn_conv_algo_search": "HEURISTIC"}),
                                     "CPUExecutionProvider"]
    assert providers_for("cuda", "DEFAULT")[0][1] == {"cudnn_conv_algo_search": "DEFAULT"}
    assert providers_for("cpu") == ["CPUExecutionProvider"]


@pytest.mark.unit
def test_the_int8_graph_is_refused_on_cuda_with_what_to_do(tmp_path):
    from kokoro_speech.model.session import refuse_int8_on_cuda

    with pytest.raises(SetupError, match="int8 graph.*--cuda-precision"):
        refuse_int8_on_cuda(_tiny_graph(tmp_path, "ConvInteger"))
    refuse_int8_on_cuda(_tiny_graph(tmp_path, "Add"))  # a float graph passes


def test_the_bundled_int8_model_is_refused_on_cuda_before_any_session(engine, stub_cuda, monkeypatch):
    def no_session(*args, **kwargs):
        raise AssertionError("a session was started for a graph that cannot run on CUDA")

    monkeypatch.setattr(ort, "InferenceSession", no_session)
    with pytest.raises(SetupError, match="int8 graph"):
        KokoroModel(engine.model.path, device="cuda")


@pytest.mark.unit
@pytest.mark.parametrize(("precision", "filename"), [("fp32", "onnx/model.onnx"), ("fp16", "onnx/model_fp16.onnx")])
def test_cuda_takes_a_float_export_from_hugging_face(tmp_path, monkeypatch, precision, filename):
    import huggingface_hub

    from kokoro_speech.model.weights import HF_MODEL_REPO, resolve_model

    asked = []
    monkeypatch.setattr(huggingface_hub, "hf_hub_download",
                        lambda repo, name, cache_dir: asked.append((repo, name)) or str(tmp_path / "model.onnx"))
    assert resolve_model(None, tmp_path, offline=False, float_precision=precision) == tmp_path / "model.onnx"
    assert asked == [(HF_MODEL_REPO, filename)]
    with pytest.raises(SetupError, match="--offline"):
        resolve_model(None, tmp_path, offline=True, float_precision=precision)
    given = tmp_path / "mine.onnx"
    given.write_bytes(b"x")
    assert resolve_model(given, tmp_path, offline=True, float_precision=precision) == given  # --model wins

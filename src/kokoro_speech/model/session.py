"""The ONNX Runtime session: (phoneme token ids, style vector, speed) → float32 audio at 24 kHz.

Accepts both input conventions found in Kokoro v1.0 exports: `tokens`/`style`/`speed` and
`input_ids`/`style`/`speed`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import threading
from pathlib import Path

import numpy as np
import onnxruntime as ort

from kokoro_speech.errors import SetupError
from kokoro_speech.kokoro import MAX_TOKENS
from kokoro_speech.model.durations import duration_output

log = logging.getLogger(__name__)

_NUMPY_TYPES = {"tensor(float)": np.float32, "tensor(int32)": np.int32, "tensor(int64)": np.int64}


def _malloc_trim():
    """glibc's malloc_trim(0), or a no-op elsewhere (musl, macOS)."""
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return lambda: None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return lambda: trim(0)


# The arena gives a call's memory back to malloc (shrinkage, below), but glibc keeps freed pages below the top of
# its heaps, pinned there by the small objects the G2Ps and the server allocate in between: returned to the
# system after every call, they stop piling up (ctypes releases the GIL; its cost per call is not yet measured:
# docs/languages.md).
release_freed_memory = _malloc_trim()

M_ARENA_MAX = -8  # glibc's mallopt parameter
MALLOC_ARENAS = 2


def limit_malloc_arenas() -> None:
    """At most MALLOC_ARENAS glibc heaps for every thread (glibc's default is 8 per core): each thread that
    allocates may otherwise get a heap of its own, and a heap's free pages pinned by a few live objects are what
    grows a busy server's resident memory. Before any thread starts (`serve`); MALLOC_ARENA_MAX, when set, wins."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    mallopt(M_ARENA_MAX, MALLOC_ARENAS)


def usable_cores() -> int:
    """Cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# int8 operators that ONNX Runtime's CUDA provider has no kernel for: on CUDA they would run on the CPU, with
# copies between the devices around each of them (kokoro-onnx #112, #125)
CPU_ONLY_ON_CUDA = frozenset({"ConvInteger", "MatMulInteger", "DynamicQuantizeLinear"})


def providers_for(device: str, conv_algo_search: str = "HEURISTIC") -> list:
    """The execution providers for `device`. On CUDA, cuDNN's convolution algorithm search: kokoro-onnx found the
    default EXHAUSTIVE search slow for Kokoro's ever-changing input lengths (#125, where DEFAULT helped); since ONNX
    Runtime 1.20 DEFAULT is cuDNN's fallback mode and its maintainers recommend HEURISTIC, which is our default."""
    if device == "cuda":
        available = ort.get_available_providers()
        if "CUDAExecutionProvider" not in available:
            raise SetupError(
                "--device cuda was asked for, but this ONNX Runtime has no CUDA provider "
                f"(available: {', '.join(available)}): on a machine with CUDA, replace the CPU build: "
                "pip uninstall -y onnxruntime && pip install onnxruntime-gpu"
            )
        return [("CUDAExecutionProvider", {"cudnn_conv_algo_search": conv_algo_search}), "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def refuse_int8_on_cuda(path: Path) -> None:
    """A SetupError, before any session, for an int8 graph on CUDA: it would run slower than on the CPU alone."""
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:  # not readable as ONNX: the session says why, with its own message
        return
    found = sorted({node.op_type for node in model.graph.node} & CPU_ONLY_ON_CUDA)
    if found:
        raise SetupError(
            f"model file {path} is the int8 graph ({', '.join(found)}), which ONNX Runtime's CUDA provider cannot run "
            "on the GPU: leave out --model to use a float export from Hugging Face (--cuda-precision fp32 or fp16), "
            "pass --model with a float Kokoro v1.0 ONNX export, or run it on the CPU (--device cpu)")


class KokoroModel:
    def __init__(self, path: Path, *, device: str = "cpu", threads: int = 0,
                 conv_algo_search: str = "HEURISTIC") -> None:
        self.path = path
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or usable_cores()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            providers = providers_for(device, conv_algo_search)
            if device == "cuda":
                refuse_int8_on_cuda(path)
            self.session = ort.InferenceSession(str(path), options, providers=providers)
        except SetupError:
            raise
        except Exception as exc:
            raise SetupError(f"model file {path} could not be loaded by ONNX Runtime ({exc}): "
                             "pass --model with a Kokoro v1.0 ONNX export") from exc
        inputs = {i.name: i for i in self.session.get_inputs()}
        token_name = "tokens" if "tokens" in inputs else "input_ids"
        if token_name not in inputs or "style" not in inputs or "speed" not in inputs:
            raise SetupError(
                f"model file {path} has inputs {sorted(inputs)}; a Kokoro v1.0 export has "
                "tokens (or input_ids), style and speed"
            )
        self._token_name = token_name
        self._speed_type = _NUMPY_TYPES.get(inputs["speed"].type, np.float32)
        outputs = [o.name for o in self.session.get_outputs()]
        self._output_name = outputs[0]
        # the frames each token lasts (model/durations.py), or None: then this model gives no timestamps
        self.durations_output = duration_output(outputs[1:])
        self.providers = self.session.get_providers()
        # Without this the arena keeps its largest call's memory for ever (and fragments upward); with it,
        # memory returns to near idle after every call, for ~6% of speed (docs/bench/memory-options.md).
        # one RunOptions per worker thread, so that one thread's run can be interrupted alone
        self._run_options_of: dict[int, ort.RunOptions] = {}

    def _run_options(self) -> ort.RunOptions:
        """This thread's run options, with its terminate flag cleared for the run about to start."""
        options = self._run_options_of.get(threading.get_ident())
        if options is None:
            options = self._run_options_of[threading.get_ident()] = ort.RunOptions()
            if "CPUExecutionProvider" == self.providers[0]:
                options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        options.terminate = False
        return options

    def interrupt(self, thread: int) -> None:
        """Stop the run in progress on worker `thread` (it raises soon): the scheduler preempts background
        work with it."""
        options = self._run_options_of.get(thread)
        if options is not None:
            options.terminate = True

    def __call__(self, tokens: list[int], style: np.ndarray, speed: float) -> np.ndarray:
        """Audio for one piece of at most MAX_TOKENS token ids."""
        (audio,) = self.session.run([self._output_name], self._feed(tokens, style, speed), self._run_options())
        release_freed_memory()
        return np.asarray(audio, dtype=np.float32).reshape(-1)

    def timed(self, tokens: list[int], style: np.ndarray, speed: float) -> tuple[np.ndarray, np.ndarray]:
        """Audio for one piece and the frames (600 samples) each of its tokens lasts, the two boundary pads
        first and last: int64 [len(tokens) + 2], summing to the audio's length in frames."""
        if self.durations_output is None:
            raise ValueError("this model does not output durations")
        audio, durations = self.session.run([self._output_name, self.durations_output],
                                            self._feed(tokens, style, speed), self._run_options())
        release_freed_memory()
        return np.asarray(audio, dtype=np.float32).reshape(-1), np.asarray(durations, dtype=np.int64).reshape(-1)

    def _feed(self, tokens: list[int], style: np.ndarray, speed: float) -> dict[str, np.ndarray]:
        if not 0 < len(tokens) <= MAX_TOKENS:
            raise ValueError(f"a piece must hold 1..{MAX_TOKENS} tokens, got {len(tokens)}")
        return {
            self._token_name: np.array([[0, *tokens, 0]], dtype=np.int64),
            "style": np.asarray(style, dtype=np.float32).reshape(1, -1),
            "speed": np.array([speed], dtype=self._speed_type),
        }

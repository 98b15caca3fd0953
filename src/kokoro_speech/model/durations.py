"""A model that also says how long each phoneme lasts: the durations the encoder predicts, as a graph output.

Word timestamps need them; the int8 export computes them (`/encoder/Cast_output_0`) but does not output them, so
a copy with that tensor added as a second output is derived once with the `onnx` package and cached beside it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

# Outputs that already carry the durations in other exports: Kokoro's own export script and the community
# "timestamped" export; and the internal tensor of the int8 export (int64 [1, tokens + 2], pads included).
DURATION_OUTPUTS = ("durations", "duration", "pred_dur")
DURATION_TENSOR = "/encoder/Cast_output_0"
_STAMP_VERSION = "1"  # bump when the derivation changes, so old copies are derived again


def duration_output(names: list[str]) -> str | None:
    """Which of a session's output names carries the durations, if any."""
    return next((n for n in names if n in DURATION_OUTPUTS or n == DURATION_TENSOR), None)


def _fingerprint(path: Path) -> str:
    stat = path.stat()
    return f"{_STAMP_VERSION} {path.resolve()} {stat.st_size} {stat.st_mtime_ns}"


def derived_path(model: Path, cache_dir: Path) -> Path:
    """Where the copy with durations lives: beside the model when it is in the cache, else in the cache."""
    folder = model.parent if model.parent.resolve() == cache_dir.resolve() else cache_dir
    return folder / f"{model.stem}.durations.onnx"


def _stamp(derived: Path) -> Path:
    return derived.with_name(derived.name + ".source")


def _fresh(model: Path, derived: Path) -> bool:
    """Whether `derived` was made from `model` as it is now, and has not changed since (size and mtime)."""
    try:
        source, made = _stamp(derived).read_text().split("\n", 1)
        return source == _fingerprint(model) and made == _fingerprint(derived)
    except (OSError, ValueError):
        return False


def with_durations(model: Path, cache_dir: Path) -> Path:
    """The model to load: `model` itself when it outputs durations or has no durations tensor (its timestamp
    requests then get a 400), else the cached copy that adds the tensor as an output, derived on first use."""
    derived = derived_path(model, cache_dir)
    if _fresh(model, derived):
        return derived
    try:
        import onnx
    except ImportError:  # a dependency, but a hand-made environment may lack it: serve without timestamps
        log.warning("the onnx package is not installed: word timestamps are off (pip install onnx)")
        return model
    graph = onnx.load(str(model), load_external_data=False).graph
    outputs = [o.name for o in graph.output]
    if duration_output(outputs) is not None:
        return model
    if not any(DURATION_TENSOR in node.output for node in graph.node):
        log.info("model %s has no durations tensor: word timestamps are off", model)
        return model
    proto = onnx.load(str(model))
    proto.graph.output.append(onnx.helper.make_tensor_value_info(DURATION_TENSOR, onnx.TensorProto.INT64, None))
    try:
        derived.parent.mkdir(parents=True, exist_ok=True)
        partial = derived.with_suffix(f".{os.getpid()}.part")
        onnx.save(proto, str(partial))
        os.replace(partial, derived)  # atomic: a concurrent start never loads half a file
        _stamp(derived).write_text(f"{_fingerprint(model)}\n{_fingerprint(derived)}")
    except OSError as exc:  # a read-only cache: serve without timestamps rather than not at all
        log.warning("could not write %s (%s): word timestamps are off", derived, exc)
        return model
    log.info("derived %s (the model with its durations as an output)", derived)
    return derived

"""A model that also says how long each phoneme lasts: the durations the encoder predicts, as a graph output.

Word timestamps need them; the int8 export computes them (`/encoder/Cast_output_0`) but does not output them, so
`durations_graph` adds that tensor as a second output (with the `onnx` package); model/derived.py caches the copy.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

# Outputs that already carry the durations in other exports: Kokoro's own export script and the community
# "timestamped" export; and the internal tensor of the int8 export (int64 [1, tokens + 2], pads included).
DURATION_OUTPUTS = ("durations", "duration", "pred_dur")
DURATION_TENSOR = "/encoder/Cast_output_0"


def duration_output(names: list[str]) -> str | None:
    """Which of a session's output names carries the durations, if any."""
    return next((n for n in names if n in DURATION_OUTPUTS or n == DURATION_TENSOR), None)


def durations_graph(model: Path):
    """`model`'s graph (an onnx ModelProto) with the durations tensor added as an output; None when it needs no
    copy (it outputs durations already) or cannot have one (no such tensor, or no `onnx` package): its timestamp
    requests then get a 400."""
    try:
        import onnx
    except ImportError:  # a dependency, but a hand-made environment may lack it: serve without timestamps
        log.warning("the onnx package is not installed: word timestamps are off (pip install onnx)")
        return None
    graph = onnx.load(str(model), load_external_data=False).graph
    if duration_output([o.name for o in graph.output]) is not None:
        return None
    if not any(DURATION_TENSOR in node.output for node in graph.node):
        log.info("model %s has no durations tensor: word timestamps are off", model)
        return None
    proto = onnx.load(str(model))
    proto.graph.output.append(onnx.helper.make_tensor_value_info(DURATION_TENSOR, onnx.TensorProto.INT64, None))
    return proto

"""The faster int8 graph: the decoder's `ConvInteger` convolutions rewritten as `QLinearConv` (issue 17).

The bundled model is dynamically quantized: each of its 87 `ConvInteger` nodes takes activations that a
`DynamicQuantizeLinear` quantized on the call (uint8), uint8 weights with one scale for the whole tensor, and its
int32 result is cast to float and scaled. ONNX Runtime's `QLinearConv` kernel with int8 weights runs these
convolutions much faster (docs/engine.md: about 1.9x end to end on a VNNI/AMX CPU). So each of the decoder's 68
convolutions becomes

    QLinearConv(x_q, x_scale, x_zp, w - 128 as int8, w_scale * alpha, w_zp - 128, y_scale, y_zp, bias_q)
      -> DequantizeLinear -> Mul(1 / alpha)

- The activations are still quantized on the call, exactly as today (the same `DynamicQuantizeLinear`, the same
  scale, zero point and int32 bias): fixed, calibrated input ranges were measured to cost quality and no speed.
- The weights are the model's own integers, shifted by 128 into int8 with their zero point (the same values).
- `QLinearConv` must quantize its output (uint8, one scale). One scale for all channels loses the small channels,
  so each output channel c is first scaled by alpha_c = 1 / (its calibrated peak) through a per-channel weight
  scale, and scaled back in float after `DequantizeLinear`: in effect a per-channel output quantization. The peaks
  come from running the original model on many voices, speeds and texts (`tools/calibrate_fast.py`), and ship as
  data (`data/fast-int8-ranges.npz`).

`rewritten(original)` is the rewritten model; `model/derived.py` derives it once into the cache next to the
original and checks it against the original before use. `bench/fast_model.py` measures it.
"""

from __future__ import annotations

import collections
import importlib.resources
import re
from pathlib import Path

import numpy as np

RANGES_FILE = "fast-int8-ranges.npz"
DECODER = re.compile(r"^/?decoder")


def bundled_ranges() -> Path:
    return Path(str(importlib.resources.files("kokoro_speech") / "data" / RANGES_FILE))


def _index(graph):
    producer = {o: n for n in graph.node for o in n.output}
    consumers = collections.defaultdict(list)
    for node in graph.node:
        for name in node.input:
            consumers[name].append(node)
    return producer, consumers


def qparams(low: float, high: float) -> tuple[np.float32, np.uint8]:
    """uint8 scale and zero point for the range [low, high] (widened to hold 0), as DynamicQuantizeLinear makes them."""
    low, high = min(0.0, low), max(0.0, high)
    scale = np.float32((high - low) / 255.0) if high > low else np.float32(1.0)
    return scale, np.uint8(np.clip(np.round(-low / scale), 0, 255))


def conv_patterns(graph, scope: re.Pattern = DECODER):
    """Each convertible ConvInteger in `scope`: (conv, [its nodes up to the scale Mul], that Mul, the DQL feeding it).

    The exporter left two shapes: ConvInteger -> Add(bias_q) -> Cast -> Mul(x_scale * w_scale), and without a bias
    ConvInteger -> Cast -> Mul."""
    producer, consumers = _index(graph)
    found = []
    for node in graph.node:
        if node.op_type != "ConvInteger" or not scope.search(node.name):
            continue
        quantize = producer.get(node.input[0])
        if quantize is None or quantize.op_type not in ("DynamicQuantizeLinear", "QuantizeLinear"):
            continue
        chain, current = [node], node
        while current.op_type != "Mul":
            following = consumers[current.output[0]]
            if len(following) != 1:
                break
            current = following[0]
            chain.append(current)
        if [n.op_type for n in chain[1:]] in (["Add", "Cast", "Mul"], ["Cast", "Mul"]):
            found.append((node, chain, current, quantize))
    return found


def calibration_outputs(graph, scope: re.Pattern = DECODER) -> list[str]:
    """The float outputs (the scale Mul's) of the convolutions `rewrite` rewrites: what calibration measures."""
    return [mul.output[0] for _, _, mul, _ in conv_patterns(graph, scope)]


def _array(graph, name: str):
    from onnx import numpy_helper

    for init in graph.initializer:
        if init.name == name:
            return numpy_helper.to_array(init)
    return None


def seven_bit(centered: np.ndarray) -> np.ndarray:
    """Per output channel, the factor that brings the channel's integer weights within ±64 (1 where they are
    already): u8 x s8 products summed in pairs then stay within int16, which x86 kernels without VNNI saturate
    (AVX2's vpmaddubsw); a channel that fits keeps its integers exactly."""
    peak = np.abs(centered.reshape(centered.shape[0], -1)).max(axis=1).astype(np.float64)
    return np.where(peak > 64, 64 / np.maximum(peak, 1), 1.0)


def rewrite(model, ranges: dict[str, tuple[np.ndarray, np.ndarray]], *, per_channel: bool = True,
            static_inputs: dict[str, tuple[float, float]] | None = None, scope: re.Pattern = DECODER,
            weights_as: str = "s8"):
    """A copy of `model` with its convolutions in `scope` as QLinearConv.

    `ranges`: conv output name -> (per-channel minima, maxima). `per_channel=False` quantizes each output with one
    scale (the naive conversion; measured worse). `static_inputs` (DQL input name -> (min, max)) replaces those
    DynamicQuantizeLinear nodes with fixed-scale QuantizeLinear (measured worse too); the bench tries both.
    `weights_as`: "s8", the model's integers shifted into int8; "s7", int8 within ±64 per channel (`seven_bit`)."""
    import onnx
    from onnx import helper, numpy_helper

    out = onnx.ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    inits: list = []
    fixed: dict[str, tuple[np.float32, np.uint8]] = {}
    if static_inputs:
        nodes = []
        for node in graph.node:
            if node.op_type == "DynamicQuantizeLinear" and node.input[0] in static_inputs and \
                    scope.search(node.name):
                scale, zero = qparams(*static_inputs[node.input[0]])
                y, s, z = node.output
                inits += [numpy_helper.from_array(np.array(scale, np.float32), s),
                          numpy_helper.from_array(np.array(zero, np.uint8), z)]
                nodes.append(helper.make_node("QuantizeLinear", [node.input[0], s, z], [y], name=node.name))
                fixed[s] = scale
            else:
                nodes.append(node)
        del graph.node[:]
        graph.node.extend(nodes)
        graph.initializer.extend(inits)
        inits = []
    producer, _ = _index(graph)
    replaced: dict[int, list] = {}
    removed: set[int] = set()
    for conv, chain, mul, quantize in conv_patterns(graph, scope):
        if mul.output[0] not in ranges:
            continue
        x_q = conv.input[0]
        x_scale, x_zero = quantize.input[1:3] if quantize.op_type == "QuantizeLinear" else quantize.output[1:3]
        scales = producer.get([i for i in mul.input if i != chain[-2].output[0]][0])  # Mul(x_scale, w_scale)
        if scales is None or scales.op_type != "Mul" or x_scale not in scales.input:
            continue
        w_scale = _array(graph, [i for i in scales.input if i != x_scale][0])
        weights, w_zero = _array(graph, conv.input[1]), _array(graph, conv.input[3])
        if w_scale is None or weights is None or w_zero is None or weights.dtype != np.uint8 or w_zero.size != 1:
            continue
        base = conv.name + "_qlinear"
        low, high = (np.asarray(a, np.float64) for a in ranges[mul.output[0]])
        channels = weights.shape[0]
        factor = np.ones(channels)  # integer weights scaled per channel (the bias with them)
        if weights_as == "s7":
            centered = weights.astype(np.int16) - int(w_zero)
            factor = seven_bit(centered)
            integers = np.round(centered * factor.reshape(-1, *[1] * (weights.ndim - 1))).astype(np.int8)
            zeros = np.zeros(channels, np.int8)
        else:
            integers = (weights.astype(np.int16) - 128).astype(np.int8)
            zeros = np.full(channels, int(w_zero) - 128, np.int8)
        if per_channel:
            peak = np.maximum(np.abs(low), np.abs(high))
            peak = np.maximum(peak, 1e-3 * peak.max() if peak.max() > 0 else 1.0)
            alpha = 1.0 / peak
            y_scale, y_zero = qparams(float((low * alpha).min()), float((high * alpha).max()))
        else:
            alpha = np.ones(channels)
            y_scale, y_zero = qparams(float(low.min()), float(high.max()))
        channel_scales = (np.float64(w_scale) * alpha / factor).astype(np.float32)
        inits += [numpy_helper.from_array(integers, base + "_w"),
                  numpy_helper.from_array(zeros, base + "_wz"),
                  numpy_helper.from_array(channel_scales, base + "_ws"),
                  numpy_helper.from_array(np.array(y_scale, np.float32), base + "_ys"),
                  numpy_helper.from_array(np.array(y_zero, np.uint8), base + "_yz")]
        inputs = [x_q, x_scale, x_zero, base + "_w", base + "_ws", base + "_wz", base + "_ys", base + "_yz"]
        new = []
        if chain[1].op_type == "Add":  # the graph's own int32 bias (computed from x_scale on the call)
            bias = [i for i in chain[1].input if i != conv.output[0]][0]
            inits.append(numpy_helper.from_array(np.array([-1], np.int64), base + "_bshape"))
            new.append(helper.make_node("Reshape", [bias, base + "_bshape"], [base + "_b"], name=base + "_bias"))
            if weights_as == "s7":  # in the accumulator's new units: scaled per channel as the weights were
                inits.append(numpy_helper.from_array(factor.astype(np.float32), base + "_bfactor"))
                new += [helper.make_node("Cast", [base + "_b"], [base + "_bf"], to=onnx.TensorProto.FLOAT),
                        helper.make_node("Mul", [base + "_bf", base + "_bfactor"], [base + "_bm"]),
                        helper.make_node("Round", [base + "_bm"], [base + "_br"]),
                        helper.make_node("Cast", [base + "_br"], [base + "_b7"], to=onnx.TensorProto.INT32)]
                inputs.append(base + "_b7")
            else:
                inputs.append(base + "_b")
        qconv = helper.make_node("QLinearConv", inputs, [base + "_y"], name=base)
        qconv.attribute.extend(conv.attribute)
        new.append(qconv)
        if per_channel:
            inits.append(numpy_helper.from_array(peak.astype(np.float32).reshape(1, -1, 1), base + "_unscale"))
            new += [helper.make_node("DequantizeLinear", [base + "_y", base + "_ys", base + "_yz"], [base + "_yf"],
                                     name=base + "_dq"),
                    helper.make_node("Mul", [base + "_yf", base + "_unscale"], [mul.output[0]], name=base + "_mul")]
        else:
            new.append(helper.make_node("DequantizeLinear", [base + "_y", base + "_ys", base + "_yz"],
                                        [mul.output[0]], name=base + "_dq"))
        removed.update(id(n) for n in chain)
        replaced[id(mul)] = new  # placed where the Mul was: after everything the bias needs
    nodes = []
    for node in graph.node:
        if id(node) in replaced:
            nodes.extend(replaced[id(node)])
        elif id(node) not in removed:
            nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.extend(inits)
    _prune(graph)
    return out


def _prune(graph) -> None:
    """Drops the nodes and initializers nothing uses any more (the old weights, scale products, casts)."""
    needed = {o.name for o in graph.output}
    kept = []
    for node in reversed(list(graph.node)):
        if any(o in needed for o in node.output):
            kept.append(node)
            needed.update(node.input)
    kept.reverse()
    del graph.node[:]
    graph.node.extend(kept)
    inits = [i for i in graph.initializer if i.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(inits)


def load_ranges(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    with np.load(path, allow_pickle=False) as data:
        return {str(name): (data[f"min{i}"], data[f"max{i}"]) for i, name in enumerate(data["names"])}


def save_ranges(path: Path, ranges: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    arrays = {"names": np.array(list(ranges))}
    for i, (low, high) in enumerate(ranges.values()):
        arrays[f"min{i}"], arrays[f"max{i}"] = np.asarray(low, np.float32), np.asarray(high, np.float32)
    np.savez_compressed(path, **arrays)


def rewritten(original: Path, ranges: Path | None = None, *, weights_as: str = "s8"):
    """The faster graph of the model file `original` (an onnx ModelProto), with the shipped ranges by default."""
    import onnx

    return rewrite(onnx.load(str(original)), load_ranges(ranges or bundled_ranges()), weights_as=weights_as)


def calibrate(model_path: Path, feeds, scope: re.Pattern = DECODER) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per-channel minima and maxima of the convolutions' float outputs over `feeds` (ONNX Runtime input dicts),
    and whole-tensor ranges of the DynamicQuantizeLinear inputs (under 'dql:' + name, for the static variant)."""
    import tempfile

    import onnx
    import onnxruntime as ort

    model = onnx.load(str(model_path))
    graph = model.graph
    outputs = calibration_outputs(graph, scope)
    dql = [n.input[0] for n in graph.node if n.op_type == "DynamicQuantizeLinear" and scope.search(n.name)]
    names = list(dict.fromkeys(outputs + dql))
    for name in names:
        graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "calibrate.onnx"
        onnx.save(model, str(path))
        del model
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ranges: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for feed in feeds:
        for name, value in zip(names, session.run(names, feed), strict=True):
            if name in outputs:
                low, high = value.min(axis=(0, 2)), value.max(axis=(0, 2))
                key = name
            else:
                low, high = np.array([value.min()]), np.array([value.max()])
                key = "dql:" + name
            if key in ranges:
                low, high = np.minimum(ranges[key][0], low), np.maximum(ranges[key][1], high)
            ranges[key] = (low.astype(np.float32), high.astype(np.float32))
    return ranges


def log_spectral_distance(a: np.ndarray, b: np.ndarray) -> float:
    """dB: 1024-sample Hann frames every 256, power floor 1e-10, RMS over frequency of the dB difference, mean
    over frames (the measure docs/engine.md reports)."""
    n = min(a.size, b.size)

    def power(x: np.ndarray) -> np.ndarray:
        frames = np.lib.stride_tricks.sliding_window_view(x[:n], 1024)[::256] * np.hanning(1024)
        return np.abs(np.fft.rfft(frames, axis=1)) ** 2 + 1e-10

    return float(np.mean(np.sqrt(np.mean((10 * np.log10(power(a) / power(b))) ** 2, axis=1))))


HARMONIC_SIN = "/decoder/decoder/generator/m_source/l_sin_gen/Sin"


def with_phase_input(model):
    """A copy of `model` whose harmonic source takes an extra input `phase_offset` [1, 1, 9], added to its 9
    harmonics' phases before their Sin: random offsets give the model's own natural variation (the reference
    for the log-spectral distance)."""
    import onnx

    out = onnx.ModelProto()
    out.CopyFrom(model)
    nodes = []
    for node in out.graph.node:
        if node.name == HARMONIC_SIN:
            phase = node.input[0]
            nodes.append(onnx.helper.make_node("Add", [phase, "phase_offset"], [phase + "_offset"]))
            node.input[0] = phase + "_offset"
        nodes.append(node)
    del out.graph.node[:]
    out.graph.node.extend(nodes)
    out.graph.input.append(onnx.helper.make_tensor_value_info("phase_offset", onnx.TensorProto.FLOAT, [1, 1, 9]))
    return out

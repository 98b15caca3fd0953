"""Models derived once from the one the server loads, and cached beside it: the faster int8 graph (model/fast.py)
and the copy that outputs each phoneme's duration (model/durations.py).

Each is written atomically and stamped (model/cache.py) with what it was made from, so a start reuses it while it
and its source stand; a derivation that fails leaves the server on the model it was derived from.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np

from kokoro_speech.kokoro import to_token_ids
from kokoro_speech.model import fast
from kokoro_speech.model.cache import atomic_write, identity, sha256_of, stamp, stamped, verified
from kokoro_speech.model.durations import durations_graph
from kokoro_speech.model.packs import embedded_voices_dir, read_voice
from kokoro_speech.model.session import KokoroModel
from kokoro_speech.model.weights import BUNDLED_MODEL_NAME, is_bundled_model

log = logging.getLogger(__name__)

FAST_VERSION = "1"  # bump when model/fast.py's rewrite changes: the cached file's name changes with it
FAST_FORMS = ("s8", "s7")  # the weight forms tried (model/fast.py's `weights_as`), the faster first
FAST_VERIFY_PHONEMES = "ðə lˈIbɹɛɹi wɪl bi klˈOzd ˌɔn mˈʌndeɪ fɔɹ ɹɪpˈɛɹz."  # "The library will be closed..."
FAST_VERIFY_MAX_LSD_DB = 5.0  # a broken rewrite is 6+ dB off; a sentence's own phase variation reaches ~5.6
DURATIONS_VERSION = "1"  # bump when model/durations.py's graph changes, so old copies are derived again


def _save(proto, path: Path) -> None:
    import onnx

    atomic_write(path, lambda temporary: onnx.save(proto, str(temporary)))


def _trusted(path: Path, **made_from: str) -> bool:
    """Whether `path` is as it was when derived (and checked) from the source its stamp names."""
    facts = stamped(path)
    digest = facts.get("sha256")
    return (path.is_file() and digest is not None and all(facts.get(k) == v for k, v in made_from.items())
            and verified(path, digest))


def fast_model(original: Path, cache_dir: Path) -> Path:
    """The faster int8 graph of the bundled model (model/fast.py), derived once into the cache next to it and
    checked against the original; `original` itself when it is not the bundled model or no form passes.

    The forms are tried in FAST_FORMS' order: the model's weights as int8 first (the fastest where the CPU has
    VNNI or AMX), then within ±64 per channel, which x86 CPUs without VNNI (AVX2 only) compute without the
    16-bit saturation that takes the first form's audio 8 dB from the original there (docs/engine.md)."""
    if not is_bundled_model(original):
        log.info("%s is not the bundled model: the faster graph is calibrated for that one only; using it as is",
                 original)
        return original
    ranges = fast.bundled_ranges()
    targets = {}
    for form in FAST_FORMS:
        key = hashlib.sha256(ranges.read_bytes() + FAST_VERSION.encode() + form.encode()).hexdigest()[:12]
        targets[form] = cache_dir / f"{BUNDLED_MODEL_NAME.removesuffix('.onnx')}.fast-{key}.onnx"
        if _trusted(targets[form]):  # derived and checked here before (a form that failed left no file)
            return targets[form]
    for form, target in targets.items():
        try:
            _save(fast.rewritten(original, ranges, weights_as=form), target)
            distance = fast_distance(original, target)
            if not distance <= FAST_VERIFY_MAX_LSD_DB:
                raise ValueError(f"its audio is {distance:.2f} dB from the original's (at most "
                                 f"{FAST_VERIFY_MAX_LSD_DB} expected)")
        except Exception as exc:  # never worse than the original: try the next form, or fall back to it
            log.warning("could not derive the faster model with %s weights (%s)", form, exc)
            target.unlink(missing_ok=True)
            continue
        stamp(target, sha256=sha256_of(target), weights=form)
        log.info("derived the faster int8 model (%s weights) into %s (%.2f dB from the original)", form, target,
                 distance)
        return target
    log.warning("no form of the faster model passed its check; using the original")
    return original


def fast_distance(original: Path, derived: Path) -> float:
    """Log-spectral distance (dB) between the two models' audio for one fixed sentence in af_heart; inf when the
    lengths differ or the audio is not finite."""
    tokens = to_token_ids(FAST_VERIFY_PHONEMES)
    style = read_voice(embedded_voices_dir() / "af_heart.pt")[len(tokens) - 1]
    a = KokoroModel(original)(tokens, style, 1.0)
    b = KokoroModel(derived)(tokens, style, 1.0)
    if a.size != b.size or not np.isfinite(b).all() or np.abs(b).max() > 1.0:
        return float("inf")
    return fast.log_spectral_distance(a, b)


def durations_path(model: Path, cache_dir: Path) -> Path:
    """Where the copy with durations lives: beside the model when it is in the cache, else in the cache."""
    folder = model.parent if model.parent.resolve() == cache_dir.resolve() else cache_dir
    return folder / f"{model.stem}.durations.onnx"


def with_durations(model: Path, cache_dir: Path) -> Path:
    """The model to load: `model` itself when it outputs durations or has no durations tensor (its timestamp
    requests then get a 400), else the cached copy that adds the tensor as an output, derived on first use."""
    derived = durations_path(model, cache_dir)
    source = {"source": identity(model), "version": DURATIONS_VERSION}
    if _trusted(derived, **source):
        return derived
    proto = durations_graph(model)
    if proto is None:
        return model
    try:
        _save(proto, derived)
    except OSError as exc:  # a read-only cache: serve without timestamps rather than not at all
        log.warning("could not write %s (%s): word timestamps are off", derived, exc)
        return model
    stamp(derived, sha256=sha256_of(derived), **source)
    log.info("derived %s (the model with its durations as an output)", derived)
    return derived

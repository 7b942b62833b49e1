"""Making an export and checking it: an encoder is exported to ONNX once, checked against
PyTorch on probe texts (``onnx.PROBES``, a cosine of at least ``onnx.MIN_COSINE``), its
tokenizer kept beside it when it tokenizes exactly as the model does, and, where the CPU has
native bf16, checked again in bf16 through OpenVINO. Every verdict is recorded with the
export (``exports``), so a later start does not redo it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.embedders import bf16, exports, onnx, standalone
from rag.embedders.onnx import PROBES, Features, OnnxEncoder, session, threads

log = logging.getLogger(__name__)
# onnx.MIN_COSINE and onnx.worst_cosine are read when called: one bar, set in one place


def build(model: Any, forward: Callable[..., Any], example: Features, path: Path,
          tokenize: Callable[[Sequence[str]], Features],
          reference: Callable[[Sequence[str]], np.ndarray],
          tokenizer: Any = None, bf16_wanted: bool = False,
          requests: int = bf16.IDLE_REQUESTS) -> OnnxEncoder | None:
    """Load the session cached at ``path`` (first exporting ``forward``, which runs ``model``
    on the tensors of ``example``, when it is not cached or the cached file is unreadable) and
    check it against ``reference`` (PyTorch). None, with a warning, when that fails: the
    caller keeps using PyTorch. ``tokenizer`` (a ``tokenizers.Tokenizer`` set up as the model
    tokenizes) is saved beside a checked export when it gives ``tokenize``'s very features.
    With ``bf16_wanted``, the checked export runs in bf16 where that passes its own check
    (``in_bf16``)."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError as e:
        log.warning("ONNX Runtime is not installed (%s); questions are embedded with PyTorch", e)
        return None
    fresh = not path.exists()
    while True:
        if fresh:
            try:
                exports.export(model, forward, example, path)
            except Exception as e:  # onnx missing, an operator the exporter cannot handle
                log.warning("questions are embedded with PyTorch: exporting them to ONNX "
                            "failed (%s: %s)", type(e).__name__, e)
                return None
        try:
            encoder = session(path, list(example))
            worst = exports.checked(path)
            if worst is None:
                worst = min([onnx.worst_cosine(encoder(tokenize([p])), reference([p]))
                             for p in PROBES]
                            + [onnx.worst_cosine(encoder(tokenize(PROBES)), reference(PROBES))])
                if worst >= onnx.MIN_COSINE:
                    exports.remember(path, worst=worst)
            if worst >= onnx.MIN_COSINE and tokenizer is not None:
                _keep_tokenizer(path, encoder, tokenizer, tokenize,
                                int(reference(PROBES[:1]).shape[1]))
        except Exception as e:  # a truncated or foreign file: export again, once
            log.warning("the ONNX question encoder %s cannot be used (%s: %s)", path,
                        type(e).__name__, e)
            path.unlink(missing_ok=True)
            path.with_suffix(".checked").unlink(missing_ok=True)
            if fresh:
                return None
            fresh = True
            continue
        if worst >= onnx.MIN_COSINE:
            return in_bf16(encoder, tokenize, reference, requests) if bf16_wanted else encoder
        log.warning("questions are embedded with PyTorch: the ONNX export %s differs from it "
                    "(cosine %.6f < %s)", path, worst, onnx.MIN_COSINE)
        path.unlink(missing_ok=True)
        path.with_suffix(".checked").unlink(missing_ok=True)
        return None


def in_bf16(encoder: OnnxEncoder, tokenize: Callable[[Sequence[str]], Features],
            reference: Callable[[Sequence[str]], np.ndarray],
            requests: int = bf16.IDLE_REQUESTS) -> OnnxEncoder:
    """``encoder`` (checked, fp32) compiled in bf16 by OpenVINO where this CPU and OpenVINO
    allow it and the bf16 vectors of the probe texts, one at a time and together, keep a cosine
    of at least ``onnx.MIN_COSINE`` to ``reference``'s (fp32 PyTorch); else ``encoder``. The
    verdict is recorded with the export's check, for ``quick`` and later starts."""
    version, path = bf16.version(), encoder.path
    if version is None or path is None:
        return encoder
    verdict = exports.record_of(path).get("bf16")
    try:
        fast = OnnxEncoder(bf16.OpenVinoSession(path, threads(), requests=requests),
                           encoder.input_names)
        if not isinstance(verdict, dict) or verdict.get("openvino") != version:
            texts = PROBES + bf16.PROBES
            verdict = {"openvino": version,
                       "worst": min([onnx.worst_cosine(fast(tokenize([t])), reference([t]))
                                     for t in texts]
                                    + [onnx.worst_cosine(fast(tokenize(texts)), reference(texts))])}
            exports.remember(path, bf16=verdict)
    except Exception as e:  # a graph OpenVINO cannot compile or run
        log.warning("questions through %s stay in fp32: OpenVINO failed (%s: %s)", path.name,
                    type(e).__name__, e)
        return encoder
    worst = float(verdict["worst"])
    if worst < onnx.MIN_COSINE:
        log.warning("questions through %s stay in fp32: in bf16 their vectors differ from "
                    "fp32 (worst cosine %.6f < %s on probe texts)", path.name, worst,
                    onnx.MIN_COSINE)
        return encoder
    fast.path = path
    log.info("questions through %s run in bf16 on OpenVINO (worst cosine to fp32 on probe "
             "texts %.6f)", path.name, worst)
    return fast.attach(encoder.tokenizer, encoder.dimension) if encoder.tokenizer else fast


def _keep_tokenizer(path: Path, encoder: OnnxEncoder, tokenizer: Any,
                    tokenize: Callable[[Sequence[str]], Features], dimension: int) -> None:
    """Attach ``tokenizer`` to ``encoder``, save it beside the export and name it in the
    export's record, when it tokenizes exactly as the model does (``standalone.same``);
    otherwise the encoder takes the model's features, and starts load the model."""
    try:
        rec = exports.record_of(path)
        kept = path.with_suffix(".tokenizer.json")
        if not rec.get("tokenizer") or not kept.exists():
            if not standalone.same(tokenizer, tokenize, encoder.input_names, PROBES):
                log.info("no quick start for %s: its tokenizer differs from the model's", path)
                return
            tokenizer.save(str(kept))
            exports.remember(path, tokenizer=True, inputs=encoder.input_names,
                             dimension=dimension)
        encoder.attach(tokenizer, dimension)
    except Exception as e:  # a tokenizer that cannot be saved: starts load the model
        log.info("no quick start for %s (%s: %s)", path, type(e).__name__, e)

"""CLIP's image tower in bf16 through OpenVINO, for ingestion, on CPUs with native bf16.

bf16 PyTorch (``precision``) already runs the image tower about twice as fast as fp32; the
same tower exported to ONNX and compiled by OpenVINO in bf16 ran 32 pictures of 224 px in
0.72 s against 0.91 s (ViT-B/32's shapes, docs/how-it-works.md). The export is made once per
model and cached beside the question encoders; the check is the questions'
(``checks.in_bf16``): probe pixels one at a time and together against fp32 PyTorch, a worst
cosine of at least ``onnx.MIN_COSINE``, recorded with the export (and made again for a new
OpenVINO). Where anything fails, the pictures stay on PyTorch, with a log line. An export
that fails its check is kept with the verdict, so later loads neither export nor check it
again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rag.embedders import bf16, exports, onnx
from rag.lazy import give_back_freed_memory

log = logging.getLogger(__name__)

Pixels = dict[str, np.ndarray]


class OpenVinoImages:
    """Pixels (float32, N x 3 x H x W) in, unit vectors out."""

    def __init__(self, session: bf16.OpenVinoSession, input_name: str):
        self.session = session
        self.input_name = input_name

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        feed = {self.input_name: np.ascontiguousarray(pixels, dtype=np.float32)}
        out = np.asarray(self.session.run(None, feed)[0], dtype=np.float32)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def compile_checked(model: Any, forward: Callable[..., Any], probe: Pixels, path: Path,
                    reference: Callable[[Pixels], np.ndarray]) -> OpenVinoImages | None:
    """The image tower ``forward`` (which runs ``model`` on the tensors of ``probe``) exported
    to ``path`` (once) and compiled in bf16, when this CPU and OpenVINO allow it and its
    vectors for ``probe`` keep the bar against ``reference`` (fp32 PyTorch); else None."""
    version = bf16.version()
    if version is None:
        return None
    (name,) = probe
    try:
        if not path.exists():
            exports.export(model, forward, probe, path, sequences=False)
        # compiled at each load (~1.2 s for ViT-B/32, while PyTorch loads the model anyway)
        # rather than kept: its cache would take as much disk again as the export
        images = OpenVinoImages(bf16.OpenVinoSession(path, onnx.threads(), cached=False), name)
        give_back_freed_memory()  # compiling read the whole file (~350 MB for ViT-B/32)
        verdict = exports.record_of(path).get("bf16")
        if not isinstance(verdict, dict) or verdict.get("openvino") != version:
            rows = [{name: probe[name][i:i + 1]} for i in range(len(probe[name]))]
            verdict = {"openvino": version,
                       "worst": min([onnx.worst_cosine(images(r[name]), reference(r))
                                     for r in rows]
                                    + [onnx.worst_cosine(images(probe[name]), reference(probe))])}
            exports.remember(path, bf16=verdict)
    except Exception as e:  # an exporter or a runtime that cannot handle this model
        log.warning("pictures stay on PyTorch: OpenVINO failed for %s (%s: %s)", path.name,
                    type(e).__name__, e)
        return None
    if float(verdict["worst"]) < onnx.MIN_COSINE:
        log.warning("pictures stay on PyTorch: in bf16 on OpenVINO their vectors differ from "
                    "fp32 (worst cosine %.6f < %s on probe pixels)", verdict["worst"],
                    onnx.MIN_COSINE)
        return None
    log.info("pictures run in bf16 on OpenVINO through %s (worst cosine to fp32 on probe "
             "pixels %.6f)", path.name, verdict["worst"])
    return images

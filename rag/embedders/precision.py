"""bf16 on CPUs that have it.

On a CPU with native bf16 (AVX512-BF16, AMX), PyTorch's bf16 autocast runs the encoders'
matrix products at about twice the fp32 rate (docs/performance.md: measured figures) while
keeping fp32 accumulation, so the unit vectors barely move. "Barely" is checked, not
assumed: each model (each tower of CLIP) embeds probe inputs in fp32 and in bf16 when it
loads, and uses bf16 only when every probe's vector keeps a cosine of at least
``MIN_COSINE`` to its fp32 one; otherwise it stays on fp32 and says why in the log.

It serves what runs on PyTorch: CLIP's towers, and the text model's chunks where they do not
go through its export (``text.SentenceTransformerEmbedder.chunk_encoder``). Questions do not
use it: bf16 PyTorch ran a
batch of questions alone faster, but under load the server answered fewer of them
(docs/performance.md, *Under load*). They run in bf16 through OpenVINO instead, under the
same bar (``bf16``)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from rag.embedders.onnx import MIN_COSINE, worst_cosine  # one bar for every path from fp32 PyTorch

log = logging.getLogger(__name__)


def supported(device: str) -> bool:
    """Whether this CPU runs bf16 natively (oneDNN says so). Never on CUDA, which has its own
    half-precision path."""
    if device != "cpu":
        return False
    import torch

    try:
        return bool(torch.backends.mkldnn.is_available()
                    and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def autocast(enabled: bool) -> Any:
    """bf16 autocast on the CPU when ``enabled``, else nothing."""
    if not enabled:
        return contextlib.nullcontext()
    import torch

    return torch.autocast("cpu", dtype=torch.bfloat16)


def choose(what: str, wanted: str, device: str, embed: Callable[[bool], np.ndarray]) -> bool:
    """Whether ``what`` runs in bf16: ``wanted`` is "auto", the CPU supports it, and
    ``embed(bf16)`` (the probe inputs' vectors, one row each) agrees with ``embed(False)``."""
    if wanted != "auto" or not supported(device):
        return False
    try:
        exact, fast = embed(False), embed(True)
    except Exception as e:  # an operator without a bf16 kernel, for instance
        log.info("%s stays in fp32: bf16 failed on the probe inputs (%s: %s)", what,
                 type(e).__name__, e)
        return False
    worst = worst_cosine(exact, fast)
    if worst < MIN_COSINE:
        log.warning("%s stays in fp32: its bf16 vectors differ from fp32 (worst cosine %.6f "
                    "< %s on probe inputs)", what, worst, MIN_COSINE)
        return False
    log.info("%s runs in bf16 (worst cosine to fp32 on probe inputs %.6f)", what, worst)
    return True

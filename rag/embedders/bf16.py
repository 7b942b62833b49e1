"""bf16 through OpenVINO, on CPUs that have it: questions (here, used by ``onnx``), and
ingestion's pictures (``image_bf16``).

ONNX Runtime has no bf16 kernels for x86 CPUs, and PyTorch's bf16 autocast returns to the
interpreter between operators, so under load 16 request threads queue for it
(docs/performance.md). OpenVINO runs the same checked ONNX export (``onnx``) in bf16 with
fp32 accumulation, in native code, on CPUs with native bf16 (AVX512-BF16, AMX): CLIP's text
tower took 7.0 ms of CPU a question in calls of 8 against 12.2 ms on ONNX Runtime
(docs/performance.md, *Under load*).

bf16 moves vectors a little, so it is checked, not assumed: once per export (and per OpenVINO
version), the export runs the probe texts in bf16 and is compared with PyTorch in fp32, one
text at a time and as a batch. Only a worst cosine of at least ``onnx.MIN_COSINE`` (the bar
every other path of a question vector meets) lets questions run in bf16; the verdict is kept
in the export's record (``.checked``), so later starts read it instead of loading PyTorch.
The question encoders' compiled models are cached beside the exports, so a start does not
compile them again."""

from __future__ import annotations

import contextlib
import functools
import logging
import queue
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.embedders import cache

log = logging.getLogger(__name__)

# texts the bf16 check adds to ``onnx.PROBES``: longer, with digits, code and other scripts
PROBES = [
    "Submit the form within 30 days; after 90 days the claim (ref. INV-2024-0042) is void.",
    "def load(path: str) -> dict: return json.loads(Path(path).read_text())",
    "Wie beantrage ich Urlaub? Où se trouve la salle de réunion? 会議室はどこですか",
    "a screenshot of the settings page with the dark theme switch turned on and a red "
    "warning banner at the top saying that the licence expires in 3 days",
    "?",
]


@functools.cache
def version() -> str | None:
    """The installed OpenVINO's version when it can run bf16 on this CPU, else None (not
    installed, or no native bf16: there OpenVINO's fp32 is no faster than ONNX Runtime)."""
    try:
        import openvino as ov

        if "BF16" not in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
            log.info("no bf16 through OpenVINO: this CPU has no native bf16")
            return None
        return str(ov.__version__)
    except Exception as e:  # not installed, or a runtime that cannot start here
        log.info("no bf16 through OpenVINO: it is unavailable (%s: %s)", type(e).__name__, e)
        return None


IDLE_REQUESTS = 4  # questions come in batches, one call at a time per encoder; ingestion adds
# its loader threads


class OpenVinoSession:
    """An ONNX export compiled by OpenVINO for the CPU in bf16, with the part of ONNX Runtime's
    session interface that ``onnx.OnnxEncoder`` uses: ``run(None, feed)``. Safe across
    threads: each call takes an inference request of its own from a pool (a request runs one
    call at a time; the compiled model is shared). At most ``requests`` idle requests
    are kept (each holds its input and output buffers); more callers at once get requests
    made for them and dropped after."""

    def __init__(self, path: Path, threads: int, cached: bool = True,
                 requests: int = IDLE_REQUESTS):
        import openvino as ov

        core = ov.Core()
        if cached:  # the compiled model is kept on disk: ~0.1 s to load instead of ~1 s
            core.set_property({"CACHE_DIR": str(path.parent / "openvino" / path.stem)})
        cache.used(path)
        self.model = core.compile_model(str(path), "CPU", {
            "INFERENCE_PRECISION_HINT": "bf16", "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_NUM_THREADS": threads})
        self._idle: queue.Queue[Any] = queue.Queue(requests)

    def run(self, output_names: Sequence[str] | None,
            feed: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        try:
            request = self._idle.get_nowait()
        except queue.Empty:
            request = self.model.create_infer_request()
        try:
            # share_outputs=False: the arrays are copies, the request's buffers are reused
            return [request.infer(dict(feed), share_inputs=True, share_outputs=False)[0]]
        finally:
            with contextlib.suppress(queue.Full):
                self._idle.put_nowait(request)

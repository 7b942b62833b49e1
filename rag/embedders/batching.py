"""Dynamic batching of short texts (questions, and the sentences an extractive answer weighs).

Concurrent callers' texts are gathered into one encoder call (``gather.Gather``: a lone
caller runs at once, callers that arrive meanwhile share the next call, up to ``max_batch``
texts), and:

- within a batch, texts are ordered by length and cut into the runs that cost least, where a
  run costs its texts padded to its longest plus a fixed cost per call (``CALL_CHARS``): a
  question is not padded to a paragraph's length, and questions are not split into calls that
  cost more than the padding they save;
- vectors of texts seen recently are remembered (``cache`` entries, least recently used
  dropped first): the same question asked again, or asked by the retriever and then by the
  extractive answer, is embedded once.

Vectors are the encoder's own on the same texts: batching changes only the padding, which the
attention mask hides (tests check cosine >= 0.9999 against one-at-a-time calls)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from rag.gather import MAX_BATCH, Gather

CACHE = 4096  # remembered vectors per encoder
# what one encoder call costs beyond its texts, in characters of padded input. Measured on
# calls of 8 questions of 4-12 words (ONNX Runtime, 2 cores), CPU per question with cuts at
# 0 / 32 / 100 / never: CLIP's text tower 19.6 / 14.0 / 12.0 / 12.8 ms, MiniLM 6.3 / 4.2 /
# 4.0 / 4.0 ms. So questions share a call; a paragraph still gets its own
CALL_CHARS = 100


class Batcher:
    """``encode`` (texts -> unit vectors, one row per text) shared by concurrent callers
    (``gather.Gather``)."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray], max_batch: int = MAX_BATCH,
                 cache: int = CACHE):
        self._encode = encode
        self._cache_size = cache
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._gather: Gather[list[str], np.ndarray] = Gather(self._run, size=len,
                                                             max_batch=max_batch)
        self.calls = 0  # encoder calls made (for tests and benchmarks)
        self.batched = 0  # texts they embedded

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        with self._lock:
            known = [self._cache.get(t) for t in texts]
            for t, v in zip(texts, known, strict=True):
                if v is not None:
                    self._cache.move_to_end(t)
        missing = list(dict.fromkeys(t for t, v in zip(texts, known, strict=True) if v is None))
        if not missing:
            return np.stack(known)  # type: ignore[arg-type]
        got = dict(zip(missing, self._gather(missing), strict=True))
        return np.stack([v if v is not None else got[t]
                         for t, v in zip(texts, known, strict=True)])

    def _run(self, calls: list[list[str]]) -> list[np.ndarray]:
        texts = list(dict.fromkeys(t for c in calls for t in c))
        vectors = dict(zip(texts, self._encode_bucketed(texts), strict=True))
        with self._lock:
            for t, v in vectors.items():
                self._cache[t] = v
                self._cache.move_to_end(t)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return [np.stack([vectors[t] for t in c]) for c in calls]

    def _encode_bucketed(self, texts: list[str]) -> list[np.ndarray]:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        out: list[np.ndarray] = [np.empty(0)] * len(texts)
        for start, end in runs([len(texts[i]) for i in order]):
            part = order[start:end]
            vecs = np.asarray(self._encode([texts[i] for i in part]), dtype=np.float32)
            self.calls += 1
            self.batched += len(part)
            for i, v in zip(part, vecs, strict=True):
                out[i] = v
        return out


def runs(lengths: list[int]) -> list[tuple[int, int]]:
    """Cut ``lengths`` (longest first) into consecutive runs ``[start, end)`` of least total
    cost, a run costing ``CALL_CHARS`` plus its size times its first (longest) length."""
    n = len(lengths)
    best = [0.0] + [float("inf")] * n  # best[j]: the cost of the first j texts
    cut = [0] * (n + 1)
    for end in range(1, n + 1):
        for start in range(end):
            cost = best[start] + CALL_CHARS + (end - start) * lengths[start]
            if cost < best[end]:
                best[end], cut[end] = cost, start
    spans = []
    end = n
    while end > 0:
        spans.append((cut[end], end))
        end = cut[end]
    return spans[::-1]

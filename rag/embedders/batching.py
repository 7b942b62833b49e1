"""Dynamic batching of short texts (questions, and the sentences an extractive answer weighs).

A server answering 16 questions at once would otherwise make 16 batch-of-one calls to each
encoder; one call on 16 texts does the same work in a fraction of the time on a CPU. The
batcher gathers them the way inference servers do (Triton's dynamic batcher, vLLM's
scheduler), without a background thread and without waiting on a timer:

- a caller that finds the encoder idle runs its texts at once (a lone request pays nothing);
- callers that arrive while it runs queue up; when the running call ends, the first of them
  takes over and runs everything queued (up to ``max_batch`` texts) in one call, so the
  batch grows with the load and the wait is bounded by one encoder call;
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

MAX_BATCH = 64  # texts per encoder call
CACHE = 4096  # remembered vectors per encoder
# what one encoder call costs beyond its texts, in characters of padded input. Measured on
# calls of 8 questions of 4-12 words (ONNX Runtime, 2 cores), CPU per question with cuts at
# 0 / 32 / 100 / never: CLIP's text tower 19.6 / 14.0 / 12.0 / 12.8 ms, MiniLM 6.3 / 4.2 /
# 4.0 / 4.0 ms. So questions share a call; a paragraph still gets its own
CALL_CHARS = 100


class _Call:
    __slots__ = ("texts", "result", "error", "wake", "lead")

    def __init__(self, texts: list[str]):
        self.texts = texts
        self.result: np.ndarray | None = None
        self.error: BaseException | None = None
        self.wake = threading.Event()
        self.lead = False


class Batcher:
    """``encode`` (texts -> unit vectors, one row per text) shared by concurrent callers."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray], max_batch: int = MAX_BATCH,
                 cache: int = CACHE):
        self._encode = encode
        self.max_batch = max_batch
        self._cache_size = cache
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._queue: list[_Call] = []
        self._busy = False
        self.calls = 0  # encoder calls made (for tests and benchmarks)
        self.batched = 0  # texts they embedded

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        with self._lock:
            known = [self._cache.get(t) for t in texts]
            for t, v in zip(texts, known, strict=True):
                if v is not None:
                    self._cache.move_to_end(t)
            missing = list(dict.fromkeys(t for t, v in zip(texts, known, strict=True)
                                         if v is None))
            if not missing:
                return np.stack(known)  # type: ignore[arg-type]
            call = _Call(missing)
            self._queue.append(call)
            call.lead = not self._busy
            self._busy = True
        if not call.lead:
            call.wake.wait()  # done by another caller's batch, or handed the lead
        if call.lead:
            self._run()
        if call.error is not None:
            raise call.error
        assert call.result is not None
        got = dict(zip(missing, call.result, strict=True))
        return np.stack([v if v is not None else got[t]
                         for t, v in zip(texts, known, strict=True)])

    def _run(self) -> None:
        """Run the queue's head (this caller's own call is the first of it), then hand the lead
        to the next waiting caller, if any."""
        with self._lock:
            batch: list[_Call] = []
            n = 0
            while self._queue and (not batch or n + len(self._queue[0].texts) <= self.max_batch):
                n += len(self._queue[0].texts)
                batch.append(self._queue.pop(0))
        try:
            texts = list(dict.fromkeys(t for c in batch for t in c.texts))
            vectors = dict(zip(texts, self._encode_bucketed(texts), strict=True))
            for c in batch:
                c.result = np.stack([vectors[t] for t in c.texts])
            with self._lock:
                for t, v in vectors.items():
                    self._cache[t] = v
                    self._cache.move_to_end(t)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        except BaseException as e:  # every caller in the batch gets the encoder's error
            for c in batch:
                c.error = e
        finally:
            with self._lock:
                if self._queue:
                    self._queue[0].lead = True
                    self._queue[0].wake.set()
                else:
                    self._busy = False
            for c in batch:
                c.wake.set()

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

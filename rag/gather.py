"""Dynamic batching: the requests of concurrent callers served by one call.

A server answering 16 questions at once would otherwise make 16 one-question calls to each
model and to the vector store; one call on 16 does the same work in a fraction of the time
on a CPU. ``Gather`` collects them the way inference servers do (Triton's dynamic batcher,
vLLM's scheduler), without a background thread and without waiting on a timer:

- a caller that finds nothing running runs its request at once (a lone request pays nothing);
- callers that arrive while a call runs queue up; when it ends, the first of them takes over
  and runs everything queued (up to ``max_batch`` in size) in one call, so the batch grows
  with the load and the wait is bounded by one call;
- a result that is an exception is raised to its caller alone; a request that fails in a batch
  of several (the whole call raised, or its own result is an error) is run again alone, so a
  request that poisons a batch (text a tokenizer cannot take) fails only its own caller.

``BatchedSearch`` gathers vector-store searches this way: concurrent questions' searches of
one collection, modality, depth and filter become one store call with several query vectors
(``grouped``). The embedders' ``Batcher`` gathers question texts, and ``first_round`` whole
questions: both encoders and the first searches."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import numpy as np

from rag.protocols import ScoredItem, VectorStore

Req = TypeVar("Req")
Res = TypeVar("Res")
MAX_BATCH = 64


class _Call(Generic[Req]):
    __slots__ = ("request", "result", "error", "wake", "lead")

    def __init__(self, request: Req):
        self.request = request
        self.result: Any = None
        self.error: BaseException | None = None
        self.wake = threading.Event()
        self.lead = False


class Gather(Generic[Req, Res]):
    """``run`` (requests -> one result per request, in order) shared by concurrent callers.
    ``size`` weighs a request against ``max_batch``."""

    def __init__(self, run: Callable[[list[Req]], Sequence[Res | BaseException]],
                 size: Callable[[Req], int] = lambda _: 1, max_batch: int = MAX_BATCH):
        self._run_batch = run
        self._size = size
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Call[Req]] = []
        self._busy = False

    def __call__(self, request: Req) -> Res:
        call = _Call(request)
        with self._lock:
            self._queue.append(call)
            call.lead = not self._busy
            self._busy = True
        if not call.lead:
            call.wake.wait()  # done by another caller's batch, or handed the lead
        if call.lead:
            self._run()
        if call.error is not None:
            raise call.error
        return call.result  # type: ignore[no-any-return]

    def _run(self) -> None:
        """Run the queue's head (this caller's own call is the first of it), then hand the lead
        to the next waiting caller, if any."""
        with self._lock:
            batch: list[_Call[Req]] = []
            n = 0
            while self._queue and (not batch
                                   or n + self._size(self._queue[0].request) <= self.max_batch):
                n += self._size(self._queue[0].request)
                batch.append(self._queue.pop(0))
        try:
            for c, r in zip(batch, self._outcomes(batch), strict=True):
                if isinstance(r, BaseException):
                    c.error = r
                else:
                    c.result = r
        except BaseException as e:  # every caller in the batch gets the call's error
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


    def _outcomes(self, batch: list[_Call[Req]]) -> list[Any]:
        """One result or error per call. A request that fails in a batch of several is tried
        again alone, so one caller's bad input fails that caller only, never its neighbours."""
        try:
            results: list[Any] = list(self._run_batch([c.request for c in batch]))
        except Exception as e:
            if len(batch) == 1:
                raise
            results = [e] * len(batch)
        if len(batch) > 1:
            for i, r in enumerate(results):
                if isinstance(r, Exception):
                    try:
                        results[i] = self._run_batch([batch[i].request])[0]
                    except Exception as e:
                        results[i] = e
        return results


_Search = tuple[str, str, int, "dict[str, Any] | None", np.ndarray]


class BatchedSearch:
    """``store.search`` for concurrent callers: searches that wait together are grouped by
    collection, modality, ``k`` and filter, and each group is one store call. A failed group
    fails its own callers only."""

    def __init__(self, store: VectorStore, max_batch: int = MAX_BATCH):
        self.store = store
        self._gather: Gather[_Search, list[list[ScoredItem]]] = Gather(
            self._run, size=lambda r: len(r[4]), max_batch=max_batch)

    def __call__(self, collection: str, modality: str, vectors: np.ndarray, k: int,
                 where: dict[str, Any] | None = None) -> list[list[ScoredItem]]:
        if len(vectors) == 0:
            return []
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)
        return self._gather((collection, modality, k, where, vectors))

    def _run(self, searches: list[_Search]) -> list[list[list[ScoredItem]] | BaseException]:
        return grouped(self.store, searches)


def grouped(store: VectorStore, searches: Sequence[_Search]
            ) -> list[list[list[ScoredItem]] | BaseException]:
    """``searches`` (collection, modality, k, filter, query vectors) as few store calls: one
    per collection, modality, ``k`` and filter. Each search gets its own rows; a failed call
    gives its error to its own searches only."""
    groups: dict[tuple[str, str, int, str], list[int]] = {}
    for i, (collection, modality, k, where, _) in enumerate(searches):
        key = (collection, modality, k, json.dumps(where, sort_keys=True, default=str))
        groups.setdefault(key, []).append(i)
    out: list[list[list[ScoredItem]] | BaseException] = [[] for _ in searches]
    for members in groups.values():
        collection, modality, k, where, _ = searches[members[0]]
        try:
            rows = store.search(collection, modality,
                                np.concatenate([searches[i][4] for i in members]), k, where)
        except Exception as e:  # this group's searches get the store's error
            for i in members:
                out[i] = e
            continue
        start = 0
        for i in members:
            n = len(searches[i][4])
            out[i] = rows[start:start + n]
            start += n
    return out

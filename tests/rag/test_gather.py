"""Store searches of concurrent questions share store calls (``BatchedSearch``), on the real
embedded Chroma store: each caller gets exactly the rows a search of its own would give,
searches of another depth or filter are not mixed in, and a failing search fails its own
callers only."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from rag.gather import BatchedSearch, Gather
from rag.store.chroma import ChromaStore


class Slowed:
    """The real store, its searches made slow enough that concurrent callers overlap."""

    def __init__(self, store: ChromaStore, seconds: float = 0.03):
        self.store = store
        self.seconds = seconds
        self.searches: list[int] = []  # vectors per store call

    def search(self, *args, **kwargs):
        self.searches.append(len(args[2]))
        time.sleep(self.seconds)
        return self.store.search(*args, **kwargs)


@pytest.fixture
def store(tmp_path):
    store = ChromaStore(tmp_path)
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(60, 16)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    store.upsert("kb", "text", [f"c{i}" for i in range(60)], vecs,
                 [{"source": f"doc{i % 3}.md", "part": i % 2} for i in range(60)],
                 [f"chunk {i}" for i in range(60)])
    return store


def queries(n: int, seed: int = 1) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, 16)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def ids(rows):
    return [[(s.id, round(s.score, 5)) for s in row] for row in rows]


def test_concurrent_searches_share_store_calls_and_get_their_own_rows(store):
    slowed = Slowed(store)
    search = BatchedSearch(slowed)  # type: ignore[arg-type]
    qs = queries(24)
    start = threading.Barrier(12)

    def ask(i: int):
        if i < 12:
            start.wait()
        return search("kb", "text", qs[i:i + 1], 5)

    with ThreadPoolExecutor(12) as pool:
        got = list(pool.map(ask, range(24)))
    for i, rows in enumerate(got):
        assert ids(rows) == ids(store.search("kb", "text", qs[i:i + 1], 5))
    assert sum(slowed.searches) == 24
    assert len(slowed.searches) < 24 and max(slowed.searches) > 1


def test_a_lone_search_runs_at_once_and_several_vectors_keep_their_rows(store):
    slowed = Slowed(store, seconds=0)
    search = BatchedSearch(slowed)  # type: ignore[arg-type]
    qs = queries(3)
    assert ids(search("kb", "text", qs, 4)) == ids(store.search("kb", "text", qs, 4))
    assert slowed.searches == [3]
    assert search("kb", "text", np.zeros((0, 16), dtype=np.float32), 4) == []


def test_other_depths_and_filters_are_searched_apart_and_a_failure_stays_with_its_callers(store):
    slowed = Slowed(store)
    search = BatchedSearch(slowed)  # type: ignore[arg-type]
    qs = queries(8, seed=2)
    bad = {"part": {"$no_such_operator": 1}}
    plans = [(3, None), (6, None), (3, {"part": 1}), (3, bad)] * 2
    start = threading.Barrier(len(plans))

    def ask(i: int):
        k, where = plans[i]
        start.wait()
        try:
            return search("kb", "text", qs[i:i + 1], k, where)
        except Exception as e:  # noqa: BLE001 - the test looks at which callers failed
            return e

    with ThreadPoolExecutor(len(plans)) as pool:
        got = list(pool.map(ask, range(len(plans))))
    for i, (k, where) in enumerate(plans):
        if where is bad:
            assert isinstance(got[i], Exception)
            continue
        assert ids(got[i]) == ids(store.search("kb", "text", qs[i:i + 1], k, where))
        if where:
            assert got[i][0] and all(s.metadata["part"] == 1 for s in got[i][0])


def test_a_request_that_fails_its_batch_fails_alone_and_the_next_call_runs():
    """One poisoned request (text a tokenizer cannot take) used to fail every request that
    shared its batch: the batch's members are now tried again alone."""
    calls: list[list[int]] = []

    def run(batch: list[int]) -> list[int]:
        calls.append(batch)
        time.sleep(0.02)
        if 13 in batch:
            raise RuntimeError("unlucky batch")
        return [x * 2 for x in batch]

    gather: Gather[int, int] = Gather(run)
    start = threading.Barrier(6)

    def ask(x: int):
        start.wait()
        try:
            return gather(x)
        except RuntimeError as e:
            return str(e)

    with ThreadPoolExecutor(6) as pool:
        got = list(pool.map(ask, [13, 1, 2, 3, 4, 5]))
    assert any(13 in c and len(c) > 1 for c in calls), calls  # it did share a batch
    assert got == ["unlucky batch", 2, 4, 6, 8, 10]
    assert gather(7) == 14


def test_an_error_returned_for_one_request_is_retried_alone_and_stays_its_own():
    def run(batch: list[int]) -> list[int | BaseException]:
        time.sleep(0.02)
        if len(batch) > 1:  # fails every member as a batch; alone, only 13 fails
            return [RuntimeError("batch") for _ in batch]
        return [ValueError("bad") if batch[0] == 13 else batch[0] * 2]

    gather: Gather[int, int] = Gather(run)
    start = threading.Barrier(4)

    def ask(x: int):
        start.wait()
        try:
            return gather(x)
        except (RuntimeError, ValueError) as e:
            return str(e)

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(ask, [13, 1, 2, 3])) == ["bad", 2, 4, 6]

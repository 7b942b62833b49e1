"""Dynamic batching of question encoders: concurrent callers share encoder calls, each gets its
own texts' vectors (the same as one at a time), a lone caller runs at once, errors reach every
caller of the failed batch, and recent texts are not embedded again."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from rag.embedders.batching import CALL_CHARS, Batcher, runs


class Recorder:
    """An encoder of texts to vectors that records its calls and takes ``seconds`` each."""

    def __init__(self, seconds: float = 0.0, fail: str | None = None):
        self.seconds = seconds
        self.fail = fail
        self.calls: list[list[str]] = []
        self.threads: set[str] = set()

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        self.threads.add(threading.current_thread().name)
        time.sleep(self.seconds)
        if self.fail is not None and self.fail in texts:
            raise RuntimeError(f"cannot embed {self.fail!r}")
        return np.stack([vector(t) for t in texts])


def vector(text: str) -> np.ndarray:
    v = np.random.default_rng(abs(hash(text)) % 2**32).normal(size=8).astype(np.float32)
    return v / np.linalg.norm(v)


def test_a_lone_caller_runs_on_its_own_thread_at_once():
    enc = Recorder()
    batcher = Batcher(enc)
    got = batcher(["how long must passwords be?"])
    assert np.allclose(got, vector("how long must passwords be?")[None])
    assert enc.calls == [["how long must passwords be?"]]
    assert enc.threads == {threading.current_thread().name}


def test_concurrent_callers_share_calls_and_get_their_own_vectors():
    enc = Recorder(seconds=0.02)
    batcher = Batcher(enc)
    questions = [f"question number {i}?" for i in range(32)]
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda q: batcher([q]), questions))
    for q, got in zip(questions, results, strict=True):
        assert got.shape == (1, 8)
        assert np.allclose(got[0], vector(q))
    assert sorted(t for call in enc.calls for t in call) == sorted(questions)
    assert len(enc.calls) <= 8, f"{len(enc.calls)} encoder calls for 32 concurrent questions"
    assert max(len(c) for c in enc.calls) > 1


def test_batches_are_bounded():
    enc = Recorder(seconds=0.02)
    batcher = Batcher(enc, max_batch=4)
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda i: batcher([f"q{i}a", f"q{i}b"]), range(16)))
    assert max(len(c) for c in enc.calls) <= 4
    assert sum(len(c) for c in enc.calls) == 32


def test_short_and_long_texts_are_not_padded_together():
    enc = Recorder()
    batcher = Batcher(enc)
    long = "a sentence of an answer that is many words long, " * 4
    batcher(["short question?", long, "another one?"])
    assert sorted(map(sorted, enc.calls)) == [[long], ["another one?", "short question?"]]


def test_questions_of_different_lengths_share_a_call_and_a_paragraph_does_not():
    assert runs([]) == []
    assert runs([90, 60]) == [(0, 2)]  # questions of 12 and of 8 words
    assert runs([90, 85, 30, 25]) == [(0, 2), (2, 4)]  # 12 and 4 words: two pairs
    assert runs([1000, 90, 30]) == [(0, 1), (1, 3)]
    # where a call costs more than padding the shorter texts, they join the longer one
    assert runs([3 * CALL_CHARS, 2 * CALL_CHARS + CALL_CHARS // 2]) == [(0, 2)]
    assert runs([10 * CALL_CHARS, CALL_CHARS, CALL_CHARS]) == [(0, 1), (1, 3)]


def test_an_error_reaches_only_the_caller_whose_text_caused_it_and_the_next_batch_runs():
    enc = Recorder(seconds=0.02, fail="bad")
    batcher = Batcher(enc)
    start = threading.Barrier(8)

    def ask(q: str) -> str:
        start.wait()
        try:
            batcher([q])
            return "ok"
        except RuntimeError as e:
            return str(e)

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(ask, ["bad"] + [f"q{i}" for i in range(7)]))
    assert any("bad" in c and len(c) > 1 for c in enc.calls), enc.calls  # it shared a call
    assert outcomes == ["cannot embed 'bad'"] + ["ok"] * 7
    assert np.allclose(batcher(["fine"])[0], vector("fine"))  # the batcher is not stuck


def test_recent_texts_are_remembered_within_a_bound():
    enc = Recorder()
    batcher = Batcher(enc, cache=2)
    batcher(["a", "b"])
    batcher(["a"])
    assert enc.calls == [["a", "b"]]
    batcher(["c"])  # "b" was least recently used
    batcher(["b", "a"])
    assert enc.calls[-1] == ["b"]
    out = batcher(["a", "a", "c"])
    assert out.shape == (3, 8) and np.allclose(out[0], out[1])


@pytest.mark.parametrize("which", ["text", "clip"])
def test_real_encoders_batched_match_one_at_a_time(which, text_embedder, clip):
    """Questions and answer sentences of different lengths, embedded by 12 threads at once,
    against the PyTorch model one text at a time."""
    emb = text_embedder if which == "text" else clip
    embed = emb.embed if which == "text" else emb.embed_text
    alone = emb._embed_torch if which == "text" else emb._embed_text_torch
    texts = [f"How many days do I have for claim number {i}?" for i in range(12)]
    texts += ["Submit every expense claim with its receipts within 30 days of the trip, "
              f"through the finance portal, case {i}." for i in range(12)]
    before = (emb._batcher.calls, emb._batcher.batched)
    with ThreadPoolExecutor(12) as pool:
        got = list(pool.map(lambda t: embed([t])[0], texts))
    calls = emb._batcher.calls - before[0]
    assert emb._batcher.batched - before[1] == len(texts) and calls < len(texts)
    for t, v in zip(texts, got, strict=True):
        ref = alone([t], bf16=False)[0]
        assert float(v @ ref / np.linalg.norm(ref)) >= 0.9999

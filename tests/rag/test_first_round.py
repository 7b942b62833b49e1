"""Concurrent questions share their first round (``FirstRound``): both encoders' calls and the
searches of both collections, on the real embedded Chroma store with the deterministic fake
encoders. Each question gets exactly the vectors and rows it would get alone, and an error
reaches only the questions it concerns."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from rag import items
from rag.retrieval.first_round import Ask, FirstRound
from rag.store.chroma import ChromaStore
from rag.testing.fake_embedders import ColorImageEmbedder, HashTextEmbedder

WORDS = "red green blue white black yellow hotel salary parking travel portal".split()


class Counted:
    """An encoder whose question calls are counted (texts per call) and slowed, so that
    concurrent questions overlap."""

    def __init__(self, encoder, seconds: float = 0.03, fail: bool = False):
        self.encoder = encoder
        self.calls: list[int] = []
        self.seconds = seconds
        self.fail = fail

    def embed_questions(self, texts):
        self.calls.append(len(texts))
        time.sleep(self.seconds)
        if self.fail:
            raise RuntimeError("encoder down")
        return self.encoder.embed_questions(texts)


class CountedStore:
    def __init__(self, store: ChromaStore):
        self.store = store
        self.searches: list[tuple[str, int]] = []  # (modality, query vectors) per call

    def search(self, collection, modality, vectors, k, where=None):
        self.searches.append((modality, len(vectors)))
        return self.store.search(collection, modality, vectors, k, where)


@pytest.fixture
def store(tmp_path):
    store = ChromaStore(tmp_path)
    text, clip = HashTextEmbedder(), ColorImageEmbedder()
    rng = np.random.default_rng(0)
    chunks = [" ".join(rng.choice(WORDS, 6)) for _ in range(40)]
    store.upsert("kb", "text", [f"t{i}" for i in range(40)], text.embed(chunks),
                 [{items.SOURCE: f"doc{i % 4}.md", "part": i % 2} for i in range(40)], chunks)
    colours = rng.random((20, 3)).astype(np.float32)
    store.upsert("kb", "image", [f"i{i}" for i in range(20)], clip.embed_pixels(colours),
                 [{items.SOURCE: f"pic{i}.png", items.MODALITY: "image", "part": i % 2}
                  for i in range(20)])
    store.upsert("plain", "text", ["p0"], text.embed(["parking travel"]),
                 [{items.SOURCE: "p.md"}], ["parking travel"])
    return store


def questions(n: int) -> list[str]:
    rng = np.random.default_rng(7)
    return [" ".join(rng.choice(WORDS, 3)) + f" {i}?" for i in range(n)]


def ids(rows):
    return [[(s.id, round(s.score, 5)) for s in row] for row in rows]


def test_concurrent_questions_share_calls_and_get_what_they_would_alone(store):
    text, clip = Counted(HashTextEmbedder()), Counted(ColorImageEmbedder())
    counted = CountedStore(store)
    first = FirstRound(counted, text)  # type: ignore[arg-type]
    qs = questions(24)
    # every third question asks the collection without pictures: no CLIP, no image search
    asks = [Ask(q, "plain" if i % 3 == 2 else "kb", 6, None,
                None if i % 3 == 2 else clip) for i, q in enumerate(qs)]  # type: ignore[arg-type]
    start = threading.Barrier(12)

    def ask(i: int):
        if i < 12:
            start.wait()
        return first(asks[i])

    with ThreadPoolExecutor(12) as pool:
        got = list(pool.map(ask, range(24)))
    plain_text, plain_clip = HashTextEmbedder(), ColorImageEmbedder()
    for a, r in zip(asks, got, strict=True):
        alone = plain_text.embed([a.question])
        assert np.allclose(r.text, alone)
        assert ids(r.text_rows) == ids(store.search(a.collection, "text", alone, 6))
        if a.clip is None:
            assert r.image is None and r.image_rows is None
        else:
            clip_alone = plain_clip.embed_text([a.question])
            assert np.allclose(r.image, clip_alone)
            assert ids(r.image_rows) == ids(store.search("kb", "image", clip_alone, 6))
        assert r.embedded > 0
    assert sum(text.calls) == 24 and len(text.calls) < 24 and max(text.calls) > 1
    assert sum(clip.calls) == 16 and len(clip.calls) < 16
    assert sum(n for m, n in counted.searches if m == "image") == 16
    assert len(counted.searches) < 24 + 16


def test_a_lone_question_runs_at_once_and_its_rows_are_kept_by_channel_and_depth(store):
    text = Counted(HashTextEmbedder(), seconds=0)
    r = FirstRound(store, text)(Ask("red hotel?", "kb", 4, None,  # type: ignore[arg-type]
                                    ColorImageEmbedder()))
    assert text.calls == [1]
    assert r.rows(items.TEXT_CHANNEL, 4) is r.text_rows and len(r.text_rows[0]) == 4
    assert r.rows(items.IMAGE_CHANNEL, 4) is r.image_rows
    assert r.rows(items.TEXT_CHANNEL, 16) is None  # a deeper search is searched again
    assert r.rows(items.IMAGE_QUERY_CHANNEL, 4) is None


def test_errors_reach_only_the_questions_they_concern(store):
    bad = {"part": {"$no_such_operator": 1}}
    qs = questions(8)

    def run(first, asks):
        start = threading.Barrier(len(asks))

        def ask(a):
            start.wait()
            try:
                return first(a)
            except Exception as e:  # noqa: BLE001 - the test looks at who failed
                return e

        with ThreadPoolExecutor(len(asks)) as pool:
            return list(pool.map(ask, asks))

    # a filter the store refuses fails its own questions; the others get their rows
    text, clip = Counted(HashTextEmbedder()), ColorImageEmbedder()
    asks = [Ask(q, "kb", 5, bad if i % 2 else None, clip) for i, q in enumerate(qs)]
    for a, got in zip(asks, run(FirstRound(store, text), asks), strict=True):  # type: ignore[arg-type]
        if a.where is bad:
            assert isinstance(got, Exception)
        else:
            assert len(got.text_rows[0]) == 5 and len(got.image_rows[0]) == 5

    # CLIP failing fails the questions that needed it, not those of a collection without
    # pictures
    broken = Counted(ColorImageEmbedder(), fail=True)
    asks = [Ask(q, "plain" if i % 2 else "kb", 5, None, None if i % 2 else broken)
            for i, q in enumerate(qs)]  # type: ignore[arg-type]
    for a, got in zip(asks, run(FirstRound(store, Counted(HashTextEmbedder())), asks),
                      strict=True):  # type: ignore[arg-type]
        if a.clip is None:
            assert got.image is None and len(got.text_rows[0]) == 1
        else:
            assert isinstance(got, RuntimeError) and "encoder down" in str(got)

    # the text model failing fails its whole batch; the next question runs
    down = Counted(HashTextEmbedder(), fail=True)
    first = FirstRound(store, down)  # type: ignore[arg-type]
    assert all(isinstance(g, RuntimeError) for g in run(first, [Ask(q, "kb", 5, None, None)
                                                               for q in qs[:4]]))
    down.fail = False
    assert len(first(Ask("blue?", "kb", 3, None, None)).text_rows[0]) == 3


def test_the_full_text_search_is_made_in_the_round_and_fails_only_its_question(store,
                                                                                tmp_path):
    from rag.store.db import Database
    from rag.store.lexical import SqlLexical

    index = SqlLexical(Database(f"sqlite:///{tmp_path / 'm.sqlite3'}"))
    found, _ = store.get("kb", "text")
    index.upsert("kb", [it.id for it in found], [it.document or "" for it in found])

    class Flaky:
        def search(self, collection, text, k):
            if "salary" in text:
                raise RuntimeError("database gone")
            return index.search(collection, text, k)

    first = FirstRound(store, HashTextEmbedder(), Flaky())  # type: ignore[arg-type]
    r = first(Ask("parking hotel?", "kb", 4, None, None))
    assert r.found == index.search("kb", "parking hotel?", 4) and r.found
    assert r.full_text(4) is r.found and r.full_text(16) is None
    with pytest.raises(RuntimeError, match="database gone"):
        first(Ask("salary?", "kb", 4, None, None))
    assert FirstRound(store, HashTextEmbedder())(Ask("hotel?", "kb", 4, None, None)).found is None

"""The first round of retrieval, shared by concurrent questions: each question's vectors by
both question encoders and its first search of each collection's vectors, in one batch.

A question used to pass five hand-offs between threads: CLIP's text tower on a thread beside
the request's, the text model's and CLIP's batchers (``embedders.batching``), and the text
and image searches (``gather.BatchedSearch``), each a ``gather.Gather`` where callers wait
for the one that runs the batch. Each hand-off wakes a thread that must take the interpreter
lock again, and with 16 requests in flight that lock, more than the cores, set the pace
(docs/performance.md, *Under load*). ``FirstRound`` gathers whole questions instead: a lone
question runs at once, and those that arrive meanwhile share the next batch. The batch's
caller embeds every question with the text model, searches the text vectors and the
full-text index, while one helper thread embeds the questions of collections with pictures
with CLIP's text tower and searches the pictures. So a question waits at most once, and CLIP
still runs beside the text side.

Each question gets its own vectors (the encoders' batchers give the same vectors in a batch as
alone) and its own rows (``gather.grouped``: one store call per collection, depth and filter).
An error of one search reaches its own questions only; a failing encoder fails the questions
that needed it."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from rag import items
from rag.gather import MAX_BATCH, Gather, grouped
from rag.protocols import ImageEmbedder, LexicalIndex, ScoredItem, TextEmbedder, VectorStore

Rows = list[list[ScoredItem]]  # one row of hits per query vector
Found = list[tuple[str, float]]  # full-text matches: (item id, score), best first
# CLIP's side of a batch; batches of one ``FirstRound`` run one at a time, and a few
# retrievers (data directories) may share a process
_BESIDE = ThreadPoolExecutor(max_workers=4, thread_name_prefix="mmrag-clip-question")


@dataclass
class Ask:
    question: str
    collection: str
    k: int  # hits per search
    where: dict[str, Any] | None  # the store filter
    clip: ImageEmbedder | None  # CLIP, when the collection holds pictures (one per retriever)


@dataclass
class Round:
    """One question's first round."""

    k: int
    text: np.ndarray  # (1, dimension): the text model's vector
    text_rows: Rows
    image: np.ndarray | None  # (1, dimension): CLIP's, when the collection holds pictures
    image_rows: Rows | None
    embedded: float  # time.perf_counter() when both vectors were in
    found: Found | None = None  # the full-text search's, where there is a full-text index

    def full_text(self, k: int) -> Found | None:
        """The full-text matches searched ``k`` deep, else None."""
        return self.found if k == self.k else None

    def rows(self, channel: str, k: int) -> Rows | None:
        """This round's rows of a vector channel searched ``k`` deep, else None."""
        if k != self.k:
            return None
        return (self.text_rows if channel == items.TEXT_CHANNEL
                else self.image_rows if channel == items.IMAGE_CHANNEL else None)


@dataclass
class _Images:
    """CLIP's side of a batch."""

    vectors: dict[str, np.ndarray]  # by question
    rows: list[Rows | BaseException]  # by search, in the order of the questions asked
    embedded: float  # time.perf_counter() when the vectors were in


class FirstRound:
    """Concurrent questions' first round, gathered (``gather.Gather``): a lone question runs
    at once; those that arrive meanwhile share the next batch."""

    def __init__(self, store: VectorStore, text: TextEmbedder,
                 lexical: LexicalIndex | None = None, max_batch: int = MAX_BATCH):
        self.store = store
        self.text = text
        self.lexical = lexical
        self._gather: Gather[Ask, Round] = Gather(self._run, max_batch=max_batch)

    def __call__(self, ask: Ask) -> Round:
        return self._gather(ask)

    def _run(self, asks: list[Ask]) -> list[Round | BaseException]:
        pictured = [i for i, a in enumerate(asks) if a.clip is not None]
        beside = _BESIDE.submit(self._images, [asks[i] for i in pictured]) if pictured else None
        try:
            vectors = _embed(self.text.embed_questions, asks)
            done = time.perf_counter()
            rows = grouped(self.store, [(a.collection, "text", a.k, a.where,
                                         vectors[a.question]) for a in asks])
            found = [self._full_text(a) for a in asks]
        finally:  # CLIP's side ends before the batch does, even when the text side failed
            images: _Images | BaseException | None = None
            if beside is not None:
                try:
                    images = beside.result()
                except Exception as e:  # the questions that needed CLIP get its error
                    images = e
        slot = {i: n for n, i in enumerate(pictured)}
        out: list[Round | BaseException] = []
        for i, a in enumerate(asks):
            image: np.ndarray | None = None
            image_rows: Rows | BaseException | None = None
            embedded = done
            if a.clip is not None and images is not None:
                if isinstance(images, BaseException):
                    out.append(images)
                    continue
                image, image_rows = images.vectors[a.question], images.rows[slot[i]]
                embedded = max(done, images.embedded)
            text_rows, full_text = rows[i], found[i]
            if isinstance(text_rows, BaseException):
                out.append(text_rows)
            elif isinstance(image_rows, BaseException):
                out.append(image_rows)
            elif isinstance(full_text, BaseException):
                out.append(full_text)
            else:
                out.append(Round(a.k, vectors[a.question], text_rows, image, image_rows,
                                 embedded, full_text))
        return out

    def _full_text(self, ask: Ask) -> Found | BaseException | None:
        if self.lexical is None:
            return None
        try:
            return self.lexical.search(ask.collection, ask.question, ask.k)
        except Exception as e:  # this question's error only
            return e

    def _images(self, asks: list[Ask]) -> _Images:
        clip = asks[0].clip
        assert clip is not None
        vectors = _embed(clip.embed_questions, asks)
        done = time.perf_counter()
        return _Images(vectors, grouped(self.store, [(a.collection, "image", a.k, a.where,
                                                      vectors[a.question]) for a in asks]), done)


def _embed(embed: Callable[[Sequence[str]], np.ndarray], asks: list[Ask]
           ) -> dict[str, np.ndarray]:
    """Each distinct question's vector, as a (1, dimension) array."""
    questions = list(dict.fromkeys(a.question for a in asks))
    vectors = np.asarray(embed(questions), dtype=np.float32)
    return {q: vectors[i:i + 1] for i, q in enumerate(questions)}

"""ChromaStore: one Chroma collection per (mmrag collection, modality), cosine space.

Embedded on disk by default; a Chroma server when ``chroma_url`` is set. Each Chroma
collection records the embedding model it was built with, so that a changed model gives a
clear error instead of silently mixing vector spaces."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlparse

import numpy as np

from rag import items
from rag.errors import StoreError, Unavailable
from rag.protocols import ScoredItem, StoredItem

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
MODALITIES = ("text", "image", items.MULTILINGUAL_CHANNEL)
# items per Chroma write: Chroma turns each batch into Python lists of floats (~9 KB an item for
# 384 dimensions), so a big document is written in slices, not all at once
WRITE_BATCH = 512
# An item's text is kept in its metadata under this key rather than as a Chroma document:
# Chroma indexes documents for full-text search (a trigram index in SQLite) that mmrag never
# queries, and that index was half of the write time (measured with 256 chunks of ~90
# tokens and ten metadata keys: 287 ms with documents, 154 ms with the text in metadata).
# Items written as documents by earlier versions are still read.
TEXT_KEY = items.TEXT


def _split(metadata: dict[str, Any] | None, document: str | None
           ) -> tuple[dict[str, Any], str | None]:
    """An item's metadata without its text, and its text."""
    meta = dict(metadata or {})
    text = meta.pop(TEXT_KEY, None)
    return meta, text if text is not None else document


def _reachable(fn: F) -> F:
    """A Chroma server that stops answering makes each call ``Unavailable`` (503 with
    Retry-After) instead of an internal error; the next call tries again, so mmrag recovers
    by itself when the server is back."""

    @functools.wraps(fn)
    def call(self: ChromaStore, *args: Any, **kwargs: Any) -> Any:
        import httpx

        try:
            return fn(self, *args, **kwargs)
        except httpx.TransportError as e:
            raise Unavailable(f"the Chroma server at {self.url} is not reachable: {e}") from e

    return cast(F, call)


def chroma_name(collection: str, modality: str) -> str:
    return f"mmrag-{collection}-{modality}"


class ChromaStore:
    """``state_seconds``: how long what a question asks before searching (whether a
    collection exists, its item count, its calibration) is remembered instead of asked of
    Chroma again. This process's own writes forget it at once; another process's writes
    (a replica's ingestion, a refit) are seen within that time."""

    def __init__(self, path: str | Path | None = None, url: str | None = None,
                 state_seconds: float = 2.0):
        self.path = Path(path) if path else None
        self.url = url
        self.state_seconds = state_seconds
        self._client: Any = None
        # chroma name -> (collection or None when it does not exist, when to ask again)
        self._collections: dict[str, tuple[Any, float]] = {}
        self._counts: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def _forget(self, collection: str, modality: str) -> None:
        name = chroma_name(collection, modality)
        self._collections.pop(name, None)
        self._counts.pop(name, None)

    @property
    def client(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._connect()
        return self._client

    def _connect(self) -> Any:
        import chromadb

        settings = chromadb.Settings(anonymized_telemetry=False, allow_reset=False)
        if self.url:
            u = urlparse(self.url)
            try:
                client = chromadb.HttpClient(
                    host=u.hostname or "localhost",
                    port=u.port or (443 if u.scheme == "https" else 8000),
                    ssl=u.scheme == "https",
                    settings=settings,
                )
                client.heartbeat()
            except Exception as e:
                raise Unavailable(f"cannot reach the Chroma server at {self.url}: {e}") from e
            return client
        assert self.path is not None
        self.path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(self.path), settings=settings)

    def _collection(self, collection: str, modality: str, create: bool = False,
                    model: str | None = None, dim: int | None = None) -> Any:
        name = chroma_name(collection, modality)
        now = time.monotonic()
        col, until = self._collections.get(name, (None, 0.0))
        if now >= until or (col is None and create):
            client = self.client
            from chromadb.errors import NotFoundError

            try:
                col = client.get_collection(name, embedding_function=None)
            except (NotFoundError, ValueError):
                col = None
                if create:
                    meta = {"hnsw:space": "cosine", "mmrag:model": model or "",
                            "mmrag:dim": dim or 0}
                    col = client.get_or_create_collection(
                        name, metadata=meta, embedding_function=None
                    )
            self._collections[name] = (col, now + self.state_seconds)
        if col is None:
            return None
        if model is not None:
            built_with = (col.metadata or {}).get("mmrag:model")
            if built_with and built_with != model:
                raise StoreError(
                    f"collection {collection!r} holds {modality} vectors from model "
                    f"{built_with!r}, but the configured model is {model!r}; vectors from "
                    "different models cannot be mixed. Use the old model, ingest into a new "
                    "collection (--collection), or delete this one and ingest again."
                )
        return col

    @_reachable
    def upsert(self, collection: str, modality: str, ids: Sequence[str], vectors: np.ndarray,
               metadatas: Sequence[dict[str, Any]], documents: Sequence[str] | None = None,
               model: str | None = None) -> None:
        if not ids:
            return
        col = self._collection(collection, modality, create=True, model=model,
                               dim=int(vectors.shape[1]))
        if documents is not None:
            metadatas = [{**m, TEXT_KEY: d} for m, d in zip(metadatas, documents, strict=True)]
        self._counts.pop(col.name, None)
        step = max(1, min(WRITE_BATCH, int(self.client.get_max_batch_size())))
        for i in range(0, len(ids), step):
            sl = slice(i, i + step)
            try:
                col.upsert(ids=list(ids[sl]), embeddings=vectors[sl],
                           metadatas=self._replacing(col, ids[sl], metadatas[sl]))
            except Exception as e:
                raise StoreError(f"Chroma refused the write to {col.name}: {e}") from e

    @staticmethod
    def _replacing(col: Any, ids: Sequence[str], metadatas: Sequence[dict[str, Any]]
                   ) -> list[dict[str, Any]]:
        """Chroma's upsert merges metadata into an existing item's; an item written again
        (the same file redone with other models, tags or OCR) must not keep keys it no longer
        has, so those are set to None, which deletes them."""
        old = col.get(ids=list(ids), include=["metadatas"])
        before = dict(zip(old["ids"], old["metadatas"] or [], strict=True))
        return [{**dict.fromkeys(set(before.get(i) or {}) - set(m)), **m}
                for i, m in zip(ids, metadatas, strict=True)]

    @_reachable
    def search(self, collection: str, modality: str, vectors: np.ndarray, k: int,
               where: dict[str, Any] | None = None) -> list[list[ScoredItem]]:
        col = self._collection(collection, modality)
        if col is None or len(vectors) == 0 or k <= 0:
            return [[] for _ in range(len(vectors))]
        # Chroma returns fewer than n_results when the collection holds fewer
        res = col.query(query_embeddings=vectors, n_results=k, where=where,
                        include=["distances", "metadatas", "documents"])
        out = []
        for ids, dists, metas, docs in zip(res["ids"], res["distances"], res["metadatas"],
                                           res["documents"], strict=True):
            out.append([ScoredItem(i, 1.0 - float(d), *_split(m, doc))
                        for i, d, m, doc in zip(ids, dists, metas, docs, strict=True)])
        return out

    @_reachable
    def get(self, collection: str, modality: str, ids: Sequence[str] | None = None,
            where: dict[str, Any] | None = None, limit: int | None = None,
            with_vectors: bool = False) -> tuple[list[StoredItem], np.ndarray | None]:
        col = self._collection(collection, modality)
        if col is None:
            return [], None
        include = ["metadatas", "documents"] + (["embeddings"] if with_vectors else [])
        res = col.get(ids=list(ids) if ids is not None else None, where=where, limit=limit,
                      include=include)
        items = [StoredItem(i, *_split(m, d))
                 for i, m, d in zip(res["ids"], res["metadatas"], res["documents"], strict=True)]
        vecs = np.asarray(res["embeddings"], dtype=np.float32) if with_vectors else None
        return items, vecs

    @_reachable
    def ids(self, collection: str, modality: str, where: dict[str, Any]) -> list[str]:
        col = self._collection(collection, modality)
        if col is None:
            return []
        return list(col.get(where=where, include=[])["ids"])

    @_reachable
    def delete(self, collection: str, modality: str, ids: Sequence[str]) -> None:
        col = self._collection(collection, modality)
        if col is None or not ids:
            return
        self._counts.pop(col.name, None)
        step = max(1, min(WRITE_BATCH, int(self.client.get_max_batch_size())))
        for i in range(0, len(ids), step):
            col.delete(ids=list(ids[i : i + step]))

    @_reachable
    def count(self, collection: str, modality: str) -> int:
        col = self._collection(collection, modality)
        if col is None:
            return 0
        now = time.monotonic()
        count, until = self._counts.get(col.name, (0, 0.0))
        if now >= until:
            count = int(col.count())
            self._counts[col.name] = (count, now + self.state_seconds)
        return count

    @_reachable
    def get_meta(self, collection: str, modality: str) -> dict[str, Any]:
        col = self._collection(collection, modality)
        return dict(col.metadata or {}) if col is not None else {}

    @_reachable
    def update_meta(self, collection: str, modality: str, values: dict[str, Any]) -> None:
        """Merge ``values`` into the collection's metadata (calibration statistics live here,
        next to the vectors they describe, so a Chroma server shares them too)."""
        col = self._collection(collection, modality)
        if col is None:
            return
        meta = {k: v for k, v in (col.metadata or {}).items() if not k.startswith("hnsw:")}
        meta.update(values)
        col.modify(metadata=meta)
        self._forget(collection, modality)

    @_reachable
    def collections(self) -> list[str]:
        names = set()
        for c in self.client.list_collections():
            name = c if isinstance(c, str) else c.name
            if name.startswith("mmrag-"):
                base, _, modality = name[len("mmrag-"):].rpartition("-")
                if modality in MODALITIES:
                    names.add(base)
        return sorted(names)

    @_reachable
    def ping(self) -> None:
        """Readiness: the server answers (embedded Chroma always does)."""
        self.client.heartbeat()

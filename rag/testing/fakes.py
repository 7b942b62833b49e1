"""In-memory fakes of the parts, for tests that need retrieval's logic and not the models:
they run in milliseconds and give the same answer every time.

- ``InMemoryStore``: a ``VectorStore`` in dictionaries, passing the same contract suite as
  ``ChromaStore`` (rag/testing/contracts/store.py), filters included.
- ``InMemoryBlobs``: a ``BlobStore`` in a dictionary.

The fake models are in ``fake_embedders``.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import StoreError
from rag.protocols import ScoredItem, StoredItem

_WORD = re.compile(r"\w+")


def _normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return v / np.where(norms == 0, 1, norms)


# -- filters: the subset of Chroma's where-language mmrag uses, with Chroma's semantics ------
def _compare(op: str, have: Any, want: Any, present: bool) -> bool:
    if op == "$eq":
        return present and have == want
    if op == "$ne":
        return not present or have != want
    if op == "$in":
        return present and have in want
    if op == "$nin":
        return not present or have not in want
    if not present:
        return False
    if op == "$gt":
        return bool(have > want)
    if op == "$gte":
        return bool(have >= want)
    if op == "$lt":
        return bool(have < want)
    if op == "$lte":
        return bool(have <= want)
    raise ValueError(f"unsupported filter operator {op!r}")


def matches(meta: dict[str, Any], where: dict[str, Any] | None) -> bool:
    """Whether metadata satisfies a Chroma-style ``where`` filter."""
    if not where:
        return True
    for key, cond in where.items():
        if key == "$and":
            ok = all(matches(meta, c) for c in cond)
        elif key == "$or":
            ok = any(matches(meta, c) for c in cond)
        elif isinstance(cond, dict):
            ok = all(_compare(op, meta.get(key), v, key in meta) for op, v in cond.items())
        else:
            ok = key in meta and meta[key] == cond
        if not ok:
            return False
    return True


class _Collection:
    def __init__(self, model: str, dim: int):
        self.model = model
        self.dim = dim
        self.meta: dict[str, Any] = {"mmrag:model": model, "mmrag:dim": dim}
        self.items: dict[str, tuple[np.ndarray, dict[str, Any], str | None]] = {}


class InMemoryStore:
    """A VectorStore in memory: exact cosine search, Chroma's filters and model check."""

    def __init__(self) -> None:
        self._cols: dict[tuple[str, str], _Collection] = {}
        self._lock = threading.Lock()

    def upsert(self, collection: str, modality: str, ids: Sequence[str], vectors: np.ndarray,
               metadatas: Sequence[dict[str, Any]], documents: Sequence[str] | None = None,
               model: str | None = None) -> None:
        if not ids:
            return
        vectors = _normalise(vectors)
        with self._lock:
            col = self._cols.get((collection, modality))
            if col is None:
                col = self._cols[(collection, modality)] = _Collection(model or "",
                                                                     vectors.shape[1])
            elif model is not None and col.model and col.model != model:
                raise StoreError(f"collection {collection!r} holds {modality} vectors from "
                                 f"model {col.model!r}, but the configured model is {model!r}")
            for k, item_id in enumerate(ids):
                doc = documents[k] if documents is not None else None
                col.items[item_id] = (vectors[k], dict(metadatas[k]), doc)

    def search(self, collection: str, modality: str, vectors: np.ndarray, k: int,
               where: dict[str, Any] | None = None) -> list[list[ScoredItem]]:
        col = self._cols.get((collection, modality))
        if col is None or not col.items:
            return [[] for _ in range(len(vectors))]
        found = [(i, v, m, d) for i, (v, m, d) in col.items.items() if matches(m, where)]
        out = []
        for q in _normalise(vectors):
            scored = sorted(((float(v @ q), i, m, d) for i, v, m, d in found),
                            key=lambda s: (-s[0], s[1]))
            out.append([ScoredItem(i, s, dict(m), d) for s, i, m, d in scored[:k]])
        return out

    def get(self, collection: str, modality: str, ids: Sequence[str] | None = None,
            where: dict[str, Any] | None = None, limit: int | None = None,
            with_vectors: bool = False) -> tuple[list[StoredItem], np.ndarray | None]:
        col = self._cols.get((collection, modality))
        if col is None:
            return [], None
        keys = list(col.items) if ids is None else [i for i in ids if i in col.items]
        rows = [(i, *col.items[i]) for i in keys if matches(col.items[i][1], where)]
        rows = rows[:limit] if limit is not None else rows
        items = [StoredItem(i, dict(m), d) for i, _, m, d in rows]
        if not with_vectors:
            return items, None
        return items, np.asarray([v for _, v, _, _ in rows], dtype=np.float32).reshape(
            len(rows), col.dim)

    def ids(self, collection: str, modality: str, where: dict[str, Any]) -> list[str]:
        return [it.id for it in self.get(collection, modality, where=where)[0]]

    def delete(self, collection: str, modality: str, ids: Sequence[str]) -> None:
        col = self._cols.get((collection, modality))
        if col is not None:
            with self._lock:
                for i in ids:
                    col.items.pop(i, None)

    def count(self, collection: str, modality: str) -> int:
        col = self._cols.get((collection, modality))
        return 0 if col is None else len(col.items)

    def get_meta(self, collection: str, modality: str) -> dict[str, Any]:
        col = self._cols.get((collection, modality))
        return dict(col.meta) if col is not None else {}

    def update_meta(self, collection: str, modality: str, values: dict[str, Any]) -> None:
        col = self._cols.get((collection, modality))
        if col is not None:
            col.meta.update(values)

    def collections(self) -> list[str]:
        return sorted({c for c, _ in self._cols})

    def ping(self) -> None:
        pass


class InMemoryBlobs:
    """A BlobStore in a dictionary; ``resolve`` writes the copy to a temporary file, for
    generators that read pictures from paths."""

    def __init__(self, spill_dir: Path | None = None):
        self.data: dict[str, bytes] = {}
        self.written: dict[str, float] = {}  # key: time.time() when it was put
        self.spill_dir = spill_dir

    def put(self, data: bytes, ext: str, sha: str | None = None) -> tuple[str, str]:
        from rag.store.blobs import check_key

        sha = sha or hashlib.sha256(data).hexdigest()
        key = check_key(sha, ext.lower())
        self.data[key] = data
        self.written.setdefault(key, time.time())
        return sha, key

    def resolve(self, key: str) -> Path:
        if key not in self.data or self.spill_dir is None:
            raise FileNotFoundError(key)
        path = self.spill_dir / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.data[key])
        return path

    def read(self, key: str) -> bytes:
        if key not in self.data:
            raise FileNotFoundError(key)
        return self.data[key]

    def remove(self, key: str) -> None:
        self.data.pop(key, None)
        self.written.pop(key, None)

    def ping(self) -> None:
        pass

    def older_than(self, seconds: float) -> list[str]:
        now = time.time()
        return [k for k, t in self.written.items() if now - t > seconds]

    def mime(self, key: str) -> str:
        from rag.store.blobs import ImageBlobs

        return ImageBlobs.mime(key)

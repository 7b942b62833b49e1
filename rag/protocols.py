"""The roles mmrag composes. Each has one required batch method and capability flags;
adapters live in rag/embedders, rag/store/chroma.py and rag/answer/generators."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from rag.schema import Hit, Usage


@runtime_checkable
class TextEmbedder(Protocol):
    """Optional capability: ``multilingual = True`` on a model that puts a question and its
    answer in another language near each other (rag/retrieval/answerability.py trusts its matches
    across languages)."""

    model_id: str

    @property
    def dimension(self) -> int: ...

    def load(self) -> Any:
        """Load the weights now (safe to call twice); returns the embedder."""
        ...

    def quick_start(self) -> bool:
        """Whether ``embed`` works for questions before ``load()`` (from a cached export);
        the weights then load in the background."""
        ...

    def ready(self) -> Any:
        """Make ``embed`` and ``new_tokenizer`` usable for ingestion now, loading what they
        need (the weights, or no more than a cached export); returns the embedder."""
        ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""
        ...

    def embed_questions(self, texts: Sequence[str]) -> np.ndarray:
        """``embed`` for questions (short texts, any number up to ``gather.MAX_BATCH``): the
        question path, where concurrent callers share calls and vectors are remembered."""
        ...

    def count_tokens(self, texts: Sequence[str]) -> int:
        """Tokens the model sees for ``texts``; safe from any thread."""
        ...

    def new_tokenizer(self) -> Any:
        """A tokenizer of the model's own for one thread: called on text with
        ``return_offsets_mapping`` it gives token spans (ingest/chunking.py)."""
        ...

    def word_vectors(self) -> WordVectors | None:
        """Static word vectors distilled from the model (rag/embedders/static.py), or None
        where there are none: texts are then weighed with ``embed``."""
        ...


@runtime_checkable
class WordVectors(Protocol):
    """Texts to vectors by a table lookup per token: no model call."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""
        ...


@runtime_checkable
class ImageEmbedder(Protocol):
    """Embeds images and text into one joint space (CLIP)."""

    model_id: str

    @property
    def dimension(self) -> int: ...

    def load(self) -> Any:
        """Load the weights now; ModelUnavailable when they cannot be had."""
        ...

    def quick_start(self) -> bool:
        """Whether ``embed_text`` works for questions before ``load()``."""
        ...

    @property
    def image_size(self) -> int:
        """The side, in pixels, of the model's input."""
        ...

    def preprocess(self, images: Sequence[Any]) -> Any:
        """Turn decoded images into model input; safe to call from worker threads."""
        ...

    def embed_pixels(self, pixels: Any) -> np.ndarray:
        """L2-normalised vectors for preprocessed images."""
        ...

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised vectors for texts, in the same space as images."""
        ...

    def embed_questions(self, texts: Sequence[str]) -> np.ndarray:
        """``embed_text`` for questions, as ``TextEmbedder.embed_questions``."""
        ...


@dataclass
class StoredItem:
    id: str
    metadata: dict[str, Any]
    document: str | None = None


@dataclass
class ScoredItem:
    id: str
    score: float  # cosine similarity
    metadata: dict[str, Any]
    document: str | None = None


@runtime_checkable
class VectorStore(Protocol):
    """Vectors with metadata, kept per (collection, modality): everything retrieval, ingestion
    and calibration do with them. ``ChromaStore`` (rag/store/chroma.py) and the in-memory fake
    (rag/testing/fakes.py) pass the same contract suite (rag/testing/contracts/store.py).
    ``where`` filters use Chroma's operators: equality, ``$ne``, ``$in``, ``$and``."""

    def upsert(self, collection: str, modality: str, ids: Sequence[str], vectors: np.ndarray,
               metadatas: Sequence[dict[str, Any]], documents: Sequence[str] | None = None,
               model: str | None = None) -> None:
        """Insert or replace items; ``model``: the embedding model, which must match the one
        the collection was built with (StoreError otherwise)."""
        ...

    def search(self, collection: str, modality: str, vectors: np.ndarray, k: int,
               where: dict[str, Any] | None = None) -> list[list[ScoredItem]]:
        """The ``k`` nearest items by cosine similarity, best first, one list per vector."""
        ...

    def get(self, collection: str, modality: str, ids: Sequence[str] | None = None,
            where: dict[str, Any] | None = None, limit: int | None = None,
            with_vectors: bool = False) -> tuple[list[StoredItem], np.ndarray | None]: ...

    def ids(self, collection: str, modality: str, where: dict[str, Any]) -> list[str]: ...

    def delete(self, collection: str, modality: str, ids: Sequence[str]) -> None: ...

    def count(self, collection: str, modality: str) -> int: ...

    def get_meta(self, collection: str, modality: str) -> dict[str, Any]:
        """The collection's own metadata (its model, calibration statistics)."""
        ...

    def update_meta(self, collection: str, modality: str, values: dict[str, Any]) -> None: ...

    def collections(self) -> list[str]:
        """Names of the collections that hold items of either modality."""
        ...

    def ping(self) -> None:
        """Raise Unavailable when the store cannot be reached (readiness)."""
        ...


@runtime_checkable
class LexicalIndex(Protocol):
    """Full-text search over the stored text items, beside the vectors: rag/store/lexical.py
    (SQLite FTS5 or PostgreSQL, in the deployment's database) and the in-memory fake."""

    def upsert(self, collection: str, ids: Sequence[str], texts: Sequence[str]) -> None: ...

    def delete(self, collection: str, ids: Sequence[str]) -> None: ...

    def count(self, collection: str) -> int: ...

    def frequencies(self, collection: str, words: Sequence[str]) -> dict[str, int]:
        """How many items of the collection hold each word."""
        ...

    def search(self, collection: str, text: str, k: int) -> list[tuple[str, float]]:
        """(id, score) of the ``k`` best matches for ``text``, best (highest) first."""
        ...


@runtime_checkable
class BlobStore(Protocol):
    """Content-addressed copies of stored pictures: rag/store/blobs.py (ImageBlobs, a folder) and
    rag/store/s3blobs.py (S3Blobs, S3-compatible object storage)."""

    def put(self, data: bytes, ext: str, sha: str | None = None) -> tuple[str, str]:
        """Store ``data`` once; (sha256, key)."""
        ...

    def resolve(self, key: str) -> Path:
        """A local path to read the copy from; FileNotFoundError when there is none."""
        ...

    def read(self, key: str) -> bytes:
        """The copy's bytes; FileNotFoundError when there is none."""
        ...

    def remove(self, key: str) -> None: ...

    def ping(self) -> None:
        """Raise Unavailable when the store cannot be reached (readiness)."""
        ...

    def older_than(self, seconds: float) -> list[str]:
        """Keys of copies last written over ``seconds`` ago."""
        ...

    def mime(self, key: str) -> str: ...


@dataclass
class GenerationRequest:
    """What a generator answers from: the question and numbered evidence. Images are the
    stored files of image evidence (paths), for generators that can see them."""

    question: str
    evidence: list[tuple[int, Hit]]
    image_paths: dict[int, str] = field(default_factory=dict)
    question_images: list[bytes] = field(default_factory=list)  # pictures the user sent
    max_tokens: int = 512
    temperature: float = 0.0
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class GenerationChunk:
    """A streamed piece of an answer. The last chunk carries usage and finish_reason."""

    text: str
    usage: Usage | None = None
    finish_reason: str | None = None


@runtime_checkable
class Generator(Protocol):
    name: str
    supports_images: bool
    supports_streaming: bool

    def generate(self, request: GenerationRequest) -> Iterator[GenerationChunk]:
        """Yield the answer as text deltas; non-streaming callers join them."""
        ...

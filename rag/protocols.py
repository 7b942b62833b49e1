"""The four roles mmrag composes. Each has one required batch method and capability flags;
adapters live in rag/embedders, rag/store.py and rag/generators."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .schema import Hit, Usage


@runtime_checkable
class TextEmbedder(Protocol):
    model_id: str

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""
        ...


@runtime_checkable
class ImageEmbedder(Protocol):
    """Embeds images and text into one joint space (CLIP)."""

    model_id: str

    @property
    def dimension(self) -> int: ...

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
    """What retrieval needs from a store of vectors (rag/store.py: ChromaStore)."""

    def search(self, collection: str, modality: str, vectors: np.ndarray, k: int,
               where: dict[str, Any] | None = None) -> list[list[ScoredItem]]: ...

    def get(self, collection: str, modality: str, ids: Sequence[str] | None = None,
            where: dict[str, Any] | None = None, limit: int | None = None,
            with_vectors: bool = False) -> tuple[list[StoredItem], np.ndarray | None]: ...

    def count(self, collection: str, modality: str) -> int: ...

    def get_meta(self, collection: str, modality: str) -> dict[str, Any]: ...


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

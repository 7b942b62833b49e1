"""Fake models, for tests that need retrieval's logic and not the models:

- ``HashTextEmbedder``: words hashed into a bag-of-words vector, so texts that share words
  are near each other and others are not.
- ``ColorImageEmbedder``: a joint space in which a picture is its mean colour and a text is
  the colour words it names, so "a red chart" finds the red picture.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

_WORD = re.compile(r"\w+")


def _normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return v / np.where(norms == 0, 1, norms)


class HashTextEmbedder:
    """Deterministic text vectors: each lower-cased word adds one to a dimension picked by
    its hash. Shared words make texts near; the model id says what it is."""

    model_id = "fake:hash-text"

    def __init__(self, dimension: int = 256):
        self._dim = dimension

    @property
    def dimension(self) -> int:
        return self._dim

    def load(self) -> HashTextEmbedder:
        return self

    def ready(self) -> HashTextEmbedder:
        return self

    def quick_start(self) -> bool:
        return False

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self._dim, dtype=np.float32)
        for word in _WORD.findall(text.lower()):
            v[int(hashlib.md5(word.encode()).hexdigest(), 16) % self._dim] += 1.0
        return v

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        return _normalise(np.stack([self._vector(t) for t in texts]))

    def embed_questions(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed(texts)

    def count_tokens(self, texts: Sequence[str]) -> int:
        return sum(len(_WORD.findall(t)) for t in texts)

    def new_tokenizer(self) -> Any:
        return _WordTokenizer()

    def word_vectors(self) -> None:
        return None  # its vectors are word counts already: ``embed`` is as cheap


class _WordTokenizer:
    """A slow tokenizer (no Rust backend): one token per word, as ingest/chunking measures."""

    def tokenize(self, text: str) -> list[str]:
        return _WORD.findall(text)


COLORS = {"red": (1.0, 0.0, 0.0), "green": (0.0, 1.0, 0.0), "blue": (0.0, 0.0, 1.0),
          "white": (1.0, 1.0, 1.0), "black": (0.05, 0.05, 0.05), "yellow": (1.0, 1.0, 0.0)}


class ColorImageEmbedder:
    """A joint space of colours: a picture is its mean RGB colour, a text the mean of the
    colour words it names (a text without one points nowhere in particular)."""

    model_id = "fake:color-clip"
    image_size = 16

    @property
    def dimension(self) -> int:
        return 4

    def load(self) -> ColorImageEmbedder:
        return self

    def quick_start(self) -> bool:
        return False

    def preprocess(self, images: Sequence[Any]) -> Any:
        import torch

        rows = [np.asarray(im.convert("RGB").resize((self.image_size, self.image_size)),
                           dtype=np.float32).reshape(-1, 3).mean(axis=0) / 255.0
                for im in images]
        return torch.tensor(np.stack(rows) if rows else np.zeros((0, 3), dtype=np.float32))

    def embed_pixels(self, pixels: Any) -> np.ndarray:
        rgb = np.asarray(pixels, dtype=np.float32).reshape(-1, 3)
        return _normalise(np.hstack([rgb, np.full((len(rgb), 1), 0.05, dtype=np.float32)]))

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        for text in texts:
            named = [COLORS[w] for w in _WORD.findall(text.lower()) if w in COLORS]
            rgb = np.mean(named, axis=0) if named else np.zeros(3)
            rows.append([*rgb, 0.05 if named else 1.0])
        return _normalise(np.asarray(rows, dtype=np.float32).reshape(len(texts), 4))

    def embed_questions(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_text(texts)

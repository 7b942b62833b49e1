"""CLIP zero-shot tags: each picture is compared with a configurable list of labels ("a chart",
"a screenshot", ...) and gets the labels CLIP finds likely, stored as metadata that queries can
filter on (``tags`` in /v1/query, ``--tag`` in ``mmrag ask``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from rag import items
from rag.protocols import ImageEmbedder

LOGIT_SCALE = 100.0  # CLIP's learned temperature, about 100 for the released models


class Tagger:
    def __init__(self, labels: list[str], threshold: float):
        self.labels = [lbl.strip() for lbl in labels if lbl.strip()]
        self.threshold = threshold
        self._vectors: dict[str, np.ndarray] = {}

    def tag(self, clip: ImageEmbedder, image_vectors: np.ndarray) -> list[dict[str, Any]]:
        """Metadata to add to each picture: ``tags`` (comma-separated) and one boolean key per
        tag. The most likely label is kept when it reaches the threshold, and so is every
        other label that does."""
        if not self.labels or len(image_vectors) == 0:
            return [{} for _ in range(len(image_vectors))]
        key = clip.model_id
        if key not in self._vectors:
            self._vectors[key] = clip.embed_text([f"a photo of {lbl}" if not lbl.startswith(
                ("a ", "an ")) else lbl for lbl in self.labels])
        logits = LOGIT_SCALE * image_vectors @ self._vectors[key].T
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        out = []
        for row in probs:
            chosen = [lbl for lbl, p in zip(self.labels, row, strict=True)
                      if p >= self.threshold]
            meta: dict[str, Any] = {items.tag_key(lbl): True for lbl in chosen}
            if chosen:
                meta[items.TAGS] = ",".join(chosen)
            out.append(meta)
        return out

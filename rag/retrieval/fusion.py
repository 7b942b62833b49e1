"""Merging hits from different embedding spaces into one ranking.

Raw cosines are not comparable across spaces: MiniLM text-text cosines of unrelated pairs sit
near 0.0-0.1 and related ones at 0.4-0.8, while CLIP text-image cosines cluster at 0.15-0.35.
Three modes:

- ``raw``: rank by the cosine as it comes. Simple, and biased towards whichever space
  produces larger numbers.
- ``calibrated`` (default): every channel (question->text, question->image, image->image) has a
  *background* distribution, the cosines between generic probe queries and a sample of the
  stored items, fitted when ingestion writes to the collection. A hit's calibrated score is
  its z-score against that background: how many standard deviations it stands above an
  unrelated match. z-scores from different spaces are on one scale, and a threshold on them
  (``min_relevance``) means the same thing for text and images.
- ``rrf``: reciprocal rank fusion, ``sum 1/(60 + rank)`` over the channels that found the
  item. Needs no calibration, ignores score magnitudes.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass

import numpy as np

from rag import items
from rag.schema import Hit

RRF_K = 60
MIN_STD = 0.01

# Used until a collection has been fitted (or when it is too small to fit): typical values
# for the default models, measured on real text and photos.
PRIORS: dict[str, tuple[float, float]] = {
    items.TEXT_CHANNEL: (0.05, 0.08),
    items.MULTILINGUAL_CHANNEL: (0.0, 0.05),
    items.IMAGE_CHANNEL: (0.18, 0.03),
    items.IMAGE_QUERY_CHANNEL: (0.45, 0.10),
}

# Generic questions about unrelated everyday topics: their cosines against a collection's
# items sample what an unrelated match looks like in that space.
PROBE_QUERIES = [
    "What is the weather like tomorrow?", "How do I cook rice?", "Who won the football match?",
    "a photo of a dog", "What time does the train leave?", "How tall is a giraffe?",
    "Where can I buy cheap shoes?", "an old car parked on the street", "How do you say hello in "
    "French?", "What is the price of gold today?", "a bowl of fruit on a table",
    "When was the printing press invented?", "How many legs does a spider have?",
    "a mountain landscape at sunset", "What should I name my cat?", "How do vaccines work?",
    "a crowd at a concert", "What is the best way to learn piano?", "How far is the moon?",
    "a child playing in the snow", "Which planet has rings?", "How do I fix a flat tyre?",
    "a city skyline at night", "What is a good birthday present?", "How are pearls formed?",
    "a plate of pasta", "Why is the sky blue?", "What language is spoken in Brazil?",
    "a sailing boat on the sea", "How do bees make honey?", "What is the tallest building?",
    "a cup of coffee on a desk", "How long should eggs be boiled?", "a flower garden in spring",
    "What causes earthquakes?", "Who painted the Mona Lisa?", "a bicycle leaning on a wall",
    "How much water should I drink a day?", "a forest path in autumn", "What do pandas eat?",
]


@dataclass(frozen=True)
class Background:
    mean: float
    std: float
    n: int = 0

    def z(self, cosine: float) -> float:
        return (cosine - self.mean) / max(self.std, MIN_STD)

    def as_meta(self, channel: str) -> dict[str, float | int]:
        return {f"mmrag:bg:{channel}:mean": self.mean, f"mmrag:bg:{channel}:std": self.std,
                f"mmrag:bg:{channel}:n": self.n}

    @classmethod
    def stored(cls, meta: dict, name: str) -> Background | None:
        """The background fitted under ``name`` in a collection's metadata, if any."""
        key = f"mmrag:bg:{name}:"
        if key + "mean" not in meta:
            return None
        return cls(float(meta[key + "mean"]), float(meta[key + "std"]), int(meta[key + "n"]))

    @classmethod
    def from_meta(cls, meta: dict, channel: str) -> Background:
        """The channel's fitted background, else its prior."""
        fitted = cls.stored(meta, channel)
        if fitted is not None:
            return fitted
        mean, std = PRIORS[channel]
        return cls(mean, std, 0)


def fit_background(queries: np.ndarray, items: np.ndarray,
                   exclude_self: bool = False) -> Background:
    """Mean and spread of query-item cosines. Both inputs are L2-normalised rows. With
    ``exclude_self`` the queries are the items themselves and the diagonal is left out."""
    if len(queries) == 0 or len(items) == 0:
        raise ValueError("need queries and items to fit a background")
    sims = queries @ items.T
    if exclude_self:
        mask = ~np.eye(len(queries), len(items), dtype=bool)
        sims = sims[mask]
    sims = np.asarray(sims, dtype=np.float64).ravel()
    if sims.size < 2:
        raise ValueError("too few pairs to fit a background")
    return Background(float(sims.mean()), float(sims.std()), int(sims.size))


def fuse(channels: dict[str, list[Hit]], mode: str, top_k: int) -> list[Hit]:
    """Merge per-channel ranked lists into one. An item found by several channels appears
    once, keeping its best channel's evidence, and so does a picture stored twice (a
    screenshot file that a page beside it also shows): the file of its own is kept, so the
    page's cap on places (``diversified``) does not hold it back. ``Hit.score`` is set to
    the fused score."""
    best: dict[str, Hit] = {}
    rrf: dict[str, float] = {}
    for hits in channels.values():
        ranked: set[str] = set()
        for hit in sorted(hits, key=lambda h: h.raw_score, reverse=True):
            if hit.id not in ranked:  # an item counts once per channel, at its best rank
                ranked.add(hit.id)
                rrf[hit.id] = rrf.get(hit.id, 0.0) + 1.0 / (RRF_K + len(ranked))
            key = hit.raw_score if mode == "raw" else hit.calibrated_score
            old = best.get(hit.id)
            if old is None or key > (old.raw_score if mode == "raw" else old.calibrated_score):
                best[hit.id] = hit
    for hit in best.values():
        if mode == "raw":
            hit.score = hit.raw_score
        elif mode == "calibrated":
            hit.score = hit.calibrated_score
        elif mode == "rrf":
            hit.score = rrf[hit.id]
        else:
            raise ValueError(f"unknown fusion mode {mode!r}")
    once: dict[str, Hit] = {}  # copies of one picture: the best, then the file of its own
    for hit in best.values():
        old = once.get(one := _one(hit))
        if old is None or (hit.score, _own_file(hit)) > (old.score, _own_file(old)):
            once[one] = hit
    return sorted(once.values(), key=lambda h: (h.score, h.calibrated_score), reverse=True)[:top_k]


def _one(hit: Hit) -> str:
    """What a hit is one of: its item, or for a picture its stored copy (named by the
    picture's content, so identical pictures share it)."""
    blob = hit.metadata.get(items.BLOB) if hit.modality == "image" else None
    return f"picture:{blob}" if blob else hit.id


def _own_file(hit: Hit) -> bool:
    return not hit.metadata.get(items.REF)


def diversified(hits: list[Hit], top_k: int, per_document: int,
                whole: Container[str] = ()) -> tuple[list[Hit], bool]:
    """The first ``top_k`` of a ranking with at most ``per_document`` places per document,
    and one more per folder of text documents, while other documents' hits wait: one long
    file (release notes, a manual), or a folder of them, cannot fill the evidence alone.
    Pictures are not capped by folder (a folder of screenshots is a folder of separate
    things), nor are the folders in ``whole`` (one that holds nearly all of the collection is
    the collection, not a crowd in it). Places left over go back to the held hits in order,
    those of documents under their own cap first. ``per_document`` 0 keeps the ranking as it
    is. Also says whether the ranking was *crowded*: places went to held hits because too
    few documents were under their caps (a deeper ranking may hold the others)."""
    if per_document <= 0:
        return hits[:top_k], False
    per_doc: dict[str, int] = {}
    per_folder: dict[str, int] = {}

    def doc(h: Hit) -> str:
        return str(h.metadata.get(items.DOC_ID) or h.source or h.id)

    def folder(h: Hit) -> str | None:
        """The folder a hit counts against, if any."""
        f = items.folder_of(h.source)
        return None if h.modality == "image" or f in whole else f

    def take(h: Hit) -> None:
        per_doc[doc(h)] = per_doc.get(doc(h), 0) + 1
        if (f := folder(h)) is not None:
            per_folder[f] = per_folder.get(f, 0) + 1
        taken.add(id(h))

    def under_caps(h: Hit) -> bool:
        f = folder(h)
        return per_doc.get(doc(h), 0) < per_document and (
            f is None or per_folder.get(f, 0) <= per_document)

    taken: set[int] = set()
    passes = (under_caps, lambda h: per_doc.get(doc(h), 0) < per_document, lambda h: True)
    crowded = False
    for allowed in passes:
        for h in hits:
            if len(taken) == top_k:
                break
            if id(h) not in taken and allowed(h):
                take(h)
        crowded = crowded or len(taken) < min(top_k, len(hits))
    return [h for h in hits if id(h) in taken], crowded

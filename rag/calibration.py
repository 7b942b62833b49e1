"""Fitting each channel's background distribution (see rag/fusion.py) from stored vectors."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

import numpy as np

from .fusion import PROBE_QUERIES, Background, fit_background
from .protocols import ImageEmbedder, TextEmbedder, VectorStore

log = logging.getLogger(__name__)
_PROBES: dict[tuple[str, str], np.ndarray] = {}  # (role, model id) -> probe vectors
SAMPLE = 2000  # stored items per fit: enough for a stable mean and spread, fast to fetch
MIN_ITEMS = 5  # below this, the priors are better than a fit


def _sample(store: VectorStore, collection: str, modality: str) -> np.ndarray | None:
    count = store.count(collection, modality)
    if count < MIN_ITEMS:
        return None
    _, vecs = store.get(collection, modality, limit=SAMPLE, with_vectors=True)
    if vecs is None or len(vecs) == 0:
        return None
    if len(vecs) > SAMPLE:
        vecs = vecs[random.Random(0).sample(range(len(vecs)), SAMPLE)]
    return vecs


def _probes(role: str, model_id: str, embed: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """Probe vectors are the same for every fit with a given model: embed them once."""
    key = (role, model_id)
    if key not in _PROBES:
        _PROBES[key] = embed(PROBE_QUERIES)
    return _PROBES[key]


def refit(store: VectorStore, collection: str, text: TextEmbedder | None,
          image: ImageEmbedder | None) -> dict[str, Background]:
    """Fit and store the backgrounds of every channel that has enough items."""
    fitted: dict[str, Background] = {}
    if text is not None:
        vecs = _sample(store, collection, "text")
        if vecs is not None:
            fitted["text"] = fit_background(_probes("text", text.model_id, text.embed), vecs)
            store.update_meta(collection, "text", fitted["text"].as_meta("text"))
    if image is not None:
        vecs = _sample(store, collection, "image")
        if vecs is not None:
            probes = _probes("clip-text", image.model_id, image.embed_text)
            fitted["image"] = fit_background(probes, vecs)
            own = vecs[: min(len(vecs), 200)]
            fitted["image_query"] = fit_background(own, own, exclude_self=True)
            meta = {**fitted["image"].as_meta("image"),
                    **fitted["image_query"].as_meta("image_query")}
            store.update_meta(collection, "image", meta)
    for channel, bg in fitted.items():
        log.info("calibration %s/%s: mean %.3f std %.3f (%d pairs)", collection, channel,
                 bg.mean, bg.std, bg.n)
    return fitted

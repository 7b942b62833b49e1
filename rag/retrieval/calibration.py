"""Fitting each channel's background distribution (see fusion.py) from stored vectors."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

import numpy as np

from rag import items
from rag.protocols import ImageEmbedder, StoredItem, TextEmbedder, VectorStore
from rag.retrieval.fusion import PROBE_QUERIES, Background, fit_background
from rag.text.terms import count_words
from rag.text.units import units

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


IN_CORPUS = "in_corpus"  # the background name of the in-corpus fit
PSEUDO_QUERIES = 120  # passages a sentence is taken from, per fit (~2.5 s on 2 cores;
# 300 gave a mean 0.018 higher with the same spread on the Django docs, in 7.5 s)
REFIT_CHANGE = 0.1  # the in-corpus fit is redone once the text items grew or shrank this much
NEIGHBOURS = 10


def pseudo_queries(found: list[StoredItem], rng: random.Random) -> list[tuple[str, str]]:
    """(sentence, document id): one sentence of 5-25 words from each passage, standing in for
    a question whose answer is in that document."""
    out = []
    for it in found:
        doc = str(it.metadata.get(items.DOC_ID, it.id))
        sentences = [u.text for u in units(it.document or "")
                     if 5 <= count_words(u.text) <= 25]
        if sentences:
            out.append((rng.choice(sentences), doc))
    return out


def fit_in_corpus(store: VectorStore, collection: str, text: TextEmbedder,
                  modality: str = "text") -> Background | None:
    """What the best match looks like when the answer is *not* in the collection but the
    question is on its topic: sentences taken from the collection's own passages are asked
    of it, and each one's best match in any *other* document is kept. A question whose best
    hit stands far above that is answered from the collection; one near it is on topic but
    not answered by it (rag/retrieval/answerability.py)."""
    count = store.count(collection, modality)
    if count < 50:  # too few documents to tell another document's match from noise
        return None
    found, _ = store.get(collection, modality, limit=min(count, SAMPLE))
    rng = random.Random(1)
    sample = rng.sample(found, min(PSEUDO_QUERIES, len(found)))
    queries = pseudo_queries(sample, rng)
    if len(queries) < 20:
        return None
    vecs = text.embed([q for q, _ in queries])
    best = []
    for (_, doc), row in zip(queries, store.search(collection, modality, vecs, NEIGHBOURS),
                             strict=True):
        other = [h.score for h in row if str(h.metadata.get(items.DOC_ID, "")) != doc]
        if other:
            best.append(max(other))
    if len(best) < 20:
        return None
    arr = np.asarray(best, dtype=np.float64)
    return Background(float(arr.mean()), float(arr.std()), len(arr))


def _fit_text(store: VectorStore, collection: str, modality: str, text: TextEmbedder
              ) -> dict[str, Background]:
    """A text channel's generic background and in-corpus fit, stored in its collection's
    metadata (``modality``: "text", or the multilingual channel's)."""
    vecs = _sample(store, collection, modality)
    if vecs is None:
        return {}
    fitted = {modality: fit_background(_probes(modality, text.model_id, text.embed), vecs)}
    meta = fitted[modality].as_meta(modality)
    old = store.get_meta(collection, modality)
    count = store.count(collection, modality)
    at = int(old.get(f"mmrag:bg:{IN_CORPUS}:items", 0))
    if not at or abs(count - at) > REFIT_CHANGE * at:  # else the last fit stands
        in_corpus = fit_in_corpus(store, collection, text, modality)
        if in_corpus is not None:
            fitted[f"{modality}:{IN_CORPUS}"] = in_corpus
            meta.update({**in_corpus.as_meta(IN_CORPUS), f"mmrag:bg:{IN_CORPUS}:items": count})
    store.update_meta(collection, modality, meta)
    return fitted


def refit(store: VectorStore, collection: str, text: TextEmbedder | None,
          image: ImageEmbedder | None, multilingual: TextEmbedder | None = None
          ) -> dict[str, Background]:
    """Fit and store the backgrounds of every channel that has enough items."""
    fitted: dict[str, Background] = {}
    if text is not None:
        fitted.update(_fit_text(store, collection, "text", text))
    if multilingual is not None:
        fitted.update(_fit_text(store, collection, items.MULTILINGUAL_CHANNEL, multilingual))
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

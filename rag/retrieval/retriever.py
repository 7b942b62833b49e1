"""Retrieval over both collections: one question (text, image or both) in, one fused ranking
out. Channels: question->text (text model), question->multilingual (the passages the text
model cannot read, by the multilingual model, where a collection has them), question->image
(CLIP text encoder), image->image (CLIP image encoder) and the lexical channel (full-text
search over the text items, rag/store/lexical.py). The fused top k is then diversified: no
document takes more than ``max_per_document`` places while others wait, and when a few
documents crowd every candidate, the channels are searched again deeper for the others.

A question's vectors and its first search of each vector channel are made in one batch with
concurrent questions' (``first_round``); later searches (deeper, by image) are gathered per
collection and channel (``gather.BatchedSearch``)."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rag import items
from rag.errors import InvalidInput, RagError
from rag.gather import BatchedSearch
from rag.images import decode_image
from rag.protocols import ImageEmbedder, LexicalIndex, ScoredItem, TextEmbedder, VectorStore
from rag.retrieval.first_round import Ask, FirstRound, Round
from rag.retrieval.fusion import Background, diversified, fuse
from rag.schema import Hit, Modality, Query
from rag.settings import check_collection

log = logging.getLogger(__name__)

CANDIDATES = 3  # each channel returns top_k * CANDIDATES before fusion
# ... and that many times more when a few documents crowd the candidates (fusion.diversified)
DEEPER = 4
# a folder holding this share of a collection's documents is not capped as a folder
WHOLE_SHARE = 0.9
EXACT_Z = 10.0  # calibrated score of a stored picture identical to the query image
# calibrated-score units the best full-text match of a question adds to its item; the others
# get their share by their score relative to it (BM25 scores only compare within one query)
LEXICAL_WEIGHT = 2.0
_TEXT_MODALITIES = (items.TEXT_CHANNEL, items.MULTILINGUAL_CHANNEL)  # channel = modality
_ORDER = (items.TEXT_CHANNEL, items.MULTILINGUAL_CHANNEL, items.IMAGE_CHANNEL,
          items.IMAGE_QUERY_CHANNEL, items.EXACT_CHANNEL)


def tag_filter(tags: list[str]) -> dict | None:
    """A store filter for pictures carrying every one of ``tags`` (their OCR text too)."""
    keys = [{items.tag_key(t): True} for t in tags]
    return None if not keys else keys[0] if len(keys) == 1 else {"$and": keys}


@dataclass
class _Plan:
    """One question's retrieval: what its channels search with."""

    query: Query
    question: str  # its text, stripped ("" for a search by picture alone)
    k: int  # candidates per channel
    where: dict | None  # the store filter (tags)
    first: Round | None  # the first round's vectors and searches (a question with text)
    vectors: dict[str, np.ndarray]  # by channel
    whole: frozenset[str]  # folders not capped as folders


class Retriever:
    def __init__(self, store: VectorStore, text: TextEmbedder,
                 image: Callable[[], ImageEmbedder | None], max_image_pixels: int,
                 lexical: LexicalIndex | None = None, max_per_document: int = 0,
                 folders: Callable[[str], dict[str, float]] | None = None,
                 multilingual: TextEmbedder | None = None):
        self.store = store
        # concurrent questions' vectors and first searches: one batch (rag/retrieval/first_round.py)
        self._first = FirstRound(store, text, lexical)
        # later searches (deeper, by image) of one collection and channel: one store call
        self._search = BatchedSearch(store)
        self.text = text
        self.multilingual = multilingual  # its channel searches passages the text model cannot read
        self.image = image  # a getter: CLIP may be unavailable, and loads lazily
        self.max_image_pixels = max_image_pixels
        self.lexical = lexical  # None: vectors only
        self.max_per_document = max_per_document  # 0: no cap
        self.folders = folders  # a collection's folders' shares of its documents (rag/store/db.py)
        # per collection: its text items' count when its whole folders were last read
        self._whole: dict[str, tuple[int, frozenset[str]]] = {}

    def whole_folders(self, collection: str) -> frozenset[str]:
        """Folders holding nearly all of the collection's documents: a knowledge base in one
        folder is not a crowd in itself. Read again when the collection's size changes."""
        if self.folders is None or self.max_per_document <= 0:
            return frozenset()
        size = self.store.count(collection, "text")
        known = self._whole.get(collection)
        if known is None or known[0] != size:
            try:
                shares = self.folders(collection)
            except RagError as e:  # the caps are a refinement: answer without it
                log.warning("folder shares of %r unavailable, every folder is capped: %s",
                            collection, e)
                shares = {}
            whole = frozenset(f for f, share in shares.items() if share >= WHOLE_SHARE)
            self._whole[collection] = known = (size, whole)
        return known[1]

    def retrieve(self, query: Query) -> tuple[list[Hit], dict[str, float]]:
        """The fused, diversified top k of every channel, and the time spent embedding,
        searching and fusing."""
        plan, timings = self._embed(query)
        t = time.perf_counter()
        channels = self._channels(plan, plan.k)
        fused = time.perf_counter()
        timings["search_ms"] += (fused - t) * 1000
        hits, crowded = self._rank(plan, channels, plan.k)
        if crowded and DEEPER > 1:
            # a few documents (a folder of release notes) filled the candidates: look deeper
            # for the others, so that the caps have something to let through
            t = time.perf_counter()
            deeper = self._channels(plan, plan.k * DEEPER)
            searched = time.perf_counter() - t
            timings["search_ms"] += searched * 1000
            fused += searched
            hits, _ = self._rank(plan, deeper, plan.k * DEEPER)
        timings["fuse_ms"] = (time.perf_counter() - fused) * 1000
        return hits, timings

    def _embed(self, query: Query) -> tuple[_Plan, dict[str, float]]:
        """The question's vectors (its text's, with a first search of both collections made
        in one batch with concurrent questions', and its pictures'), and the time they took
        (the first round's searches count as search time)."""
        check_collection(query.collection)
        question = query.text.strip()
        if not question and not query.all_images:
            raise InvalidInput("a question needs text, an image, or both")
        t0 = time.perf_counter()
        clip = self.image() if self.store.count(query.collection, "image") else None
        plan = _Plan(query, question, max(query.top_k * CANDIDATES, query.top_k),
                     tag_filter(query.tags), None, {},
                     self.whole_folders(query.collection))
        if question:
            plan.first = self._first(Ask(question, query.collection, plan.k, plan.where, clip))
            plan.vectors[items.TEXT_CHANNEL] = plan.first.text
            if plan.first.image is not None:
                plan.vectors[items.IMAGE_CHANNEL] = plan.first.image
        t1 = time.perf_counter()
        embedded = plan.first.embedded if plan.first is not None else t0
        ml = self.multilingual
        if question and ml is not None and self.store.count(query.collection,
                                                            items.MULTILINGUAL_CHANNEL):
            plan.vectors[items.MULTILINGUAL_CHANNEL] = ml.embed_questions([question])
        if query.all_images:
            plan.vectors[items.IMAGE_QUERY_CHANNEL] = self._picture_vectors(query, clip)
        t2 = time.perf_counter()
        return plan, {"embed_ms": (embedded - t0 + t2 - t1) * 1000,
                      "search_ms": (t1 - embedded) * 1000}

    def _picture_vectors(self, query: Query, clip: ImageEmbedder | None) -> np.ndarray:
        if clip is None:
            raise InvalidInput(
                f"collection {query.collection!r} holds no images to search by image"
                if not self.store.count(query.collection, "image")
                else "search by image needs the CLIP model, which could not be loaded "
                "(see the server log; set MMRAG_CLIP_MODEL)")
        decoded = [decode_image(b, self.max_image_pixels, clip.image_size)[0]
                   for b in query.all_images]
        return clip.embed_pixels(clip.preprocess(decoded))

    def _channels(self, plan: _Plan, k: int) -> dict[str, list[Hit]]:
        """Each channel's top ``k``: text vectors (with the full-text matches folded in),
        pictures by the question's CLIP vector and by the query pictures, identical pictures."""
        channels: dict[str, list[Hit]] = {}
        if plan.question:
            for c in (items.TEXT_CHANNEL, items.MULTILINGUAL_CHANNEL):
                if c in plan.vectors:
                    channels[c] = self._vector_channel(plan, c, k)
            if self.lexical is not None:
                self._lexical(plan.question, plan.query.collection, k,
                              plan.vectors[items.TEXT_CHANNEL],
                              plan.first.full_text(k) if plan.first is not None else None,
                              channels)
        for c in (items.IMAGE_CHANNEL, items.IMAGE_QUERY_CHANNEL):
            if c in plan.vectors:
                channels[c] = self._vector_channel(plan, c, k)
        if plan.query.all_images:
            channels[items.EXACT_CHANNEL] = self._exact(plan.query.all_images,
                                                        plan.query.collection)
        return channels

    def _vector_channel(self, plan: _Plan, channel: str, k: int) -> list[Hit]:
        """One vector channel's hits: the first round's rows when it searched deep enough,
        else a search now (gathered with concurrent questions' of the same collection)."""
        modality = channel if channel in _TEXT_MODALITIES else "image"
        collection = plan.query.collection
        bg = Background.from_meta(self.store.get_meta(collection, modality), channel)
        rows = plan.first.rows(channel, k) if plan.first is not None else None
        if rows is None:
            rows = self._search(collection, modality, plan.vectors[channel], k, plan.where)
        # several query images search as one channel: each item keeps its best match
        return [self._hit(s, channel, bg) for row in rows for s in row]

    def _rank(self, plan: _Plan, channels: dict[str, list[Hit]], k: int
              ) -> tuple[list[Hit], bool]:
        channels = {c: channels[c] for c in _ORDER if c in channels}
        return diversified(fuse(channels, plan.query.fusion, k), plan.query.top_k,
                           self.max_per_document, plan.whole)

    def _lexical(self, question: str, collection: str, k: int, qvec: np.ndarray,
                 found: list[tuple[str, float]] | None, channels: dict[str, list[Hit]]) -> None:
        """Full-text matches (``found``, else searched now) raise their items' calibrated
        scores by up to LEXICAL_WEIGHT.
        Items the text vectors did not bring are scored by their own vector first, so every
        item keeps one scale: its cosine's z-score, plus the lexical share."""
        assert self.lexical is not None
        if found is None:
            found = self.lexical.search(collection, question, k)
        if not found or found[0][1] <= 0:
            return
        share = {i: LEXICAL_WEIGHT * max(s, 0.0) / found[0][1] for i, s in found}
        text_hits = channels.get(items.TEXT_CHANNEL, [])
        have = {h.stored_id for h in text_hits}
        missing = [i for i in share if i not in have]
        if missing:
            bg = Background.from_meta(self.store.get_meta(collection, "text"),
                                      items.TEXT_CHANNEL)
            stored, vecs = self.store.get(collection, "text", ids=missing, with_vectors=True)
            if vecs is not None and len(stored):
                cos = vecs @ np.asarray(qvec, dtype=np.float32).reshape(-1)
                for it, c in zip(stored, cos, strict=True):
                    text_hits.append(self._hit(
                        ScoredItem(it.id, float(c), it.metadata, it.document),
                        items.LEXICAL_CHANNEL, bg))
        for hit in text_hits + channels.get(items.MULTILINGUAL_CHANNEL, []):
            hit.lexical = share.get(hit.stored_id, 0.0)
            hit.calibrated_score += hit.lexical
        channels[items.TEXT_CHANNEL] = text_hits

    def _exact(self, images: list[bytes], collection: str) -> list[Hit]:
        """Stored pictures byte-for-byte identical to a query image: found by hash, whatever
        the embedding space thinks, and ranked first."""
        hashes = sorted({hashlib.sha256(b).hexdigest() for b in images})
        where = ({items.IMAGE_SHA256: hashes[0]} if len(hashes) == 1
                 else {items.IMAGE_SHA256: {"$in": hashes}})
        found, _ = self.store.get(collection, "image", where=where)
        exact = Background(1.0 - EXACT_Z * 0.01, 0.01)  # maps cosine 1.0 to EXACT_Z
        return [self._hit(ScoredItem(it.id, 1.0, it.metadata, it.document), items.EXACT_CHANNEL,
                          exact)
                for it in found]

    @staticmethod
    def _hit(item: ScoredItem, channel: str, bg: Background) -> Hit:
        """Text read from an image (OCR, captions) comes back as that image, with the text as
        the evidence of why it matched, so an image appears once however it was found."""
        meta = item.metadata
        item_id = item.id
        modality: Modality
        if meta.get(items.IMAGE_ID):  # read from a picture: by OCR, or its caption
            item_id, channel = str(meta[items.IMAGE_ID]), str(meta.get(items.DERIVED_FROM, "ocr"))
            modality = "image"
        else:
            modality = "image" if meta.get(items.MODALITY) == "image" else "text"
        text = item.document if channel not in items.VECTOR_ONLY_CHANNELS else None
        if text is None and modality == "image":
            text = meta.get(items.OCR_TEXT) or None
        return Hit(
            id=item_id,
            modality=modality,
            source=str(meta.get(items.SOURCE, "")),
            raw_score=item.score,
            calibrated_score=bg.z(item.score),
            score=item.score,
            channel=channel,
            text=text,
            metadata=meta,
            stored_id=item.id,
        )

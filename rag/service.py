"""RagService: the one object entry points build. It owns the models (loaded once, lazily),
the store and the image blobs, and answers questions with citations."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from . import calibration
from .blobs import ImageBlobs
from .embedders.clip import ClipEmbedder
from .embedders.text import SentenceTransformerEmbedder
from .errors import InvalidInput, ModelUnavailable, NotFound, RagError
from .generators import build_generator
from .generators.base import NOT_FOUND, cited_numbers, collect
from .protocols import GenerationChunk, GenerationRequest, Generator, ImageEmbedder
from .retriever import Retriever
from .schema import Answer, Citation, Hit, Query
from .settings import Settings, check_collection
from .store import ChromaStore

log = logging.getLogger(__name__)
SNIPPET_CHARS = 300


def location(meta: dict[str, Any]) -> str | None:
    """Where in its source an item is: a page of a PDF, a slide of a deck, a moment of a
    video."""
    for key in ("page", "slide"):
        if meta.get(key) is not None:
            return f"{key} {meta[key]}"
    if meta.get("ref"):
        return f"image {meta['ref']}"
    if meta.get("timestamp") is not None:
        seconds = int(float(meta["timestamp"]))
        return f"at {seconds // 60:02d}:{seconds % 60:02d}"
    return None


@dataclass
class Stream:
    """An answer being generated: iterate ``chunks``; the rest is known up front."""

    chunks: Iterator[GenerationChunk]
    request: GenerationRequest
    hits: list[Hit]
    generator: str
    notes: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)


class RagService:
    """Pass ``text_embedder``/``clip`` to share already-loaded models between services (one
    process serving several data dirs, or tests); by default they are built from settings."""

    def __init__(self, settings: Settings, text_embedder: SentenceTransformerEmbedder | None = None,
                 clip: ClipEmbedder | None = None):
        self.settings = settings
        self.store = ChromaStore(path=settings.chroma_dir, url=settings.chroma_url)
        self.blobs = ImageBlobs(settings.images_dir)
        self.text_embedder = text_embedder or SentenceTransformerEmbedder(
            settings.text_model, settings.device, settings.ingest.text_batch_size,
            settings.query_runtime, settings.cache_dir)
        self.clip = clip or ClipEmbedder(settings.clip_model, settings.device,
                                         settings.ingest.image_batch_size,
                                         settings.query_runtime, settings.cache_dir)
        self.clip_error: str | None = None
        self._clip_lock = threading.Lock()
        self._generators: dict[str, Generator] = {}
        self.retriever = Retriever(self.store, self.text_embedder, self.image_embedder,
                                   settings.ingest.max_image_pixels)

    def image_embedder(self) -> ImageEmbedder | None:
        """CLIP, or None when it cannot be loaded (the reason stays in ``clip_error``, and is
        logged once): text keeps working without it."""
        with self._clip_lock:
            if self.clip_error is None:
                try:
                    return self.clip.load()
                except ModelUnavailable as e:
                    self.clip_error = str(e)
                    log.info("images disabled: %s", e)
        return None

    def generator(self, name: str | None = None) -> Generator:
        name = name or self.settings.generator
        if name not in self._generators:
            self._generators[name] = build_generator(name, self.settings)
        return self._generators[name]

    def warm_up(self) -> None:
        """Load the models (and the question encoders) now instead of on the first request."""
        self.text_embedder.embed(["warm up"])
        if (clip := self.image_embedder()) is not None:
            clip.embed_text(["warm up"])

    # -- questions ---------------------------------------------------------------------
    def retrieve(self, query: Query) -> tuple[list[Hit], dict[str, float]]:
        return self.retriever.retrieve(query)

    def evidence(self, hits: list[Hit]) -> list[tuple[int, Hit]]:
        """Hits good enough to answer from, numbered as they will be cited."""
        good = [h for h in hits if h.calibrated_score >= self.settings.min_relevance]
        return list(enumerate(good, 1))

    def prepare(self, query: Query, generator: str | None = None,
                options: dict[str, Any] | None = None
                ) -> tuple[GenerationRequest, list[Hit], dict[str, float], Generator]:
        gen = self.generator(generator)
        hits, timings = self.retrieve(query)
        evidence = self.evidence(hits)
        paths = {}
        for n, hit in evidence:
            blob = hit.metadata.get("blob")
            if hit.modality == "image" and blob:
                try:
                    paths[n] = str(self.blobs.resolve(blob))
                except FileNotFoundError:
                    log.warning("stored image %s for %s is missing", blob, hit.id)
        g = self.settings.generation
        opts = dict(options or {})
        max_tokens, temperature = opts.pop("max_tokens", None), opts.pop("temperature", None)
        request = GenerationRequest(
            question=query.ask or query.text, evidence=evidence, image_paths=paths,
            question_images=query.all_images,
            max_tokens=int(max_tokens if max_tokens is not None else g.max_tokens),
            # an explicit 0 is a request for greedy decoding, not "use the default"
            temperature=float(temperature if temperature is not None else g.temperature),
            options=opts,
        )
        return request, hits, timings, gen

    def answer(self, query: Query, generator: str | None = None,
               options: dict[str, Any] | None = None) -> Answer:
        request, hits, timings, gen = self.prepare(query, generator, options)
        request.options.setdefault("stream", False)
        notes: list[str] = []
        t0 = time.perf_counter()
        if request.evidence:
            chunks, name = self._generate(gen, request, notes)
            text, usage, _ = collect(chunks)
        else:
            text, usage, name = NOT_FOUND, None, gen.name
        timings["generate_ms"] = (time.perf_counter() - t0) * 1000
        answer = Answer(
            question=query.ask or query.text,
            text=text,
            citations=self.citations(request.evidence, text),
            hits=hits,
            generator=name,
            timings_ms=timings,
            found=bool(request.evidence),
            notes=notes,
        )
        if usage is not None:
            answer.usage = usage
        if self.clip_error and query.text:
            answer.notes.append("image search is off: the CLIP model could not be loaded")
        return answer

    def stream(self, query: Query, generator: str | None = None,
               options: dict[str, Any] | None = None) -> Stream:
        """Retrieval happens now; the answer streams as the caller iterates."""
        request, hits, timings, gen = self.prepare(query, generator, options)
        notes: list[str] = []
        if not request.evidence:
            chunks: Iterator[GenerationChunk] = iter(
                [GenerationChunk(NOT_FOUND, finish_reason="stop")])
            name = gen.name
        else:
            chunks, name = self._generate(gen, request, notes)
        return Stream(chunks, request, hits, name, notes, timings)

    def _generate(self, gen: Generator, request: GenerationRequest, notes: list[str]
                  ) -> tuple[Iterator[GenerationChunk], str]:
        """Start generating. Failures before the first piece of text (a model that will not
        load, an API that refuses or cannot be reached) fall back to the extractive answer
        when ``generation.on_error`` is 'fallback', with a note saying so."""
        stream = gen.generate(request)
        try:
            first = next(stream, None)
        except RagError as e:
            if (isinstance(e, InvalidInput) or gen.name == "extractive"
                    or self.settings.generation.on_error != "fallback"):
                raise
            log.warning("generator %s failed, answering extractively: %s", gen.name, e)
            notes.append(f"the {gen.name} generator failed ({e}); this is the extractive "
                         "answer instead")
            return self.generator("extractive").generate(request), "extractive"
        if first is None:
            return iter(()), gen.name
        return itertools.chain([first], stream), gen.name

    @staticmethod
    def citations(evidence: list[tuple[int, Hit]], text: str) -> list[Citation]:
        cited = cited_numbers(text)
        out = []
        for n, hit in evidence:
            snippet = None
            if hit.text:
                snippet = hit.text if len(hit.text) <= SNIPPET_CHARS else (
                    hit.text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …")
            out.append(Citation(n=n, id=hit.id, modality=hit.modality, source=hit.source,
                                score=hit.score, snippet=snippet, url=hit.image_url,
                                cited=n in cited, location=location(hit.metadata)))
        return out

    # -- stored things -------------------------------------------------------------------
    def refit(self, collection: str) -> None:
        clip = self.image_embedder() if self.store.count(collection, "image") else None
        calibration.refit(self.store, collection, self.text_embedder, clip)

    def image_file(self, collection: str, item_id: str) -> tuple[str, str]:
        """(absolute path, mime type) of a stored image item."""
        check_collection(collection)
        items, _ = self.store.get(collection, "image", ids=[item_id])
        if not items:  # an image stored without a vector is known by its text (OCR)
            items, _ = self.store.get(collection, "text", where={"image_id": item_id}, limit=1)
        if not items or not items[0].metadata.get("blob"):
            raise NotFound(f"no image {item_id!r} in collection {collection!r}")
        rel = str(items[0].metadata["blob"])
        try:
            return str(self.blobs.resolve(rel)), self.blobs.mime(rel)
        except FileNotFoundError:
            raise NotFound(f"the stored copy of image {item_id!r} is missing") from None

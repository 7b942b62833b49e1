"""RagService: the one object entry points build. It owns the models (loaded once, lazily),
the store and the image blobs, and answers questions with citations."""

from __future__ import annotations

import functools
import itertools
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from rag import items
from rag.answer.citations import cite
from rag.answer.generators import build_generator
from rag.answer.generators.base import collect
from rag.errors import InvalidInput, NotFound, RagError
from rag.parts import Parts
from rag.protocols import GenerationChunk, GenerationRequest, Generator, ImageEmbedder, TextEmbedder
from rag.retrieval.answerability import Verdict, decide
from rag.retrieval.retriever import Retriever
from rag.schema import Answer, Citation, Hit, Query, Usage
from rag.settings import Settings
from rag.store.db import folder_shares
from rag.text.language import say

log = logging.getLogger(__name__)


@dataclass
class Stream:
    """An answer being generated: iterate ``chunks``; the rest is known up front."""

    chunks: Iterator[GenerationChunk]
    request: GenerationRequest
    hits: list[Hit]
    generator: str
    notes: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    answerability: dict[str, Any] = field(default_factory=dict)
    started: float = 0.0  # time.perf_counter() when generation started

    def cite(self, text: str) -> list[Citation]:
        """The citations of the answer ``text`` this stream gave."""
        return cite(self.request.evidence, text, self.request.question)


class RagService:
    """Answers questions over the parts it is given: ``parts`` holds the store, the blob store
    and the embedders (ingest writes through the same parts). ``from_settings`` builds them
    from configuration."""

    def __init__(self, settings: Settings, parts: Parts):
        self.settings = settings
        self.parts = parts
        self._generators: dict[str, Generator] = {}
        self._generators_lock = threading.Lock()
        self._known: set[str] = set()  # collections seen in the store
        self.retriever = self._retriever()
        # tokens of stored passages, for usage reports: the same passages answer many
        # questions, and counting five chunks is ~1 ms of tokenizing a request
        self._passage_tokens = functools.lru_cache(maxsize=4096)(
            lambda text: parts.text.count_tokens([text]))

    def _retriever(self) -> Retriever:
        s, parts = self.settings, self.parts
        return Retriever(parts.store, parts.text, parts.images.get, s.ingest.max_image_pixels,
                         parts.lexical if s.lexical else None, s.max_per_document,
                         lambda collection: folder_shares(parts.db, collection),
                         parts.multilingual if s.multilingual != "off" else None)

    def configure(self, **changes: Any) -> None:
        """Change settings of a running service (the eval harness's ablations); what is built
        from them is built again."""
        for name, value in changes.items():
            setattr(self.settings, name, value)
        self.retriever = self._retriever()
        with self._generators_lock:
            self._generators.clear()

    @classmethod
    def from_settings(cls, settings: Settings, text_embedder: TextEmbedder | None = None,
                      clip: ImageEmbedder | None = None) -> RagService:
        """Pass ``text_embedder``/``clip`` to share already-loaded models between services
        (one process serving several data dirs, or tests)."""
        return cls(settings, Parts.from_settings(settings, text_embedder, clip))

    def image_embedder(self) -> ImageEmbedder | None:
        """CLIP, or None when it cannot be loaded (``images_error`` says why)."""
        return self.parts.images.get()

    @property
    def images_error(self) -> str | None:
        """Why image search is off, or None while it works (or has not been tried)."""
        return self.parts.images.error

    def status(self) -> dict[str, str]:
        return {"text_model": self.parts.text.model_id,
                "clip_model": self.parts.images.model_id,
                "images": "unavailable" if self.images_error else "available"}

    def readiness(self) -> dict[str, str]:
        """Whether each engine answers now: "ok", or why not."""
        checks = {}
        parts = self.parts
        for name, ping in (("vector_store", parts.store.ping), ("database", parts.db.ping),
                           ("blob_store", parts.blobs.ping)):
            try:
                ping()
                checks[name] = "ok"
            except Exception as e:
                checks[name] = str(e) if isinstance(e, RagError) else f"{type(e).__name__}: {e}"
        return checks

    def embed_texts(self, texts: list[str]) -> tuple[np.ndarray, int]:
        """Vectors of the text model for ``texts``, and the tokens it read."""
        return self.parts.text.embed(texts), self.parts.text.count_tokens(texts)

    def generator(self, name: str | None = None) -> Generator:
        """The generator called ``name`` (the configured one by default), built once: two
        first requests at the same time share one instance, so a model loads once."""
        name = name or self.settings.generator
        with self._generators_lock:
            if name not in self._generators:
                gen = build_generator(name, self.settings)
                if hasattr(gen, "use_embedder"):  # the extractive answer scores by meaning
                    gen.use_embedder(self.parts.text, self.retriever.multilingual)
                self._generators[name] = gen
            return self._generators[name]

    def warm_up(self) -> None:
        """Make questions answerable now instead of on the first request (``Parts.warm_up``),
        with the word vectors the extractive answer weighs sentences by."""
        # every generator falls back to the extractive answer, which weighs by word vectors
        self.parts.warm_up(self.settings.answer_vectors == "words")

    # -- questions ---------------------------------------------------------------------
    def retrieve(self, query: Query) -> tuple[list[Hit], dict[str, float]]:
        self.check_exists(query.collection)
        return self.retriever.retrieve(query)

    def check_exists(self, collection: str) -> None:
        """NotFound for a collection nothing was ever ingested into (the default one always
        exists). Known names are remembered; an unknown one is looked up each time, so a
        collection made by another process is found."""
        if collection == self.settings.default_collection or collection in self._known:
            return
        self._known.update(self.parts.store.collections())
        if collection not in self._known:
            raise NotFound(f"no collection {collection!r}: nothing has been ingested into it "
                           f"(ingest with --collection {collection}, or the collection field "
                           "of /v1/ingest)")

    def collections(self) -> list[str]:
        return self.parts.store.collections()

    def is_empty(self, collection: str) -> bool:
        store = self.parts.store
        return not store.count(collection, "text") and not store.count(collection, "image")

    def evidence(self, query: Query, hits: list[Hit]) -> tuple[list[tuple[int, Hit]], Verdict]:
        """Hits good enough to answer from, numbered as they will be cited, and the verdict
        on whether the collection answers the question at all (rag/retrieval/answerability.py)."""
        s = self.settings
        meta = self.parts.store.get_meta(query.collection, "text") if hits else {}
        ml = items.MULTILINGUAL_CHANNEL  # its hits are weighed by its own fits
        ml_meta = self.parts.store.get_meta(query.collection, ml) if any(
            h.channel == ml for h in hits) else None
        # the full-text index weighs the question's words even with its channel turned off
        verdict = decide(query.text, hits, s.refusal, s.min_relevance, meta,
                         self.parts.lexical, query.collection,
                         getattr(self.parts.text, "multilingual", False), ml_meta)
        if not verdict.answerable:
            return [], verdict
        good = [h for h in hits if h.calibrated_score >= s.min_relevance]
        return list(enumerate(good, 1)), verdict

    def _search(self, query: Query
                ) -> tuple[Query, list[Hit], dict[str, float], list[tuple[int, Hit]], Verdict]:
        """Retrieval and the verdict. A chat question with earlier turns' words added
        (``query.ask`` beside ``query.text``) is searched by itself too: a question that finds
        evidence by itself is a question of its own, and the earlier words are kept only when
        it does not and they do. (Scores do not decide: the earlier words match the earlier
        topic's documents well, whatever the new question asks.)"""
        hits, timings = self.retrieve(query)
        t0 = time.perf_counter()
        evidence, verdict = self.evidence(query, hits)
        timings["answerable_ms"] = (time.perf_counter() - t0) * 1000
        if not query.ask or not query.ask.strip() or query.ask == query.text:
            return query, hits, timings, evidence, verdict
        alone = replace(query, text=query.ask)
        alone_hits, alone_timings = self.retrieve(alone)
        alone_evidence, alone_verdict = self.evidence(alone, alone_hits)
        for key, ms in alone_timings.items():  # the time both searches took
            timings[key] = timings.get(key, 0.0) + ms
        if alone_verdict.answerable or not verdict.answerable:
            return alone, alone_hits, timings, alone_evidence, alone_verdict
        return query, hits, timings, evidence, verdict

    def prepare(self, query: Query, generator: str | None = None,
                options: dict[str, Any] | None = None
                ) -> tuple[GenerationRequest, list[Hit], dict[str, float], Generator, Verdict]:
        gen = self.generator(generator)
        query, hits, timings, evidence, verdict = self._search(query)
        paths = {}
        for n, hit in evidence:
            blob = hit.metadata.get(items.BLOB)
            if hit.modality == "image" and blob:
                try:
                    paths[n] = str(self.parts.blobs.resolve(blob))
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
        return request, hits, timings, gen, verdict

    def answer(self, query: Query, generator: str | None = None,
               options: dict[str, Any] | None = None) -> Answer:
        """The stream of ``stream``, collected."""
        s = self.stream(query, generator, {"stream": False, **(options or {})})
        text, usage, finish = collect(s.chunks)
        s.timings_ms["generate_ms"] = (time.perf_counter() - s.started) * 1000
        return Answer(question=s.request.question, text=text,
                      citations=s.cite(text),
                      hits=s.hits, generator=s.generator, timings_ms=s.timings_ms,
                      found=bool(s.request.evidence), notes=s.notes,
                      finish_reason=finish or "stop", answerability=s.answerability,
                      usage=usage)

    def stream(self, query: Query, generator: str | None = None,
               options: dict[str, Any] | None = None) -> Stream:
        """Retrieval happens now; the answer streams as the caller iterates. Every way of
        answering (``answer``, chat, completions, responses, ``/v1/query``) renders this."""
        request, hits, timings, gen, verdict = self.prepare(query, generator, options)
        notes: list[str] = []
        started = time.perf_counter()
        if request.evidence:
            chunks, name = self._generate(gen, request, notes)
        else:
            chunks = iter([GenerationChunk(say("not_found", request.question),
                                           finish_reason="stop")])
            name = gen.name
        if name == "extractive" or not request.evidence:  # no model counted: count here
            chunks = self._counting(chunks, request)
        if self.images_error and query.text:
            notes.append(say("no_images", request.question))
        if not hits and self.is_empty(query.collection):
            notes.append(say("empty", request.question, collection=query.collection))
        return Stream(chunks, request, hits, name, notes, timings, verdict.report(), started)

    def _count_usage(self, request: GenerationRequest, text: str) -> Usage:
        """Tokens of an answer no model counted (extractive, or nothing found), with the
        text model's tokenizer: the question and the evidence read, and the answer."""
        count = self.parts.text.count_tokens
        read = count([request.question]) + sum(
            self._passage_tokens(h.text) for _, h in request.evidence if h.text)
        return Usage(read, count([text]))

    def _counting(self, chunks: Iterator[GenerationChunk], request: GenerationRequest
                  ) -> Iterator[GenerationChunk]:
        parts = []
        for chunk in chunks:
            parts.append(chunk.text)
            if chunk.finish_reason is not None:
                chunk.usage = self._count_usage(request, "".join(parts))
            yield chunk

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


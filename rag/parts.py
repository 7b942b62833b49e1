"""The parts a RagService (and the ingestion that feeds it) is made of: the vector store,
the blob store, the two embedders and the database, built from settings in one place. Tests
and other deployments pass their own (the in-memory fakes of rag/testing, a Chroma server,
S3, PostgreSQL)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from rag import items
from rag.errors import InvalidInput, ModelUnavailable, RagError
from rag.lazy import settle
from rag.protocols import BlobStore, ImageEmbedder, LexicalIndex, TextEmbedder, VectorStore
from rag.settings import Settings
from rag.store.db import Database
from rag.text.language import needs_multilingual

log = logging.getLogger(__name__)


class OptionalImages:
    """CLIP, loaded on first use, or None when it cannot be loaded: text keeps working
    without it. The reason stays in ``error`` and is logged once."""

    def __init__(self, embedder: ImageEmbedder):
        self.embedder = embedder
        self.error: str | None = None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self.embedder.model_id

    def get(self) -> ImageEmbedder | None:
        """CLIP for a question: as it is while its cached question encoder can embed the text
        (the weights load when something needs them, see ``Parts.warm_up``), else loaded."""
        if self.error is None and self.embedder.quick_start():
            return self.embedder
        return self.load()

    def load(self) -> ImageEmbedder | None:
        """CLIP with its weights loaded, or None when they cannot be."""
        with self._lock:
            if self.error is None:
                try:
                    self.embedder.load()
                    return self.embedder
                except ModelUnavailable as e:
                    self.error = str(e)
                    log.info("images disabled: %s", e)
        return None


@dataclass
class Parts:
    store: VectorStore
    blobs: BlobStore
    text: TextEmbedder
    images: OptionalImages
    db: Database
    lexical: LexicalIndex | None = None  # full-text search beside the vectors
    # the multilingual channel's model (None: no such channel), and which passages it embeds
    multilingual: TextEmbedder | None = None
    multilingual_mode: str = "auto"

    def multilingual_rows(self, texts: Sequence[str]) -> list[int]:
        """Which of ``texts`` (passages) the multilingual channel embeds too."""
        if self.multilingual is None:
            return []
        if self.multilingual_mode == "all":
            return list(range(len(texts)))
        return [i for i, t in enumerate(texts) if needs_multilingual(t)]

    def warm_up(self, word_vectors: bool = False) -> None:
        """Make questions answerable now. When both models embed questions from their cached
        exports (``quick_start``) that takes about a second, and the weights are not loaded:
        questions never need them, and they cost ~1.5 GB with CLIP ViT-B/32. Whatever needs
        them (pictures: a question with one, their ingestion) loads them then; text chunks go
        through the text model's export. Otherwise (no cached
        exports yet) the models load here and export their question encoders. With
        ``word_vectors``, the text model's word vectors (the extractive answer's) are read
        too. The cached exports, the word vectors and the vector store open side by side:
        that is mostly native work (ONNX Runtime sessions, Chroma), ~1 s saved on 2 cores."""
        text, clip = self.text, self.images.embedder
        with ThreadPoolExecutor(4, thread_name_prefix="mmrag-warm-up") as pool:
            opened = pool.submit(self._open_store)
            quick_text, quick_clip = pool.submit(text.quick_start), pool.submit(clip.quick_start)
            words = pool.submit(text.word_vectors) if word_vectors else None
            if not quick_text.result():
                if words is not None:  # first: distilling (on a cold cache) and exporting the
                    words.result()     # same model must not run at once
                text.load()
            text.embed(["warm up"])
            if quick_clip.result() or self.images.load() is not None:  # each model on its own:
                clip.embed_text(["warm up"])  # no CLIP does not load the text model
            if words is not None:
                words.result()
            settle()
            opened.result()
        self._warm_multilingual()

    def _warm_multilingual(self) -> None:
        """The multilingual model (~1 s to load), when a collection has its channel."""
        ml = self.multilingual
        try:
            if ml is not None and any(self.store.count(c, items.MULTILINGUAL_CHANNEL)
                                      for c in self.store.collections()):
                ml.embed_questions(["warm up"])
        except RagError as e:
            log.warning("the multilingual model was not warmed up: %s", e)

    def _open_store(self) -> None:
        try:
            self.store.ping()
        except RagError as e:  # serve anyway: /readyz says what is missing
            log.warning("the vector store does not answer yet: %s", e)

    @classmethod
    def from_settings(cls, settings: Settings, text_embedder: TextEmbedder | None = None,
                      clip: ImageEmbedder | None = None) -> Parts:
        """Chroma (on disk, or the server at ``chroma_url``), image copies under the data
        directory, the configured models. Pass ``text_embedder``/``clip`` to share models
        that are already loaded (several data directories in one process, tests)."""
        from rag.embedders import use
        from rag.embedders.clip import ClipEmbedder
        from rag.embedders.text import SentenceTransformerEmbedder
        from rag.store.chroma import ChromaStore
        from rag.store.lexical import SqlLexical

        bounds = settings.caches
        text = text_embedder or (
            use.UseEmbedder(settings.text_model, settings.ingest.text_batch_size,
                            bounds.question_vectors)
            if settings.text_model in use.NAMES else SentenceTransformerEmbedder(
                settings.text_model, settings.device, settings.ingest.text_batch_size,
                settings.query_runtime, settings.cache_dir, settings.precision,
                settings.openvino, bounds.question_vectors, bounds.openvino_requests))
        image = clip or ClipEmbedder(settings.clip_model, settings.device,
                                     settings.ingest.image_batch_size, settings.query_runtime,
                                     settings.cache_dir, settings.precision, settings.openvino,
                                     bounds.question_vectors, bounds.openvino_requests)
        db = Database(settings.database, settings.stale_seconds)
        return cls(ChromaStore(path=settings.chroma_dir, url=settings.chroma_url,
                               state_seconds=settings.state_seconds),
                   blob_store(settings), text, OptionalImages(image), db,
                   SqlLexical(db, settings.state_seconds),
                   multilingual_embedder(settings, text), settings.multilingual)


def multilingual_embedder(settings: Settings, text: TextEmbedder) -> TextEmbedder | None:
    """The multilingual channel's model, unless it is off or the text model is itself
    multilingual (then its own channel reads every language)."""
    from rag.embedders import use

    if settings.multilingual == "off" or getattr(text, "multilingual", False):
        return None
    if settings.multilingual_model not in use.NAMES:
        raise InvalidInput(f"MMRAG_MULTILINGUAL_MODEL {settings.multilingual_model!r}: "
                           f"known models are {', '.join(sorted(use.NAMES))}")
    return use.UseEmbedder(settings.multilingual_model, settings.ingest.text_batch_size,
                           settings.caches.question_vectors)


def blob_store(settings: Settings) -> BlobStore:
    """S3-compatible object storage for ``blobs_url=s3://bucket/prefix``, else a folder."""
    from rag.store.blobs import ImageBlobs

    url = settings.blobs_url
    if url and url.startswith("s3://"):
        from rag.store.s3blobs import S3Blobs

        return S3Blobs.from_url(url, settings.blob_cache_dir)
    if url and not url.startswith("file://") and "://" in url:
        from rag.errors import InvalidInput

        raise InvalidInput(f"MMRAG_BLOBS_URL {url!r}: use s3://bucket/prefix or a folder")
    return ImageBlobs(url.removeprefix("file://") if url else settings.images_dir)

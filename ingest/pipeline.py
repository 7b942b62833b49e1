"""The ingestion pipeline, as a story: loader threads prepare files (``prepare``: read,
decode in a decoder process, chunk, OCR), the main thread embeds whole groups in batches
(``embedding``) and hands them to the writer thread (``writer``), which writes a changed
file's new items before it removes the old ones, so the old version stays queryable until
the new one is complete and nothing already stored is lost when a file turns out to be bad.
Then the collection's score calibration is refitted."""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from rag.errors import NotFound, RagError
from rag.lazy import give_back_freed_memory
from rag.protocols import ImageEmbedder
from rag.service import RagService
from rag.settings import check_collection

from . import isolation
from .captions import Blip2Captioner, GeneratorCaptioner
from .catalog import Catalog
from .chunking import Chunker
from .embedding import embed_pictures, embed_texts, text_slices
from .loaders import kind_of
from .manifest import Document, Manifest, doc_id_for
from .ocr import RapidOcr
from .prepare import Preparer
from .records import Prepared
from .sources import FileResult, IngestReport, Source, walk
from .tags import Tagger
from .writer import Writer

__all__ = ["FileResult", "IngestReport", "Ingestor", "Source", "walk"]
VISUAL = {"image", "video", "pdf", "docx", "pptx"}  # kinds that are or hold pictures

log = logging.getLogger(__name__)
TRIM_AFTER_CHUNKS = 1000  # a run this big hands the memory it freed back to the system
TRIM_SLICE_CHUNKS = 256  # ... and so does each slice this big: a big file's peak is then one
# slice's buffers over what is held, not every slice's leftovers


class Ingestor:
    """Files in, items in the service's store. Built from a RagService: it writes through
    the same parts (store, blobs, embedders) the service reads."""

    def __init__(self, service: RagService, manifest: Manifest | None = None,
                 owner: str | None = None):
        """``owner``: the id of this process in the database (rag/store/db.py: Process), in whose
        name files are claimed; unset, a private id (enough for a single process)."""
        self.service = service
        self.settings = service.settings
        self.parts = service.parts
        self.manifest = manifest or Manifest(self.parts.db)
        self.catalog = Catalog(self.parts, self.manifest)
        self.writer = Writer(self.parts, self.manifest, self.catalog)
        cfg = self.settings.ingest
        self.chunker = Chunker(self.parts.text.new_tokenizer, cfg.chunk_size,
                               cfg.chunk_overlap, cfg.chunk_seconds)
        decoders = (isolation.shared(cfg.workers, cfg.parse_memory_bytes, cfg.parse_seconds)
                    if cfg.parse_isolation == "process" else None)
        self.tagger = Tagger(cfg.tag_labels, cfg.tag_threshold)
        captioner: Blip2Captioner | GeneratorCaptioner | None = None
        if cfg.captions and cfg.caption_generator == "blip2":
            captioner = Blip2Captioner(cfg.caption_model, self.settings.device,
                                       cfg.caption_quantization)
        elif cfg.captions:
            captioner = GeneratorCaptioner(service.generator(cfg.caption_generator))
        installed = RapidOcr.available()
        self.ocr = RapidOcr(cfg.ocr_min_confidence) if cfg.ocr != "off" and installed else None
        self.ocr_missing = cfg.ocr == "on" and not installed
        self.owner = owner or f"local-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.preparer = Preparer(cfg, self.parts, self.manifest, self.chunker, decoders,
                                 self.ocr, captioner, self.owner)

    # -- public ------------------------------------------------------------------------
    def ingest_paths(self, paths: Iterable[str | Path], collection: str = "default",
                     progress: Callable[[FileResult], None] | None = None) -> IngestReport:
        return self.ingest(list(walk(paths)), collection, progress)

    def release_claims(self, sources: list[Source], collection: str) -> None:
        """Release the claims this process still holds on these files: a run that stopped
        halfway (the database away) left them, and other processes would wait on them."""
        collection = check_collection(collection)
        self.manifest.release_all(collection, [doc_id_for(collection, s.name) for s in sources],
                                  self.owner)

    def ingest(self, sources: list[Source], collection: str = "default",
               progress: Callable[[FileResult], None] | None = None,
               read: Callable[[str], None] | None = None) -> IngestReport:
        """``progress`` hears of each file when its outcome is known (written, skipped, ...);
        ``read`` of each file as soon as it is decoded and chunked, before its group is
        embedded and written."""
        collection = check_collection(collection)
        # an engine away fails the whole run now (503 for an upload), not file by file
        self.parts.store.ping()
        self.parts.db.ping()
        t0 = time.perf_counter()
        report = IngestReport(collection)
        self.parts.text.ready()  # a missing model fails the run now
        clip = self._image_model(sources, report)

        def done(result: FileResult) -> None:
            if result.status != "claimed" and result.doc_id:
                self.manifest.release(collection, result.doc_id, self.owner)
            report.files.append(result)
            if progress:
                progress(result)

        new = self._is_new(collection)
        self._run(sources, collection, clip, done, read)
        if not self._bring_forward(collection, new) and report.count("ingested", "replaced"):
            self.catalog.refit(collection)
        report.seconds = time.perf_counter() - t0
        if report.chunks >= TRIM_AFTER_CHUNKS:
            give_back_freed_memory()
        return report

    def _is_new(self, collection: str) -> bool:
        """Whether the collection holds no passages yet (unknown: no)."""
        try:
            return not self.parts.store.count(collection, "text")
        except RagError:
            return False

    def _bring_forward(self, collection: str, new: bool) -> bool:
        """A collection from before the multilingual channel gets it (and is refitted then);
        whether it did. A store that fails here fails nothing already reported."""
        try:
            return self.catalog.bring_forward(collection, new) > 0
        except RagError as e:
            log.warning("the multilingual channel of %s was not brought forward: %s",
                        collection, e)
            return False

    def _image_model(self, sources: list[Source], report: IngestReport) -> ImageEmbedder | None:
        """CLIP, when the files may hold pictures (pages may show local images too); a note
        on the report when pictures will be skipped or not read."""
        kinds = {kind_of(s.name) for s in sources}
        if not kinds & (VISUAL | {"markdown", "html"}):
            return None
        clip = self.service.image_embedder()
        if clip is None and kinds & VISUAL:
            report.notes.append(f"images skipped: {self.service.images_error}")
        if self.ocr_missing and kinds & VISUAL:
            report.notes.append("OCR is on but its packages are not installed: pip "
                                "install 'mmrag[ocr]' (or MMRAG_INGEST__OCR=off)")
        return clip

    def _run(self, sources: list[Source], collection: str, clip: ImageEmbedder | None,
             done: Callable[[FileResult], None], read: Callable[[str], None] | None) -> None:
        """Loader threads prepare up to 4 files each ahead, in order; prepared files gather
        into groups, each embedded here and written on the writer thread."""
        group: list[Prepared] = []
        pending: list[Future] = []
        workers = self.settings.ingest.workers
        with ThreadPoolExecutor(workers, thread_name_prefix="mmrag-load") as pool, \
                ThreadPoolExecutor(1, thread_name_prefix="mmrag-write") as writer:
            window: deque[Future] = deque()
            queue = iter(sources)
            for src in queue:
                window.append(pool.submit(self.preparer.prepare, src, collection, clip))
                if len(window) >= 4 * workers:
                    break
            while window:
                item = window.popleft().result()
                nxt = next(queue, None)
                if nxt is not None:
                    window.append(pool.submit(self.preparer.prepare, nxt, collection, clip))
                if read is not None:
                    read(item.source)
                if isinstance(item, FileResult):
                    done(item)
                    continue
                group.append(item)
                if self._group_full(group):
                    self._flush(group, collection, clip, done, writer, pending)
                    group = []
            self._flush(group, collection, clip, done, writer, pending)
            for f in pending:
                f.result()

    def render_page(self, collection: str, item_id: str) -> bytes:
        """The PDF page an item was read from, as PNG: in a decoder process, like any
        decoding of a user's file."""
        found = self.catalog.item(collection, item_id)
        if not found["pdf_page"]:
            raise NotFound(f"item {item_id!r} is not from a page of a stored PDF")
        data = self.parts.blobs.read(found["file_blob"])
        pixels = self.settings.ingest.max_image_pixels
        if self.preparer.decoders is None:
            from .loaders.pdf import render_page

            return render_page(data, found["pdf_page"], pixels)
        return self.preparer.decoders.render_page(data, found["pdf_page"], pixels)

    # -- the collection's documents (see Catalog) -------------------------------------
    def documents(self, collection: str = "default") -> list[Document]:
        return self.catalog.documents(collection)

    def item(self, collection: str, item_id: str) -> dict[str, Any]:
        return self.catalog.item(collection, item_id)

    def image_file(self, collection: str, item_id: str) -> tuple[str, str]:
        return self.catalog.image_file(collection, item_id)

    def delete(self, ref: str, collection: str = "default", local_path: bool = False
               ) -> Document:
        return self.catalog.delete(ref, collection, local_path=local_path)

    def prune(self, paths: Iterable[str | Path], collection: str = "default") -> list[Document]:
        return self.catalog.prune(paths, collection)

    def collect_orphans(self) -> int:
        return self.catalog.collect_orphans()

    # -- stages ------------------------------------------------------------------------
    def _group_full(self, group: list[Prepared]) -> bool:
        cfg = self.settings.ingest
        return (sum(len(p.texts) for p in group) >= cfg.group_chunks
                or sum(p.vectors for p in group) >= cfg.image_batch_size)

    def _flush(self, group: list[Prepared], collection: str, clip: ImageEmbedder | None,
               done: Callable[[FileResult], None], writer: ThreadPoolExecutor,
               pending: list[Future]) -> None:
        """Embed a group here, slice by slice, and hand each slice to the writer thread, so
        that writing one overlaps with embedding the next. At most one slice waits to be
        written: a file of 30,000 chunks holds a slice's vectors at a time, not all of them."""
        if not group:
            return
        write = self.writer.start(group, collection, done)
        # pictures first: their tags go on the text read from them
        self._hand(writer, pending, partial(write.begin, embed_pictures(group, clip,
                                                                        self.tagger)))
        for start, end in text_slices(group, self.settings.ingest.group_chunks):
            if write.error is not None:  # a step failed: finish undoes what was written
                break
            vecs = embed_texts(group, self.parts, start, end)
            self._hand(writer, pending, partial(write.texts, start, end, vecs))
            if end - start >= TRIM_SLICE_CHUNKS:  # the last slice's buffers, written by now
                give_back_freed_memory()
        self._hand(writer, pending, write.finish)

    @staticmethod
    def _hand(writer: ThreadPoolExecutor, pending: list[Future],
              step: Callable[[], None]) -> None:
        while pending:
            pending.pop().result()
        pending.append(writer.submit(step))

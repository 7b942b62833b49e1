"""The ingestion pipeline. Loader threads read and hash files, have them decoded in a decoder
process (``isolation``), and chunk and preprocess them while the main thread embeds whole
groups in batches and hands them to the writer thread (``writer``); a changed file's new items
are written before its old ones are removed, so the old version stays queryable until the new
one is complete and nothing already stored is lost when a file turns out to be bad."""

from __future__ import annotations

import hashlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rag import items
from rag.errors import InvalidInput, NotFound, RagError, TooLarge
from rag.protocols import ImageEmbedder
from rag.service import RagService
from rag.settings import check_collection

from . import isolation
from .captions import Blip2Captioner, GeneratorCaptioner
from .chunking import Chunker
from .loaders import Limits, Loaded, Picture, kind_of, load
from .manifest import Document, Manifest, doc_id_for
from .ocr import RapidOcr
from .sources import FileResult, IngestReport, Source, walk
from .tags import Tagger
from .writer import PICTURE, Prepared, PreparedPicture, Writer

__all__ = ["FileResult", "IngestReport", "Ingestor", "Source", "walk"]
VISUAL = {"image", "video", "pdf", "docx", "pptx"}  # kinds that are or hold pictures

log = logging.getLogger(__name__)


class Ingestor:
    def __init__(self, service: RagService, manifest: Manifest | None = None):
        self.service = service
        self.settings = service.settings
        self.manifest = manifest or Manifest(service.settings.manifest_path)
        self.parts = service.parts
        self.writer = Writer(service.parts, self.manifest)
        cfg = self.settings.ingest
        self.chunker = Chunker(service.parts.text.new_tokenizer, cfg.chunk_size,
                               cfg.chunk_overlap, cfg.chunk_seconds)
        self.decoders = (isolation.shared(cfg.workers, cfg.parse_memory_bytes, cfg.parse_seconds)
                         if cfg.parse_isolation == "process" else None)
        self.tagger = Tagger(cfg.tag_labels, cfg.tag_threshold)
        self.captioner: Blip2Captioner | GeneratorCaptioner | None = None
        if cfg.captions and cfg.caption_generator == "blip2":
            self.captioner = Blip2Captioner(cfg.caption_model, self.settings.device,
                                            cfg.caption_quantization)
        elif cfg.captions:
            self.captioner = GeneratorCaptioner(service.generator(cfg.caption_generator))
        installed = RapidOcr.available()
        self.ocr = RapidOcr(cfg.ocr_min_confidence) if cfg.ocr != "off" and installed else None
        self.ocr_missing = cfg.ocr == "on" and not installed

    # -- public ------------------------------------------------------------------------
    def ingest_paths(self, paths: Iterable[str | Path], collection: str = "default",
                     progress: Callable[[FileResult], None] | None = None) -> IngestReport:
        return self.ingest(list(walk(paths)), collection, progress)

    def ingest(self, sources: list[Source], collection: str = "default",
               progress: Callable[[FileResult], None] | None = None,
               read: Callable[[str], None] | None = None) -> IngestReport:
        """``progress`` hears of each file when its outcome is known (written, skipped, ...);
        ``read`` of each file as soon as it is decoded and chunked, before its group is
        embedded and written."""
        check_collection(collection)
        t0 = time.perf_counter()
        report = IngestReport(collection)
        self.parts.text.load()
        clip: ImageEmbedder | None = None
        kinds = {kind_of(s.name) for s in sources}
        if kinds & (VISUAL | {"markdown", "html"}):  # pages may show local images too
            clip = self.service.image_embedder()
            if clip is None and kinds & VISUAL:
                report.notes.append(f"images skipped: {self.service.images_error}")
            if self.ocr_missing and kinds & VISUAL:
                report.notes.append("OCR is on but rapidocr-onnxruntime is not installed: "
                                    "pip install rapidocr-onnxruntime (or MMRAG_INGEST__OCR=off)")

        def done(result: FileResult) -> None:
            report.files.append(result)
            if progress:
                progress(result)

        group: list[Prepared] = []
        pending: list[Future] = []
        workers = self.settings.ingest.workers
        with ThreadPoolExecutor(workers, thread_name_prefix="mmrag-load") as pool, \
                ThreadPoolExecutor(1, thread_name_prefix="mmrag-write") as writer:
            window: deque[Future] = deque()
            queue = iter(sources)
            for src in queue:
                window.append(pool.submit(self._prepare, src, collection, clip))
                if len(window) >= 4 * workers:
                    break
            while window:
                item = window.popleft().result()
                nxt = next(queue, None)
                if nxt is not None:
                    window.append(pool.submit(self._prepare, nxt, collection, clip))
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
        if report.count("ingested", "replaced"):
            self.service.refit(collection)
        report.seconds = time.perf_counter() - t0
        return report

    def delete(self, ref: str, collection: str = "default", refit: bool = True,
               local_path: bool = False) -> Document:
        """Remove a source (by document id or source name) from the store, its images and
        the manifest. ``local_path``: ``ref`` may also be a path on this machine (the command
        line); over HTTP it never is, so a client's id is never probed on the server's disk."""
        check_collection(collection)
        doc = self.manifest.find(collection, ref)
        if doc is None and local_path and Path(ref).expanduser().exists():
            doc = self.manifest.find(collection, str(Path(ref).expanduser().resolve()))
        if doc is None:
            raise NotFound(f"no document {ref!r} in collection {collection!r}")
        for modality in ("text", "image"):
            self.writer.remove(collection, modality, {items.DOC_ID: doc.doc_id})
        self.manifest.remove(collection, doc.doc_id)
        if refit:
            self.service.refit(collection)
        return doc

    def prune(self, paths: Iterable[str | Path], collection: str = "default") -> list[Document]:
        """Remove documents that were ingested from under ``paths`` and whose files are gone
        (uploads, which have no path, are never pruned)."""
        check_collection(collection)
        roots = [Path(p).expanduser().resolve() for p in paths]
        gone = []
        for doc in self.manifest.list(collection):
            src = Path(doc.source)
            if not src.is_absolute() or src.exists():
                continue
            if any(src == r or r in src.parents for r in roots):
                self.delete(doc.doc_id, collection, refit=False)
                gone.append(doc)
        if gone:
            self.service.refit(collection)
        return gone

    def collect_orphans(self) -> int:
        """Stored image copies that nothing refers to any more are removed (see Writer)."""
        return self.writer.collect_orphans()

    def documents(self, collection: str = "default") -> list[Document]:
        return self.manifest.list(check_collection(collection))

    # -- stages ------------------------------------------------------------------------
    def _group_full(self, group: list[Prepared]) -> bool:
        cfg = self.settings.ingest
        return (sum(len(p.texts) for p in group) >= cfg.group_chunks
                or sum(p.vectors for p in group) >= cfg.image_batch_size)

    def _prepare(self, src: Source, collection: str,
                 clip: ImageEmbedder | None) -> Prepared | FileResult:
        """Runs in a loader thread: everything about one file except the model calls."""
        doc_id = doc_id_for(collection, src.name)
        try:
            if src.error:
                raise InvalidInput(src.error)
            kind = kind_of(src.name)
            if kind is None:
                raise InvalidInput(f"unsupported file type {Path(src.name).suffix or '(none)'!r}")
            data = src.data if src.data is not None else self._read(src.path)
            sha = hashlib.sha256(data).hexdigest()
            prev = self.manifest.get(collection, doc_id)
            if (prev and prev.status == "done" and prev.sha256 == sha
                    and self._same_models(prev, clip)):
                return FileResult(src.name, "unchanged", prev.chunks, prev.images, doc_id=doc_id)
            if kind == "image" and clip is None and self.ocr is None:
                raise InvalidInput("no image model (CLIP could not be loaded; see the note)")
            # OCR needs the full picture; without it, JPEGs decode at the model's scale
            target = clip.image_size if clip is not None and self.ocr is None else None
            limits = Limits.of(self.settings.ingest, target)
            loaded = self._load(src, data, limits)
            prep = Prepared(src.name, doc_id, sha, len(data), kind, prev, title=loaded.title)
            for text, where in loaded.parts:
                prep.texts += [(c, dict(where)) for c in self.chunker.split(text)]
            for pic in loaded.pictures:
                self._picture(prep, pic, clip)
            if not prep.texts and not prep.pictures:
                if kind == "image" and clip is None:
                    raise InvalidInput("no image model (CLIP could not be loaded; see the "
                                       "note) and no text found in the image")
                raise InvalidInput("no text content" if kind != "image" else "nothing to index")
            return prep
        except (InvalidInput, TooLarge) as e:
            return FileResult(src.name, "skipped", reason=str(e), doc_id=doc_id)
        except Exception as e:  # a loader bug must not end the batch
            log.exception("failed to prepare %s", src.name)
            return FileResult(src.name, "failed", reason=f"{type(e).__name__}: {e}", doc_id=doc_id)

    def _load(self, src: Source, data: bytes, limits: Limits) -> Loaded:
        """Decode in a decoder process (with its memory and time budget, and OCR there too),
        or here when isolation is off."""
        base = src.path.parent if src.path else None
        if self.decoders is None:
            return load(src.name, data, limits, base)
        conf = self.settings.ingest.ocr_min_confidence if self.ocr is not None else None
        return self.decoders.parse(src.name, data, limits, base, conf)

    def _picture(self, prep: Prepared, pic: Picture, clip: ImageEmbedder | None) -> None:
        """OCR, the stored copy and CLIP input for one picture (a whole image file, or an
        image inside a document). A picture with neither a vector nor text is dropped."""
        index = len(prep.pictures)
        derived: list[tuple[str, str]] = []  # (text, how it was read)
        meta: dict[str, Any] = dict(pic.meta)
        if self.ocr is not None:
            text = pic.ocr_text if pic.ocr_text is not None else self.ocr.read(pic.image).text
            if len(text.strip()) >= 3:
                derived += [(c, "ocr") for c in self.chunker.split(text)]
                meta[items.OCR_TEXT] = text[:4000]
        if self.captioner is not None:
            try:
                caption = self.captioner.caption(pic.image)
            except RagError as e:  # a failing captioner costs the caption, not the picture
                log.warning("no caption for a picture in %s: %s", prep.source, e)
                caption = ""
            if caption:
                derived += [(c, "caption") for c in self.chunker.split(caption)]
                meta[items.CAPTION] = caption[:2000]
        if clip is None and not derived:
            return
        sha = hashlib.sha256(pic.data).hexdigest()
        meta.update({items.IMAGE_SHA256: sha,
                     items.BLOB: self.parts.blobs.put(pic.data, pic.ext, sha)[1]})
        where: dict[str, Any] = {k: meta[k] for k in items.LOCATION_KEYS if k in meta}
        prep.texts += [(c, {**where, PICTURE: index, items.DERIVED_FROM: how})
                       for c, how in derived]
        prep.pictures.append(PreparedPicture(meta, clip.preprocess([pic.image]) if clip else None))

    def _read(self, path: Path | None) -> bytes:
        assert path is not None
        limit = self.settings.ingest.max_file_bytes
        size = path.stat().st_size
        if size > limit:
            raise TooLarge(f"file is {size:,} bytes, over the limit of {limit:,}")
        try:
            return path.read_bytes()
        except OSError as e:
            raise InvalidInput(f"cannot read the file: {e.strerror or e}") from e

    def _same_models(self, doc: Document, clip: ImageEmbedder | None) -> bool:
        """Whether a stored document was made with the models in use now. One stored while
        CLIP was unavailable recorded no CLIP model, so it is redone once CLIP is there."""
        if doc.text_model != self.parts.text.model_id:
            return False
        if clip is not None and doc.kind != "text":
            return doc.clip_model == clip.model_id
        return True

    def _flush(self, group: list[Prepared], collection: str, clip: ImageEmbedder | None,
               done: Callable[[FileResult], None], writer: ThreadPoolExecutor,
               pending: list[Future]) -> None:
        """Embed a group here, then hand it to the writer thread, so that writing this group
        overlaps with embedding the next. At most one group waits to be written."""
        if not group:
            return
        text_vecs = self.parts.text.embed([c for p in group for c, _ in p.texts])
        image_vecs = None
        with_pixels = [pic.pixels for p in group for pic in p.pictures if pic.pixels is not None]
        if with_pixels and clip is not None:
            import torch

            image_vecs = clip.embed_pixels(torch.cat(with_pixels))
            tags = iter(self.tagger.tag(clip, image_vecs))
            for pic in (pic for p in group for pic in p.pictures if pic.pixels is not None):
                pic.meta.update(next(tags))
        while pending:
            pending.pop().result()
        pending.append(writer.submit(self.writer.write, group, collection, text_vecs,
                                     image_vecs, done))

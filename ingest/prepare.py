"""Preparing one file for the index, everything but the model calls: read and hash it, skip
it when the manifest says it is unchanged, decode it (in a decoder process, see
``isolation``), chunk its text, read the text in its pictures (OCR, captions) and store their
copies. The ingestion pipeline runs this on loader threads; a test can call it directly."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from rag import items
from rag.errors import InvalidInput, RagError, TooLarge
from rag.parts import Parts
from rag.protocols import ImageEmbedder
from rag.sections import IngestSettings
from rag.text.terms import said

from .captions import Blip2Captioner, GeneratorCaptioner
from .chunking import Chunker
from .isolation import Decoders
from .loaders import Limits, Loaded, Picture, kind_of, load
from .loaders.base import BEFORE
from .manifest import Document, Manifest, doc_id_for
from .ocr import RapidOcr
from .records import PICTURE, Prepared, PreparedPicture
from .sources import FileResult, Source

log = logging.getLogger(__name__)
SHOWS_CHARS = 2000  # of the text read in the pictures one passage shows


class Preparer:
    def __init__(self, cfg: IngestSettings, parts: Parts, manifest: Manifest, chunker: Chunker,
                 decoders: Decoders | None, ocr: RapidOcr | None,
                 captioner: Blip2Captioner | GeneratorCaptioner | None, owner: str):
        self.cfg = cfg
        self.owner = owner  # claims are taken in this name (rag/store/db.py: Process)
        self.parts = parts
        self.manifest = manifest
        self.chunker = chunker
        self.decoders = decoders
        self.ocr = ocr
        self.captioner = captioner

    def prepare(self, src: Source, collection: str,
                clip: ImageEmbedder | None) -> Prepared | FileResult:
        """Everything about one file except the model calls: read, hash, compare with the
        manifest, decode, chunk, OCR and caption its pictures, store their copies. Returns
        the file ready to embed, or its outcome (unchanged, claimed by another process,
        skipped, failed). The document is claimed first; the caller releases the claim when
        the file's outcome is known. Safe to call from several loader threads."""
        doc_id = doc_id_for(collection, src.name)
        try:
            if src.error:
                raise InvalidInput(src.error)
            kind = kind_of(src.name)
            if kind is None:
                raise InvalidInput(f"unsupported file type {Path(src.name).suffix or '(none)'!r}")
            data = src.data if src.data is not None else self._read(src.path)
            sha = hashlib.sha256(data).hexdigest()
            if not self.manifest.claim(collection, doc_id, self.owner):
                return FileResult(src.name, "claimed", reason="another process is ingesting "
                                  "this file now", doc_id=doc_id)
            prev = self.manifest.get(collection, doc_id)  # read after the claim: current
            if (prev and prev.status == "done" and prev.sha256 == sha
                    and self.same_models(prev, clip)):
                return FileResult(src.name, "unchanged", prev.chunks, prev.images, doc_id=doc_id)
            if kind == "image" and clip is None and self.ocr is None:
                raise InvalidInput("no image model (CLIP could not be loaded; see the note)")
            # OCR needs the full picture; without it, JPEGs decode at the model's scale
            target = clip.image_size if clip is not None and self.ocr is None else None
            limits = Limits.of(self.cfg, target)
            loaded = self._load(src, data, limits)
            prep = Prepared(src.name, doc_id, sha, len(data), kind, prev, title=loaded.title)
            if kind == "pdf":  # kept, so that a citation can show the page it points at
                prep.file_blob = self.parts.blobs.put(data, ".pdf", sha)[1]
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
        conf = self.cfg.ocr_min_confidence if self.ocr is not None else None
        return self.decoders.parse(src.name, data, limits, base, conf)

    def _picture(self, prep: Prepared, pic: Picture, clip: ImageEmbedder | None) -> None:
        """OCR, the stored copy and CLIP input for one picture (a whole image file, or an
        image inside a document). A picture with neither a vector nor text is dropped."""
        index = len(prep.pictures)
        derived: list[tuple[str, str]] = []  # (text, how it was read)
        meta: dict[str, Any] = dict(pic.meta)
        before = meta.pop(BEFORE, "")
        if self.ocr is not None:
            text = pic.ocr_text if pic.ocr_text is not None else self.ocr.read(pic.image).text
            if len(text.strip()) >= 3:
                derived += [(c, "ocr") for c in self.chunker.split(text)]
                meta[items.OCR_TEXT] = text[:4000]
                shown_by(prep.texts, before, str(meta.get(items.REF, "")), text)
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
        limit = self.cfg.max_file_bytes
        size = path.stat().st_size
        if size > limit:
            raise TooLarge(f"file is {size:,} bytes, over the limit of {limit:,}")
        try:
            return path.read_bytes()
        except OSError as e:
            raise InvalidInput(f"cannot read the file: {e.strerror or e}") from e

    def same_models(self, doc: Document, clip: ImageEmbedder | None) -> bool:
        """Whether a stored document was made with the models in use now. One stored while
        CLIP was unavailable recorded no CLIP model, so it is redone once CLIP is there."""
        if doc.text_model != self.parts.text.model_id:
            return False
        if clip is not None and doc.kind != "text":
            return doc.clip_model == clip.model_id
        return True


def shown_by(texts: list[tuple[str, dict[str, Any]]], before: str, ref: str, read: str) -> None:
    """The passage of a page that shows a picture (the one holding the text just before the
    picture) keeps the text read in it (``items.SHOWS``: [[ref, text], ...], at most
    SHOWS_CHARS in all), so that an answer can use the page and its picture together."""
    tail = said(before)
    if not ref or not tail:
        return
    last = tail.rsplit(" ", 1)[-1]  # a cheap test first: a page may have many passages
    near = [(said(t), w) for t, w in texts if PICTURE not in w and last in t.lower()]
    for size in (60, 25):
        key = tail[-size:].lstrip()
        where = next((w for words, w in near if key in words), None)
        if where is not None:
            shows = json.loads(where.get(items.SHOWS, "[]"))
            room = SHOWS_CHARS - sum(len(t) for _, t in shows)
            if room > 20:
                shows.append([ref, read[:room]])
                where[items.SHOWS] = json.dumps(shows, ensure_ascii=False)
            return

"""Writing prepared files to the store: a group's items are written, then its documents
marked done. The manifest says 'writing' while items are in flight; on failure the new items
are removed and earlier manifest rows restored, so the previous version of every file stays
intact. Also the removal of items with the stored image copies nothing else refers to."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag import items
from rag.errors import RagError
from rag.parts import Parts

from .manifest import Document, Manifest
from .sources import FileResult

log = logging.getLogger(__name__)
PICTURE = "_picture"  # on a prepared text chunk: the index of the picture it was read from
ORPHAN_AGE_S = 3600  # younger copies may belong to an ingestion still under way elsewhere


@dataclass
class PreparedPicture:
    meta: dict[str, Any]  # width, height, blob, image_sha256, page/slide, ocr_text
    pixels: Any = None  # preprocessed for CLIP; None when no image model is available


@dataclass
class Prepared:
    """One file, decoded and chunked, waiting to be embedded and written."""

    source: str
    doc_id: str
    sha: str
    size: int
    kind: str
    replaces: Document | None
    # text chunks with their location; chunks read from a picture carry PICTURE: index
    texts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    pictures: list[PreparedPicture] = field(default_factory=list)
    title: str = ""

    @property
    def vectors(self) -> int:
        """Pictures that get an image vector (the others keep only their text)."""
        return sum(p.pixels is not None for p in self.pictures)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Writer:
    def __init__(self, parts: Parts, manifest: Manifest):
        self.store = parts.store
        self.blobs = parts.blobs
        self.parts = parts
        self.manifest = manifest

    def write(self, group: list[Prepared], collection: str, text_vecs: Any,
              image_vecs: Any, done: Callable[[FileResult], None]) -> None:
        """Write a group's items, then mark its documents done. The manifest says 'writing'
        while items are in flight; on failure, new items are removed and earlier manifest
        rows restored, so the previous version of every file stays intact."""
        images = self.parts.images
        text_model = self.parts.text.model_id
        clip_model = "" if images.error else images.model_id  # none: redo when it comes
        now = _now()
        docs = [Document(collection, p.doc_id, p.source, p.sha, p.size, p.kind, len(p.texts),
                         p.vectors, now, text_model, clip_model, "writing")
                for p in group]
        vectors = {d.doc_id: d.images for d in docs}
        t_ids: list[str] = []
        t_meta: list[dict[str, Any]] = []
        t_docs: list[str] = []
        i_ids: list[str] = []
        i_meta: list[dict[str, Any]] = []
        i_docs: list[str] = []
        for p in group:
            base = {items.SOURCE: p.source, items.DOC_ID: p.doc_id, items.SHA256: p.sha,
                    items.INGESTED_AT: now, items.KIND: p.kind}
            image_ids = [items.image_item_id(p.doc_id, p.sha, j) for j in range(len(p.pictures))]
            for k, (chunk, where) in enumerate(p.texts):
                meta = {**base, items.MODALITY: "text", items.CHUNK_INDEX: k,
                        items.MODEL: text_model, **({items.TITLE: p.title} if p.title else {}),
                        **where}
                j = meta.pop(PICTURE, None)
                if j is not None:  # text read from a picture links back to it and its copy
                    pic_meta = p.pictures[j].meta
                    meta.update({items.IMAGE_ID: image_ids[j], items.BLOB: pic_meta[items.BLOB],
                                 **{k: v for k, v in pic_meta.items() if items.is_tag_key(k)}})
                t_ids.append(items.text_item_id(p.doc_id, p.sha, k))
                t_meta.append(meta)
                t_docs.append(chunk)
            for j, pic in enumerate(p.pictures):
                if pic.pixels is None:
                    continue
                i_ids.append(image_ids[j])
                i_meta.append({**base, **pic.meta, items.MODALITY: "image",
                               items.CHUNK_INDEX: j, items.MODEL: clip_model})
                i_docs.append(Path(p.source).name)
            p.pictures = [PreparedPicture(pic.meta) for pic in p.pictures]  # drop the tensors
        try:
            self.manifest.put(*docs)
            self.store.upsert(collection, "text", t_ids, text_vecs, t_meta, t_docs,
                              model=text_model)
            if i_ids:
                self.store.upsert(collection, "image", i_ids, image_vecs, i_meta, i_docs,
                                  model=clip_model)
            for p in group:
                if p.replaces is not None:  # a new document has no stale items to look for
                    stale = {"$and": [{items.DOC_ID: p.doc_id},
                                      {items.SHA256: {"$ne": p.sha}}]}
                    for modality in ("text", "image"):
                        self.remove(collection, modality, stale)
            for d in docs:
                d.status = "done"
            self.manifest.put(*docs)
        except Exception as e:
            if not isinstance(e, RagError):
                log.exception("failed to write %d files", len(group))
            self._undo(group, collection, t_ids, i_ids)
            reason = str(e) if isinstance(e, RagError) else f"{type(e).__name__}: {e}"
            for p in group:
                done(FileResult(p.source, "failed", reason=reason, doc_id=p.doc_id))
            return
        for p in group:
            status = "replaced" if p.replaces else "ingested"
            done(FileResult(p.source, status, len(p.texts), vectors[p.doc_id], doc_id=p.doc_id))

    def _undo(self, group: list[Prepared], collection: str, t_ids: list[str],
              i_ids: list[str]) -> None:
        try:
            self.store.delete(collection, "text", t_ids)
            self.store.delete(collection, "image", i_ids)
            restore = [p.replaces for p in group if p.replaces is not None]
            if restore:
                self.manifest.put(*restore)
            self.manifest.remove(collection, *[p.doc_id for p in group if p.replaces is None])
        except Exception:
            log.exception("could not undo a failed write; the next ingest will redo it")

    def remove(self, collection: str, modality: str, where: dict[str, Any]) -> None:
        """Delete matching items, and stored image copies nothing else refers to."""
        store = self.store
        found, _ = store.get(collection, modality, where=where)
        if not found:
            return
        store.delete(collection, modality, [it.id for it in found])
        for rel in {str(it.metadata[items.BLOB]) for it in found if it.metadata.get(items.BLOB)}:
            if not any(store.ids(c, m, {items.BLOB: rel})
                       for c in store.collections() for m in ("image", "text")):
                self.blobs.remove(rel)

    def collect_orphans(self, min_age_s: float = ORPHAN_AGE_S) -> int:
        """Remove stored image copies that no item of any collection refers to (left by a
        process killed between storing a copy and writing its items). Copies younger than
        ``min_age_s`` are kept: another process may be about to write their items."""
        candidates = self.blobs.older_than(min_age_s)
        if not candidates:
            return 0
        store = self.store
        used = {str(it.metadata[items.BLOB]) for c in store.collections()
                for m in ("image", "text") for it in store.get(c, m)[0]
                if it.metadata.get(items.BLOB)}
        orphans = [rel for rel in candidates if rel not in used]
        for rel in orphans:
            self.blobs.remove(rel)
        if orphans:
            log.info("removed %d stored image copies that nothing refers to", len(orphans))
        return len(orphans)

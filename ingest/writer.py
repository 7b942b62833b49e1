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

from rag.errors import RagError
from rag.service import RagService

from .manifest import Document, Manifest
from .sources import FileResult

log = logging.getLogger(__name__)
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
    # text chunks with their location; chunks read from a picture carry "_picture": index
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
    def __init__(self, service: RagService, manifest: Manifest):
        self.service = service
        self.manifest = manifest

    def write(self, group: list[Prepared], collection: str, text_vecs: Any,
              image_vecs: Any, done: Callable[[FileResult], None]) -> None:
        """Write a group's items, then mark its documents done. The manifest says 'writing'
        while items are in flight; on failure, new items are removed and earlier manifest
        rows restored, so the previous version of every file stays intact."""
        svc = self.service
        text_model = svc.text_embedder.model_id
        clip_model = "" if svc.clip_error else svc.clip.model_id  # none: redo when it comes
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
            base = {"source": p.source, "doc_id": p.doc_id, "sha256": p.sha, "ingested_at": now,
                    "kind": p.kind}
            image_ids = [f"{p.doc_id}-{p.sha[:12]}-i{j}" for j in range(len(p.pictures))]
            for k, (chunk, where) in enumerate(p.texts):
                meta = {**base, "modality": "text", "chunk_index": k, "model": text_model,
                        **({"title": p.title} if p.title else {}), **where}
                j = meta.pop("_picture", None)
                if j is not None:  # text read from a picture links back to it and its copy
                    pic_meta = p.pictures[j].meta
                    meta.update(image_id=image_ids[j], blob=pic_meta["blob"],
                                **{k: v for k, v in pic_meta.items()
                                   if k == "tags" or k.startswith("tag_")})
                t_ids.append(f"{p.doc_id}-{p.sha[:12]}-t{k}")
                t_meta.append(meta)
                t_docs.append(chunk)
            for j, pic in enumerate(p.pictures):
                if pic.pixels is None:
                    continue
                i_ids.append(image_ids[j])
                i_meta.append({**base, **pic.meta, "modality": "image", "chunk_index": j,
                               "model": clip_model})
                i_docs.append(Path(p.source).name)
            p.pictures = [PreparedPicture(pic.meta) for pic in p.pictures]  # drop the tensors
        try:
            self.manifest.put(*docs)
            svc.store.upsert(collection, "text", t_ids, text_vecs, t_meta, t_docs,
                             model=text_model)
            if i_ids:
                svc.store.upsert(collection, "image", i_ids, image_vecs, i_meta, i_docs,
                                 model=clip_model)
            for p in group:
                if p.replaces is not None:  # a new document has no stale items to look for
                    stale = {"$and": [{"doc_id": p.doc_id}, {"sha256": {"$ne": p.sha}}]}
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
            self.service.store.delete(collection, "text", t_ids)
            self.service.store.delete(collection, "image", i_ids)
            restore = [p.replaces for p in group if p.replaces is not None]
            if restore:
                self.manifest.put(*restore)
            self.manifest.remove(collection, *[p.doc_id for p in group if p.replaces is None])
        except Exception:
            log.exception("could not undo a failed write; the next ingest will redo it")

    def remove(self, collection: str, modality: str, where: dict[str, Any]) -> None:
        """Delete matching items, and stored image copies nothing else refers to."""
        store = self.service.store
        items, _ = store.get(collection, modality, where=where)
        if not items:
            return
        store.delete(collection, modality, [it.id for it in items])
        for rel in {str(it.metadata["blob"]) for it in items if it.metadata.get("blob")}:
            if not any(store.ids(c, m, {"blob": rel})
                       for c in store.collections() for m in ("image", "text")):
                self.service.blobs.remove(rel)

    def collect_orphans(self, min_age_s: float = ORPHAN_AGE_S) -> int:
        """Remove stored image copies that no item of any collection refers to (left by a
        process killed between storing a copy and writing its items). Copies younger than
        ``min_age_s`` are kept: another process may be about to write their items."""
        candidates = self.service.blobs.older_than(min_age_s)
        if not candidates:
            return 0
        store = self.service.store
        used = {str(it.metadata["blob"]) for c in store.collections()
                for m in ("image", "text") for it in store.get(c, m)[0]
                if it.metadata.get("blob")}
        orphans = [rel for rel in candidates if rel not in used]
        for rel in orphans:
            (self.service.blobs.root / rel).unlink(missing_ok=True)
        if orphans:
            log.info("removed %d stored image copies that nothing refers to", len(orphans))
        return len(orphans)

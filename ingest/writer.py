"""Writing prepared files to the store: a group's items are written, then its documents
marked done. The manifest says 'writing' while items are in flight; on failure the new items
are removed and earlier manifest rows restored, so the previous version of every file stays
intact."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from rag import items
from rag.errors import RagError
from rag.parts import Parts

from . import records
from .catalog import Catalog
from .manifest import Document, Manifest
from .records import Prepared, PreparedPicture
from .sources import FileResult

log = logging.getLogger(__name__)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Writer:
    def __init__(self, parts: Parts, manifest: Manifest, catalog: Catalog):
        self.store = parts.store
        self.parts = parts
        self.manifest = manifest
        self.catalog = catalog  # removes the stale items of a replaced file

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
        text, image = records.build(group, text_model, clip_model, now)
        for p in group:
            p.pictures = [PreparedPicture(pic.meta) for pic in p.pictures]  # drop the tensors
        try:
            self.manifest.put(*docs)
            self.store.upsert(collection, "text", text.ids, text_vecs, text.metadatas,
                              text.documents, model=text_model)
            if self.parts.lexical is not None:
                self.parts.lexical.upsert(collection, text.ids, text.documents)
            if image.ids:
                self.store.upsert(collection, "image", image.ids, image_vecs, image.metadatas,
                                  image.documents, model=clip_model)
            for p in group:
                if p.replaces is not None:  # a new document has no stale items to look for
                    stale = {"$and": [{items.DOC_ID: p.doc_id},
                                      {items.SHA256: {"$ne": p.sha}}]}
                    for modality in ("text", "image"):
                        self.catalog.remove(collection, modality, stale)
            for d in docs:
                d.status = "done"
            self.manifest.put(*docs)
        except Exception as e:
            if not isinstance(e, RagError):
                log.exception("failed to write %d files", len(group))
            self._undo(group, collection, text.ids, image.ids)
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
            if self.parts.lexical is not None:
                self.parts.lexical.delete(collection, t_ids)
            self.store.delete(collection, "image", i_ids)
            restore = [p.replaces for p in group if p.replaces is not None]
            if restore:
                self.manifest.put(*restore)
            self.manifest.remove(collection, *[p.doc_id for p in group if p.replaces is None])
        except Exception:
            log.exception("could not undo a failed write; the next ingest will redo it")

"""Writing prepared files to the store: a group's items are written (its text in slices),
then its documents marked done. The manifest says 'writing' while items are in flight; a
failure while they are written removes the new items and restores the earlier manifest rows,
so the previous version of every file stays intact. Once every new item is in, nothing is
undone: the rows say 'writing' (the next ingest redoes the file) or, when the connection
broke after the database committed them, 'done' over a complete file."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from rag import items
from rag.errors import RagError
from rag.parts import Parts

from . import records
from .catalog import MODALITIES, Catalog
from .manifest import Document, Manifest
from .records import Prepared, PreparedPicture, Slice
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

    def start(self, group: list[Prepared], collection: str,
              done: Callable[[FileResult], None]) -> GroupWrite:
        return GroupWrite(self, group, collection, done)


class GroupWrite:
    """One group's write, in steps run in order on the writer thread: ``begin`` (the
    manifest says 'writing', the pictures are written), ``texts`` for each slice of its
    chunks, then ``finish`` (stale items of replaced files removed, documents marked done).
    After a failed ``begin`` or ``texts`` the rest do nothing and ``finish`` removes every
    new item and restores the earlier manifest rows, so the previous version of every file
    stays intact. A failure in ``finish`` itself undoes nothing (see the module's note).
    """

    def __init__(self, writer: Writer, group: list[Prepared], collection: str,
                 done: Callable[[FileResult], None]):
        self.w = writer
        self.group = group
        self.collection = collection
        self.done = done
        self.error: Exception | None = None
        parts = writer.parts
        self.text_model = parts.text.model_id
        self.clip_model = "" if parts.images.error else parts.images.model_id  # none: redo
        self.now = _now()
        self.docs = [Document(collection, p.doc_id, p.source, p.sha, p.size, p.kind,
                              len(p.texts), p.vectors, self.now, self.text_model,
                              self.clip_model, "writing") for p in group]

    def _step(self, fn: Callable[[], None]) -> None:
        if self.error is not None:
            return
        try:
            fn()
        except Exception as e:
            self.error = e

    def begin(self, image_vecs: Any) -> None:
        image = records.image_records(self.group, self.clip_model, self.now)
        for p in self.group:
            p.pictures = [PreparedPicture(pic.meta) for pic in p.pictures]  # drop the tensors

        def run() -> None:
            self.w.manifest.put(*self.docs)
            if image.ids:
                self.w.store.upsert(self.collection, "image", image.ids, image_vecs,
                                    image.metadatas, image.documents, model=self.clip_model)
        self._step(run)

    def texts(self, start: int, end: int, vecs: Slice) -> None:
        def run() -> None:
            text = records.text_records(self.group, self.text_model, self.now, start, end)
            store = self.w.store
            store.upsert(self.collection, "text", text.ids, vecs.text, text.metadatas,
                         text.documents, model=self.text_model)
            ml = self.w.parts.multilingual
            if ml is not None and vecs.rows:
                store.upsert(self.collection, items.MULTILINGUAL_CHANNEL,
                             [text.ids[i] for i in vecs.rows], vecs.multilingual,
                             [text.metadatas[i] for i in vecs.rows],
                             [text.documents[i] for i in vecs.rows], model=ml.model_id)
            if self.w.parts.lexical is not None:
                self.w.parts.lexical.upsert(self.collection, text.ids, text.documents)
        self._step(run)

    def finish(self) -> None:
        written = self.error is None  # every new item is in the store

        def run() -> None:
            for p in self.group:
                if p.replaces is not None:  # a new document has no stale items to look for
                    stale = {"$and": [{items.DOC_ID: p.doc_id},
                                      {items.SHA256: {"$ne": p.sha}}]}
                    for modality in MODALITIES:
                        self.w.catalog.remove(self.collection, modality, stale)
            for d in self.docs:
                d.status = "done"
            self.w.manifest.put(*self.docs)
        self._step(run)
        e = self.error
        if e is None or (written and self._landed()):
            for p, d in zip(self.group, self.docs, strict=True):
                status = "replaced" if p.replaces else "ingested"
                self.done(FileResult(p.source, status, len(p.texts), d.images,
                                     doc_id=p.doc_id))
            return
        if not isinstance(e, RagError):
            log.error("failed to write %d files", len(self.group), exc_info=e)
        if not written:
            self._undo()
        reason = str(e) if isinstance(e, RagError) else f"{type(e).__name__}: {e}"
        for p in self.group:
            self.done(FileResult(p.source, "failed", reason=reason, doc_id=p.doc_id))

    def _landed(self) -> bool:
        """Whether the rows marking the group done are in the database: a commit whose answer
        was lost may have landed. Unreadable counts as no (the file is reported failed; the
        next ingest finds it done, or 'writing' and redoes it)."""
        try:
            rows = [self.w.manifest.get(self.collection, d.doc_id) for d in self.docs]
        except Exception:
            return False
        return all(r is not None and r.status == "done" and r.sha256 == d.sha256
                   for r, d in zip(rows, self.docs, strict=True))

    def _undo(self) -> None:
        t_ids, i_ids = records.all_ids(self.group)
        try:
            self.w.store.delete(self.collection, "text", t_ids)
            self.w.store.delete(self.collection, items.MULTILINGUAL_CHANNEL, t_ids)
            if self.w.parts.lexical is not None:
                self.w.parts.lexical.delete(self.collection, t_ids)
            self.w.store.delete(self.collection, "image", i_ids)
            restore = [p.replaces for p in self.group if p.replaces is not None]
            if restore:
                self.w.manifest.put(*restore)
            self.w.manifest.remove(self.collection,
                                   *[p.doc_id for p in self.group if p.replaces is None])
        except Exception:
            log.exception("could not undo a failed write; the next ingest will redo it")

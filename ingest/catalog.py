"""The documents of a collection, as the manifest lists them, and their removal: items,
stored image copies nothing else refers to, manifest rows. Also the collection of copies
that no item refers to at all (left by a process killed mid-write)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from rag import items
from rag.errors import NotFound
from rag.parts import Parts
from rag.retrieval import calibration
from rag.settings import check_collection
from rag.store import lexical

from .manifest import Document, Manifest

log = logging.getLogger(__name__)
ORPHAN_AGE_S = 3600  # younger copies may belong to an ingestion still under way elsewhere
MODALITIES = ("text", "image", items.MULTILINGUAL_CHANNEL)
# the text collection's metadata: the multilingual model and mode its passages were brought to
MULTILINGUAL_MARK = "mmrag:multilingual"
BRING_DOCS = 50  # documents whose passages bring_forward reads (and embeds) at a time


class Catalog:
    def __init__(self, parts: Parts, manifest: Manifest):
        self.parts = parts
        self.store = parts.store
        self.blobs = parts.blobs
        self.lexical = parts.lexical
        self.manifest = manifest

    def refit(self, collection: str) -> None:
        """After a collection's items changed: its channels' score calibration, and the
        full-text index's statistics."""
        store = self.store
        clip = self.parts.images.get() if store.count(collection, "image") else None
        ml = (self.parts.multilingual
              if store.count(collection, items.MULTILINGUAL_CHANNEL) else None)
        calibration.refit(store, collection, self.parts.text, clip, ml)
        if self.lexical is not None:
            lexical.fill(self.lexical, store, collection)

    def bring_forward(self, collection: str, new: bool = False) -> int:
        """Passages written before the multilingual channel (or by a process without it, or
        under another ``multilingual`` mode) get its vectors: once per collection, marked in
        the text collection's metadata, reading the passages of a few documents at a time
        (by the manifest: a store's pages by offset cost more the further they go). A ``new``
        collection (this process wrote all of it) is only marked. Returns how many were
        embedded."""
        ml, store = self.parts.multilingual, self.store
        if ml is None or not store.count(collection, "text"):
            return 0
        mark = f"{ml.model_id}:{self.parts.multilingual_mode}"
        if store.get_meta(collection, "text").get(MULTILINGUAL_MARK) == mark:
            return 0
        added = 0
        docs = [] if new else [d.doc_id for d in self.manifest.list(collection)]
        for n in range(0, len(docs), BRING_DOCS):
            page, _ = store.get(collection, "text",
                                where={items.DOC_ID: {"$in": docs[n:n + BRING_DOCS]}})
            wanted = [page[i] for i in self.parts.multilingual_rows([it.document or ""
                                                                     for it in page])]
            have = {it.id for it in store.get(collection, items.MULTILINGUAL_CHANNEL,
                                              ids=[it.id for it in wanted])[0]} if wanted else set()
            missing = [it for it in wanted if it.id not in have]
            if missing:
                store.upsert(collection, items.MULTILINGUAL_CHANNEL, [it.id for it in missing],
                             ml.embed([it.document or "" for it in missing]),
                             [it.metadata for it in missing],
                             [it.document or "" for it in missing], model=ml.model_id)
                added += len(missing)
        store.update_meta(collection, "text", {MULTILINGUAL_MARK: mark})
        if added:
            log.info("multilingual channel of %s: %d passages embedded", collection, added)
            self.refit(collection)
        return added

    def documents(self, collection: str = "default") -> list[Document]:
        return self.manifest.list(check_collection(collection))

    def delete(self, ref: str, collection: str = "default", refit: bool = True,
               local_path: bool = False) -> Document:
        """Remove a source (by document id or source name) from the store, its images and
        the manifest. ``local_path``: ``ref`` may also be a path on this machine (the command
        line); over HTTP it never is, so a client's id is never probed on the server's disk."""
        collection = check_collection(collection)
        doc = self.manifest.find(collection, ref)
        if doc is None and local_path and Path(ref).expanduser().exists():
            doc = self.manifest.find(collection, str(Path(ref).expanduser().resolve()))
        if doc is None:
            raise NotFound(f"no document {ref!r} in collection {collection!r}")
        if doc.status == "done":  # an interrupted delete leaves a row the next ingest redoes
            self.manifest.put(replace(doc, status="writing"))
        for modality in MODALITIES:
            self.remove(collection, modality, {items.DOC_ID: doc.doc_id})
        self.manifest.remove(collection, doc.doc_id)
        if refit:
            self.refit(collection)
        return doc

    def prune(self, paths: Iterable[str | Path], collection: str = "default") -> list[Document]:
        """Remove documents that were ingested from under ``paths`` and whose files are gone
        (uploads, which have no path, are never pruned)."""
        collection = check_collection(collection)
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
            self.refit(collection)
        return gone

    def item(self, collection: str, item_id: str) -> dict[str, Any]:
        """A stored item as a citation's link shows it: its text (a passage, or the text read
        in a picture), its source and place in it, and whether it is a picture."""
        collection = check_collection(collection)
        store = self.store
        for modality in ("text", "image"):
            found, _ = store.get(collection, modality, ids=[item_id])
            if found:
                it = found[0]
                meta = it.metadata
                return {"id": it.id, "modality": modality,
                        "source": items.display_source(str(meta.get(items.SOURCE, ""))),
                        "location": items.location(meta),
                        "text": it.document if modality == "text" else
                        (meta.get(items.OCR_TEXT) or meta.get(items.CAPTION) or None),
                        "image": modality == "image" or bool(meta.get(items.IMAGE_ID)),
                        "image_id": it.id if modality == "image" else meta.get(items.IMAGE_ID),
                        "pdf_page": (int(meta[items.PAGE]) if meta.get(items.FILE_BLOB)
                                     and meta.get(items.PAGE) is not None else None),
                        "file_blob": meta.get(items.FILE_BLOB)}
        found, _ = store.get(collection, "text", where={items.IMAGE_ID: item_id}, limit=1)
        if found:  # a picture kept only for the text read in it
            meta = found[0].metadata
            return {"id": item_id, "modality": "image", "source": str(meta.get(items.SOURCE, "")),
                    "location": items.location(meta), "text": found[0].document, "image": True,
                    "image_id": item_id, "pdf_page": None, "file_blob": None}
        raise NotFound(f"no item {item_id!r} in collection {collection!r}")

    def image_file(self, collection: str, item_id: str) -> tuple[str, str]:
        """(absolute path, mime type) of a stored image item."""
        collection = check_collection(collection)
        store, blobs = self.store, self.blobs
        found, _ = store.get(collection, "image", ids=[item_id])
        if not found:  # an image stored without a vector is known by its text (OCR)
            found, _ = store.get(collection, "text", where={items.IMAGE_ID: item_id}, limit=1)
        if not found or not found[0].metadata.get(items.BLOB):
            raise NotFound(f"no image {item_id!r} in collection {collection!r}")
        rel = str(found[0].metadata[items.BLOB])
        try:
            return str(blobs.resolve(rel)), blobs.mime(rel)
        except FileNotFoundError:
            raise NotFound(f"the stored copy of image {item_id!r} is missing") from None

    def remove(self, collection: str, modality: str, where: dict[str, Any]) -> None:
        """Delete matching items, and stored image copies nothing else refers to."""
        store = self.store
        found, _ = store.get(collection, modality, where=where)
        if not found:
            return
        store.delete(collection, modality, [it.id for it in found])
        if modality == "text" and self.lexical is not None:
            self.lexical.delete(collection, [it.id for it in found])
        keys = {(k, str(it.metadata[k])) for it in found for k in items.BLOB_KEYS
                if it.metadata.get(k)}
        for key, rel in keys:
            if not any(store.ids(c, m, {key: rel})
                       for c in store.collections() for m in MODALITIES):
                self.blobs.remove(rel)

    def collect_orphans(self, min_age_s: float = ORPHAN_AGE_S) -> int:
        """Remove stored image copies that no item of any collection refers to (left by a
        process killed between storing a copy and writing its items). Copies younger than
        ``min_age_s`` are kept: another process may be about to write their items."""
        candidates = self.blobs.older_than(min_age_s)
        if not candidates:
            return 0
        store = self.store
        used = {str(it.metadata[k]) for c in store.collections()
                for m in MODALITIES for it in store.get(c, m)[0]
                for k in items.BLOB_KEYS if it.metadata.get(k)}
        orphans = [rel for rel in candidates if rel not in used]
        for rel in orphans:
            self.blobs.remove(rel)
        if orphans:
            log.info("removed %d stored image copies that nothing refers to", len(orphans))
        return len(orphans)

"""A prepared file, and the store records it becomes: ids, metadata and text of each item,
in the shape of the stored-item schema (rag/items.py). Pure data in, data out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag import items

from .manifest import Document

PICTURE = "_picture"  # on a prepared text chunk: the index of the picture it was read from


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
    file_blob: str = ""  # a PDF's stored copy: citations link to its pages

    @property
    def vectors(self) -> int:
        """Pictures that get an image vector (the others keep only their text)."""
        return sum(p.pixels is not None for p in self.pictures)


@dataclass
class Records:
    """Items of one modality, ready for ``VectorStore.upsert``."""

    ids: list[str] = field(default_factory=list)
    metadatas: list[dict[str, Any]] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)

    def add(self, item_id: str, meta: dict[str, Any], document: str) -> None:
        self.ids.append(item_id)
        self.metadatas.append(meta)
        self.documents.append(document)


def _base(p: Prepared, now: str) -> dict[str, Any]:
    return {items.SOURCE: p.source, items.DOC_ID: p.doc_id, items.SHA256: p.sha,
            items.INGESTED_AT: now, items.KIND: p.kind,
            **({items.FILE_BLOB: p.file_blob} if p.file_blob else {})}


def text_records(group: list[Prepared], text_model: str, now: str, start: int = 0,
                 end: int | None = None) -> Records:
    """Text records of the group's chunks ``start``..``end`` (counted over the whole group,
    in order), so that a big file is written in slices. Text read from a picture links back
    to it, to its stored copy and to its tags."""
    out = Records()
    end = sum(len(p.texts) for p in group) if end is None else end
    offset = 0
    for p in group:
        lo, hi = max(start - offset, 0), min(end - offset, len(p.texts))
        offset += len(p.texts)
        if lo >= hi:
            continue
        base = _base(p, now)
        for k in range(lo, hi):
            chunk, where = p.texts[k]
            meta = {**base, items.MODALITY: "text", items.CHUNK_INDEX: k,
                    items.MODEL: text_model, **({items.TITLE: p.title} if p.title else {}),
                    **where}
            j = meta.pop(PICTURE, None)
            if j is not None:
                pic_meta = p.pictures[j].meta
                meta.update({items.IMAGE_ID: items.image_item_id(p.doc_id, p.sha, j),
                             items.BLOB: pic_meta[items.BLOB],
                             **{k: v for k, v in pic_meta.items() if items.is_tag_key(k)}})
            out.add(items.text_item_id(p.doc_id, p.sha, k), meta, chunk)
    return out


def image_records(group: list[Prepared], clip_model: str, now: str) -> Records:
    """Image records of the group's pictures with pixels, in order (the order their
    embeddings come in)."""
    out = Records()
    for p in group:
        base = _base(p, now)
        for j, pic in enumerate(p.pictures):
            if pic.pixels is not None:
                out.add(items.image_item_id(p.doc_id, p.sha, j),
                        {**base, **pic.meta, items.MODALITY: "image", items.CHUNK_INDEX: j,
                         items.MODEL: clip_model}, Path(p.source).name)
    return out


def all_ids(group: list[Prepared]) -> tuple[list[str], list[str]]:
    """(text ids, image ids) every item of the group has or would have: what to remove
    when its write fails halfway."""
    return ([items.text_item_id(p.doc_id, p.sha, k) for p in group for k in range(len(p.texts))],
            [items.image_item_id(p.doc_id, p.sha, j) for p in group
             for j in range(len(p.pictures))])


@dataclass
class Slice:
    """A slice's vectors: ``text`` one row per chunk; ``multilingual`` one row per chunk
    listed in ``rows`` (positions within the slice), or None."""

    text: Any
    rows: list[int]
    multilingual: Any

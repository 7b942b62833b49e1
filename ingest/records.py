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


def build(group: list[Prepared], text_model: str, clip_model: str,
          now: str) -> tuple[Records, Records]:
    """(text records, image records) of a group, in the order of its chunks and of its
    pictures with pixels (the order the embeddings come in). Text read from a picture links
    back to it, to its stored copy and to its tags."""
    text, image = Records(), Records()
    for p in group:
        base = {items.SOURCE: p.source, items.DOC_ID: p.doc_id, items.SHA256: p.sha,
                items.INGESTED_AT: now, items.KIND: p.kind,
                **({items.FILE_BLOB: p.file_blob} if p.file_blob else {})}
        image_ids = [items.image_item_id(p.doc_id, p.sha, j) for j in range(len(p.pictures))]
        for k, (chunk, where) in enumerate(p.texts):
            meta = {**base, items.MODALITY: "text", items.CHUNK_INDEX: k,
                    items.MODEL: text_model, **({items.TITLE: p.title} if p.title else {}),
                    **where}
            j = meta.pop(PICTURE, None)
            if j is not None:
                pic_meta = p.pictures[j].meta
                meta.update({items.IMAGE_ID: image_ids[j], items.BLOB: pic_meta[items.BLOB],
                             **{k: v for k, v in pic_meta.items() if items.is_tag_key(k)}})
            text.add(items.text_item_id(p.doc_id, p.sha, k), meta, chunk)
        for j, pic in enumerate(p.pictures):
            if pic.pixels is not None:
                image.add(image_ids[j], {**base, **pic.meta, items.MODALITY: "image",
                                         items.CHUNK_INDEX: j, items.MODEL: clip_model},
                          Path(p.source).name)
    return text, image

"""Embedding a group of prepared files: its pictures in one batch of CLIP, with CLIP's
zero-shot tags added to each picture, and its text chunks in slices of the text model, so
that a file of 30,000 chunks never holds all its vectors at once."""

from __future__ import annotations

from typing import Any

from rag.parts import Parts
from rag.protocols import ImageEmbedder

from .records import Prepared, Slice
from .tags import Tagger


def embed_pictures(group: list[Prepared], clip: ImageEmbedder | None, tagger: Tagger) -> Any:
    """Vectors of the group's pictures that have pixels, in order, or None."""
    with_pixels = [pic for p in group for pic in p.pictures if pic.pixels is not None]
    if not with_pixels or clip is None:
        return None
    import torch

    image_vecs = clip.embed_pixels(torch.cat([pic.pixels for pic in with_pixels]))
    for pic, tags in zip(with_pixels, tagger.tag(clip, image_vecs), strict=True):
        pic.meta.update(tags)
    return image_vecs


def text_slices(group: list[Prepared], size: int) -> list[tuple[int, int]]:
    """(start, end) of the group's chunks, counted over the whole group, ``size`` at most
    each; one empty slice for a group without text."""
    total = sum(len(p.texts) for p in group)
    return [(i, min(i + size, total)) for i in range(0, total, size)] or [(0, 0)]


def embed_texts(group: list[Prepared], parts: Parts, start: int, end: int) -> Slice:
    """Vectors of the group's chunks ``start``..``end``: the text model's for each, the
    multilingual model's for those it embeds too (``Parts.multilingual_rows``)."""
    chunks = [c for p in group for c, _ in p.texts][start:end]
    rows = parts.multilingual_rows(chunks)
    ml = (parts.multilingual.embed([chunks[i] for i in rows])
          if rows and parts.multilingual is not None else None)
    return Slice(parts.text.embed(chunks), rows, ml)

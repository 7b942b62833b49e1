"""Embedding a group of prepared files: all their text chunks in one batch of the text model,
all their pictures in one batch of CLIP, and CLIP's zero-shot tags added to each picture."""

from __future__ import annotations

from typing import Any

from rag.protocols import ImageEmbedder, TextEmbedder

from .records import Prepared
from .tags import Tagger


def embed_group(group: list[Prepared], text: TextEmbedder, clip: ImageEmbedder | None,
                tagger: Tagger) -> tuple[Any, Any]:
    """(text vectors in the order of the group's chunks, image vectors in the order of its
    pictures that have pixels, or None)."""
    text_vecs = text.embed([c for p in group for c, _ in p.texts])
    with_pixels = [pic for p in group for pic in p.pictures if pic.pixels is not None]
    if not with_pixels or clip is None:
        return text_vecs, None
    import torch

    image_vecs = clip.embed_pixels(torch.cat([pic.pixels for pic in with_pixels]))
    for pic, tags in zip(with_pixels, tagger.tag(clip, image_vecs), strict=True):
        pic.meta.update(tags)
    return text_vecs, image_vecs

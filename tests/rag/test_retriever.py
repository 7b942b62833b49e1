"""Retrieval's logic over the in-memory fakes: channels, fusion by item, pictures found by
the text read in them, identical pictures, tag filters. Milliseconds, no models."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from rag import items
from rag.errors import InvalidInput
from rag.retriever import Retriever
from rag.schema import Query
from rag.testing.fakes import ColorImageEmbedder, HashTextEmbedder, InMemoryStore


def png(color: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (24, 16), color).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def parts():
    store, text, clip = InMemoryStore(), HashTextEmbedder(), ColorImageEmbedder()
    chunks = {"policy-t0": ("Hotels are booked through the travel portal.", {}),
              "faq-t0": ("Salaries are paid on the 25th of every month.", {}),
              "slide-t0": ("Evacuation assembly point: parking lot C",
                           {items.IMAGE_ID: "slide-i0", items.DERIVED_FROM: "ocr",
                            items.BLOB: "ab/slide.png"})}
    store.upsert("kb", "text", list(chunks), text.embed([t for t, _ in chunks.values()]),
                 [{items.SOURCE: i.split("-")[0], **m} for i, (_, m) in chunks.items()],
                 [t for t, _ in chunks.values()], model=text.model_id)
    pictures = {"slide-i0": ("white", "sign"), "chart-i0": ("red", "chart"),
                "photo-i0": ("blue", None)}
    decoded = [Image.open(io.BytesIO(png(c))) for c, _ in pictures.values()]
    store.upsert("kb", "image", list(pictures), clip.embed_pixels(clip.preprocess(decoded)),
                 [{items.SOURCE: i.split("-")[0], items.MODALITY: "image",
                   items.IMAGE_SHA256: __import__("hashlib").sha256(png(c)).hexdigest(),
                   items.OCR_TEXT: "parking lot C" if i == "slide-i0" else "",
                   **({items.tag_key(tag): True, items.TAGS: tag} if tag else {})}
                  for i, (c, tag) in pictures.items()], model=clip.model_id)
    return store, text, clip


def retriever(parts, clip=True):
    store, text, image = parts
    return Retriever(store, text, lambda: image if clip else None, 10_000_000)


def test_a_text_question_finds_its_chunk_first(parts):
    hits, timings = retriever(parts).retrieve(Query("When are salaries paid?", collection="kb"))
    assert hits[0].id == "faq-t0" and hits[0].channel == "text" and hits[0].modality == "text"
    assert hits[0].text.startswith("Salaries") and set(timings) == {"embed_ms", "search_ms",
                                                                    "fuse_ms"}


def test_text_read_from_a_picture_comes_back_as_that_picture_once(parts):
    hits, _ = retriever(parts).retrieve(Query("Where is the evacuation assembly point?",
                                              collection="kb", top_k=6))
    slide = [h for h in hits if h.source == "slide"]
    assert len(slide) == 1 and slide[0].id == "slide-i0" and slide[0].modality == "image"
    assert slide[0].channel == "ocr" and "parking lot C" in slide[0].text
    assert hits[0].id == "slide-i0"


def test_a_colour_question_finds_the_picture_through_clip_text(parts):
    hits, _ = retriever(parts).retrieve(Query("the red chart", collection="kb", top_k=3))
    top = next(h for h in hits if h.modality == "image")
    assert top.id == "chart-i0" and top.channel == "image" and top.text is None


def test_an_identical_picture_is_found_first_by_its_hash(parts):
    hits, _ = retriever(parts).retrieve(Query(image=png("blue"), collection="kb", top_k=3))
    assert hits[0].id == "photo-i0" and hits[0].channel == "exact"
    assert hits[0].calibrated_score == pytest.approx(10.0)


def test_tags_restrict_the_pictures(parts):
    hits, _ = retriever(parts).retrieve(Query("a picture", collection="kb", top_k=5,
                                              tags=["chart"]))
    assert {h.id for h in hits if h.modality == "image"} == {"chart-i0"}


def test_questions_that_cannot_be_searched_say_why(parts):
    with pytest.raises(InvalidInput, match="needs text, an image, or both"):
        retriever(parts).retrieve(Query("  ", collection="kb"))
    with pytest.raises(InvalidInput, match="needs the CLIP model"):
        retriever(parts, clip=False).retrieve(Query(image=png("red"), collection="kb"))
    with pytest.raises(InvalidInput, match="holds no images"):
        retriever(parts).retrieve(Query(image=png("red"), collection="empty"))

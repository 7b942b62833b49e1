"""Record building is pure: a prepared group in, the store's ids and metadata out."""

from __future__ import annotations

from ingest.records import PICTURE, Prepared, PreparedPicture, build
from rag import items


def test_records_follow_the_item_schema_and_link_text_read_from_pictures():
    sha = "ab" * 32
    prep = Prepared("slides/deck.pptx", "doc1", sha, 1000, "pptx", None, title="Deck")
    prep.texts = [("Welcome", {items.SLIDE: 1}),
                  ("EXIT", {items.SLIDE: 2, PICTURE: 0, items.DERIVED_FROM: "ocr"})]
    prep.pictures = [PreparedPicture({items.BLOB: "ab/x.png", items.SLIDE: 2, "tag_sign": True,
                                      items.TAGS: "sign"}, pixels=object()),
                     PreparedPicture({items.BLOB: "cd/y.png"}, pixels=None)]
    text, image = build([prep], "minilm", "clip", "2026-11-29T00:00:00+00:00")
    assert text.ids == [items.text_item_id("doc1", sha, 0), items.text_item_id("doc1", sha, 1)]
    assert text.ids[0] == f"doc1-{sha[:12]}-t0" and text.documents == ["Welcome", "EXIT"]
    first, read = text.metadatas
    assert first[items.TITLE] == "Deck" and first[items.SLIDE] == 1 and items.IMAGE_ID not in first
    assert PICTURE not in read  # the preparation's marker never reaches the store
    assert read[items.IMAGE_ID] == items.image_item_id("doc1", sha, 0) == image.ids[0]
    assert read[items.BLOB] == "ab/x.png" and read["tag_sign"] is True
    assert read[items.MODEL] == "minilm" and read[items.DERIVED_FROM] == "ocr"
    # the picture without pixels gets no image record: only its text would stand for it
    assert len(image.ids) == 1 and image.documents == ["deck.pptx"]
    assert image.metadatas[0][items.MODALITY] == "image"
    assert image.metadatas[0][items.MODEL] == "clip"

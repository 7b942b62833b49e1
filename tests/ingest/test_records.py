"""Record building is pure: a prepared group in, the store's ids and metadata out."""

from __future__ import annotations

from ingest.embedding import text_slices
from ingest.records import PICTURE, Prepared, PreparedPicture, all_ids, image_records, text_records
from rag import items


def test_records_follow_the_item_schema_and_link_text_read_from_pictures():
    sha = "ab" * 32
    prep = Prepared("slides/deck.pptx", "doc1", sha, 1000, "pptx", None, title="Deck")
    prep.texts = [("Welcome", {items.SLIDE: 1}),
                  ("EXIT", {items.SLIDE: 2, PICTURE: 0, items.DERIVED_FROM: "ocr"})]
    prep.pictures = [PreparedPicture({items.BLOB: "ab/x.png", items.SLIDE: 2, "tag_sign": True,
                                      items.TAGS: "sign"}, pixels=object()),
                     PreparedPicture({items.BLOB: "cd/y.png"}, pixels=None)]
    now = "2026-11-29T00:00:00+00:00"
    text, image = text_records([prep], "minilm", now), image_records([prep], "clip", now)
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


def test_a_group_written_in_slices_makes_the_same_records_as_written_whole():
    """A big file is embedded and written a slice of chunks at a time: the slices together
    are the whole, in order, across the files of a group."""
    group = []
    for n, count in enumerate((5, 0, 7)):
        prep = Prepared(f"f{n}.txt", f"doc{n}", f"{n}" * 64, 10, "text", None)
        prep.texts = [(f"chunk {n}.{k}", {}) for k in range(count)]
        group.append(prep)
    whole = text_records(group, "m", "now")
    assert text_slices(group, 4) == [(0, 4), (4, 8), (8, 12)]
    parts = [text_records(group, "m", "now", a, b) for a, b in text_slices(group, 4)]
    assert [i for p in parts for i in p.ids] == whole.ids == all_ids(group)[0]
    assert [m for p in parts for m in p.metadatas] == whole.metadatas
    assert [m[items.CHUNK_INDEX] for m in whole.metadatas] == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6]
    assert text_slices([Prepared("e", "e", "e" * 64, 0, "image", None)], 4) == [(0, 0)]

"""Retrieval's logic over the in-memory fakes: channels, fusion by item, pictures found by
the text read in them, identical pictures, tag filters. Milliseconds, no models."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from rag import items
from rag.errors import InvalidInput
from rag.retrieval.retriever import Retriever
from rag.schema import Query
from rag.testing.fake_embedders import ColorImageEmbedder, HashTextEmbedder
from rag.testing.fakes import InMemoryStore


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


def lexical_index(tmp_path, store):
    """The real lexical index (SQLite FTS5 in a temporary database) over the store's text."""
    from rag.store.db import Database
    from rag.store.lexical import SqlLexical

    index = SqlLexical(Database(f"sqlite:///{tmp_path / 'm.sqlite3'}"))
    found, _ = store.get("kb", "text")
    index.upsert("kb", [it.id for it in found], [it.document or "" for it in found])
    return index


def test_an_exact_name_is_found_by_the_lexical_channel(parts, tmp_path):
    store, text, image = parts
    store.upsert("kb", "text", ["cfg-t0"], text.embed(["SESSION_COOKIE_AGE Default: 1209600"]),
                 [{items.SOURCE: "settings"}], ["SESSION_COOKIE_AGE Default: 1209600"],
                 model=text.model_id)
    plain = Retriever(store, text, lambda: image, 10_000_000)
    with_words = Retriever(store, text, lambda: image, 10_000_000,
                           lexical=lexical_index(tmp_path, store))
    q = Query("what is SESSION_COOKIE_AGE by default?", collection="kb", top_k=1)
    hits, _ = with_words.retrieve(q)
    assert hits[0].stored_id == "cfg-t0" and hits[0].lexical > 0
    before = {h.stored_id: h for h in plain.retrieve(Query(q.text, collection="kb",
                                                           top_k=10))[0]}
    # one scale: the lexical share is added to the item's own cosine z-score
    assert hits[0].calibrated_score == pytest.approx(
        before["cfg-t0"].calibrated_score + hits[0].lexical)


def test_text_read_in_a_picture_is_found_by_its_words(parts, tmp_path):
    store, text, image = parts
    r = Retriever(store, text, lambda: image, 10_000_000, lexical=lexical_index(tmp_path, store))
    hits, _ = r.retrieve(Query("parking lot", collection="kb", top_k=3))
    slide = next(h for h in hits if h.id == "slide-i0")
    assert slide.modality == "image" and slide.lexical > 0 and slide.stored_id == "slide-t0"


def test_one_document_cannot_fill_the_top_k(parts):
    store, text, image = parts
    long_file = [f"Hotels are booked through the travel portal, part {i}." for i in range(6)]
    store.upsert("kb", "text", [f"notes-t{i}" for i in range(6)], text.embed(long_file),
                 [{items.SOURCE: "notes", items.DOC_ID: "notes"} for _ in long_file],
                 long_file, model=text.model_id)
    q = Query("Hotels are booked through the travel portal", collection="kb", top_k=4)
    capped = Retriever(store, text, lambda: image, 10_000_000, max_per_document=2)
    hits, _ = capped.retrieve(q)
    assert sum(h.source == "notes" for h in hits) == 2 and len(hits) == 4
    uncapped, _ = Retriever(store, text, lambda: image, 10_000_000).retrieve(q)
    assert sum(h.source == "notes" for h in uncapped) > 2


def test_a_crowded_ranking_looks_deeper_for_the_other_documents(parts, monkeypatch):
    import rag.retrieval.retriever

    store, text, image = parts
    notes = [f"Django 1.{i} drops PostgreSQL 9.{i}: Django supports PostgreSQL 9.{i + 1}."
             for i in range(20)]
    store.upsert("kb", "text", [f"rel{i}-t0" for i in range(20)], text.embed(notes),
                 [{items.SOURCE: f"docs/releases/1.{i}.txt", items.DOC_ID: f"rel{i}"}
                  for i in range(20)], notes, model=text.model_id)
    ref = "Databases: PostgreSQL 14 and higher, with psycopg."  # shares one word
    store.upsert("kb", "text", ["db-t0"], text.embed([ref]),
                 [{items.SOURCE: "docs/ref/databases.txt", items.DOC_ID: "db"}], [ref],
                 model=text.model_id)
    q = Query("Which PostgreSQL version does Django support?", collection="kb", top_k=4)
    capped = Retriever(store, text, lambda: image, 10_000_000, max_per_document=1)
    monkeypatch.setattr(rag.retrieval.retriever, "DEEPER", 1)
    shallow, _ = capped.retrieve(q)
    # the first 12 candidates are all release notes: the folder's cap has nothing to let in
    assert all("releases" in h.source for h in shallow)
    monkeypatch.setattr(rag.retrieval.retriever, "DEEPER", 4)
    deep, _ = capped.retrieve(q)
    assert "docs/ref/databases.txt" in [h.source for h in deep] and len(deep) == 4
    assert sum("releases" in h.source for h in deep) == 2  # the folder's cap: one more than 1


def test_a_knowledge_base_in_one_folder_is_capped_by_document_only(parts, monkeypatch):
    import rag.retrieval.retriever

    store, text, image = parts
    pages = [f"Travel policy page {i}: hotels are booked through the travel portal."
             for i in range(8)]
    store.upsert("flat", "text", [f"p{i}-t0" for i in range(8)], text.embed(pages),
                 [{items.SOURCE: f"/kb/p{i}.md", items.DOC_ID: f"p{i}"} for i in range(8)],
                 pages, model=text.model_id)
    asked: list[str] = []

    def folders(collection):
        asked.append(collection)
        return {"/kb": 1.0}

    searches = []
    r = Retriever(store, text, lambda: image, 10_000_000, max_per_document=1, folders=folders)
    real = store.search
    monkeypatch.setattr(store, "search", lambda *a, **k: searches.append(a[3]) or real(*a, **k))
    q = Query("How are hotels booked?", collection="flat", top_k=4)
    hits, _ = r.retrieve(q)
    # four pages of the one folder, and no deeper search: the folder cap does not apply
    assert len({h.source for h in hits}) == 4 and searches == [12]
    r.retrieve(q)
    assert asked == ["flat"]  # read once while the collection keeps its size
    capped = Retriever(store, text, lambda: image, 10_000_000, max_per_document=1,
                       folders=lambda c: {"/kb": 0.5})
    searches.clear()
    capped.retrieve(q)
    assert searches == [12, 12 * rag.retrieval.retriever.DEEPER]  # capped as a folder: crowded


def test_unavailable_folder_shares_cap_every_folder_and_the_question_is_answered(parts,
                                                                                caplog):
    from rag.errors import Unavailable

    store, text, image = parts

    def down(collection):
        raise Unavailable("the database at sqlite:///x is not reachable")

    r = Retriever(store, text, lambda: image, 10_000_000, max_per_document=1, folders=down)
    hits, _ = r.retrieve(Query("How are hotels booked?", collection="kb", top_k=2))
    assert hits and hits[0].source == "policy"
    assert "folder shares of 'kb' unavailable" in caplog.text

"""Ingestion end to end: real MiniLM, tiny CLIP, Chroma on disk."""

from pathlib import Path

import pytest

from ingest.pipeline import Ingestor, Source
from rag.embedders.clip import ClipEmbedder
from rag.errors import InvalidInput, NotFound
from rag.schema import Query
from rag.service import RagService

pytestmark = pytest.mark.slow


def by_status(report):
    out: dict[str, list[str]] = {}
    for f in report.files:
        out.setdefault(f.status, []).append(Path(f.source).name)
    return out


def counts(service, collection="default"):
    store = service.parts.store
    return store.count(collection, "text"), store.count(collection, "image")


def test_folder_ingests_texts_and_images_and_reports_bad_files(service, kb):
    report = Ingestor(service).ingest_paths([kb])
    status = by_status(report)
    assert sorted(status["ingested"]) == sorted([
        "travel-expense-policy.md", "it-security-guidelines.html", "onboarding-faq.txt",
        "office-guide.md", "red.png", "green.jpg", "blue.webp"])
    assert sorted(status["skipped"]) == ["broken.png", "empty.txt"]
    reasons = {Path(f.source).name: f.reason for f in report.problems}
    assert "not a recognisable image" in reasons["broken.png"]
    assert "empty file" in reasons["empty.txt"]
    assert report.images == 3 and report.chunks == counts(service)[0] > 4
    assert counts(service)[1] == 3

    # every item carries the metadata the issue asks for
    items, _ = service.parts.store.get("default", "text", limit=1)
    meta = items[0].metadata
    for key in ("source", "modality", "chunk_index", "sha256", "ingested_at", "model", "doc_id"):
        assert key in meta
    images, _ = service.parts.store.get("default", "image")
    assert {"width", "height", "blob", "image_sha256"} <= set(images[0].metadata)
    # a content-addressed copy exists for every image
    for it in images:
        assert service.parts.blobs.resolve(it.metadata["blob"]).is_file()
    # calibration was fitted from the stored vectors
    assert service.parts.store.get_meta("default", "text")["mmrag:bg:text:n"] > 0


def test_answers_cite_the_right_source(service, kb):
    Ingestor(service).ingest_paths([kb])
    cases = {
        "How many days do I have to submit my travel expense claim?": (
            "travel-expense-policy.md", "within 30 days"),
        "How long must my password be?": ("it-security-guidelines.html", "14 characters"),
        "When is salary paid?": ("onboarding-faq.txt", "25th of every month"),
        "Where do employees park their cars?": ("office-guide.md", "lot D"),
    }
    for question, (source, phrase) in cases.items():
        answer = service.answer(Query(text=question))
        assert answer.found, question
        assert Path(answer.citations[0].source).name == source, question
        assert phrase in answer.text, (question, answer.text)
        assert "[1]" in answer.text and answer.citations[0].cited


def test_unrelated_question_is_not_answered(service, kb):
    # the texts only: the test CLIP has random weights and a tokenizer trained afresh for each
    # session, so how well an off-topic question matches a picture is chance (in some
    # sessions a picture scored above the threshold)
    Ingestor(service).ingest_paths(sorted(kb.glob("*.*")))
    answer = service.answer(Query(text="Who won the football world cup in 1998?"))
    assert not answer.found and answer.citations == []
    assert "could not find" in answer.text
    assert answer.hits  # retrieval still shows what it looked at


def test_ingesting_twice_adds_nothing(service, kb):
    ingestor = Ingestor(service)
    ingestor.ingest_paths([kb])
    before = counts(service)
    again = ingestor.ingest_paths([kb])
    assert by_status(again).keys() == {"unchanged", "skipped"}
    assert counts(service) == before
    assert len(ingestor.documents()) == 7


def test_changed_file_replaces_its_chunks(service, kb):
    ingestor = Ingestor(service)
    ingestor.ingest_paths([kb])
    faq = kb / "onboarding-faq.txt"
    faq.write_text("Parking FAQ\n\nBicycles can be parked in the underground garage, level -2.")
    report = ingestor.ingest_paths([faq])
    assert by_status(report) == {"replaced": ["onboarding-faq.txt"]}
    items, _ = service.parts.store.get("default", "text", where={"source": str(faq.resolve())})
    assert len(items) == 1 and "underground garage" in items[0].document
    answer = service.answer(Query(text="When is salary paid?"))
    assert all(Path(c.source).name != "onboarding-faq.txt" for c in answer.citations)


def test_bad_new_version_keeps_the_old_one(service, kb):
    ingestor = Ingestor(service)
    ingestor.ingest_paths([kb])
    before = counts(service)
    (kb / "onboarding-faq.txt").write_bytes(b"\x00\x01binary now")
    report = ingestor.ingest_paths([kb / "onboarding-faq.txt"])
    assert by_status(report) == {"skipped": ["onboarding-faq.txt"]}
    assert counts(service) == before
    assert service.answer(Query(text="When is salary paid?")).found


def test_delete_removes_a_source_everywhere(service, kb):
    ingestor = Ingestor(service)
    ingestor.ingest_paths([kb])
    text_before, images_before = counts(service)
    red = str((kb / "img" / "red.png").resolve())
    items, _ = service.parts.store.get("default", "image", where={"source": red})
    blob = service.parts.blobs.root / items[0].metadata["blob"]
    doc = ingestor.delete(red)
    assert doc.images == 1 and counts(service) == (text_before, images_before - 1)
    assert not blob.exists()
    faq = ingestor.delete(str(kb / "onboarding-faq.txt"))  # by path, relative or not
    assert counts(service)[0] == text_before - faq.chunks
    assert {Path(d.source).name for d in ingestor.documents()} == {
        "travel-expense-policy.md", "it-security-guidelines.html", "office-guide.md",
        "green.jpg", "blue.webp"}
    with pytest.raises(NotFound):
        ingestor.delete(red)


def test_search_by_image_finds_that_image_and_links_its_copy(service, kb):
    ingestor = Ingestor(service)
    ingestor.ingest_paths([kb])
    green = (kb / "img" / "green.jpg").read_bytes()
    (kb / "img" / "green.jpg").unlink()  # the stored copy must not depend on the original
    hits, _ = service.retrieve(Query(image=green, top_k=3))
    assert Path(hits[0].source).name == "green.jpg" and hits[0].raw_score > 0.999
    assert hits[0].channel == "exact" and hits[0].modality == "image"
    path, mime = ingestor.image_file("default", hits[0].id)
    assert Path(path).read_bytes() == green and mime == "image/jpeg"
    # the same picture saved again (other bytes) is found by its CLIP vector
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.open(io.BytesIO(green)).save(buf, "PNG")
    hits, _ = service.retrieve(Query(image=buf.getvalue(), top_k=3))
    assert Path(hits[0].source).name == "green.jpg" and hits[0].channel == "image_query"


def test_collections_are_separate(service, kb):
    ingestor = Ingestor(service)
    ingestor.ingest_paths([kb / "office-guide.md"], collection="alpha")
    ingestor.ingest_paths([kb / "onboarding-faq.txt"], collection="beta")
    assert service.answer(Query(text="When is salary paid?", collection="beta")).found
    alpha = service.answer(Query(text="When is salary paid?", collection="alpha"))
    assert all(Path(c.source).name == "office-guide.md" for c in alpha.citations)
    with pytest.raises(InvalidInput):
        ingestor.ingest_paths([kb], collection="../etc")


def test_without_clip_text_is_still_ingested(settings, text_embedder, kb, tmp_path):
    missing = ClipEmbedder(str(tmp_path / "no-clip-here"), "cpu")
    service = RagService.from_settings(settings, text_embedder=text_embedder, clip=missing)
    report = Ingestor(service).ingest_paths([kb])
    assert len(by_status(report)["ingested"]) == 4
    assert report.notes and "MMRAG_CLIP_MODEL" in report.notes[0]
    skipped = {Path(f.source).name: f.reason for f in report.problems}
    assert "no image model" in skipped["red.png"]
    assert counts(service) == (report.chunks, 0)
    assert service.answer(Query(text="When is salary paid?")).found


def test_uploaded_bytes_and_missing_paths(service, tmp_path):
    ingestor = Ingestor(service)
    report = ingestor.ingest([Source("notes.md", data=b"# Notes\n\nThe launch date is 3 May.")])
    assert by_status(report) == {"ingested": ["notes.md"]}
    report = ingestor.ingest_paths([tmp_path / "does-not-exist"])
    assert report.files[0].status == "skipped" and "no such file" in report.files[0].reason


def test_limits_skip_oversized_files(settings, text_embedder, clip, kb):
    settings.ingest.max_file_bytes = 1000
    service = RagService.from_settings(settings, text_embedder=text_embedder, clip=clip)
    report = Ingestor(service).ingest_paths([kb / "travel-expense-policy.md"])
    assert report.files[0].status == "skipped" and "over the limit" in report.files[0].reason


def test_prune_removes_documents_whose_files_are_gone(service, kb):
    ingestor = Ingestor(service)
    ingestor.ingest_paths([kb])
    ingestor.ingest([Source("uploaded.md", data=b"# Upload\n\nUploads have no path.")])
    (kb / "office-guide.md").unlink()
    (kb / "img" / "red.png").unlink()
    gone = ingestor.prune([kb])
    assert sorted(Path(d.source).name for d in gone) == ["office-guide.md", "red.png"]
    names = {Path(d.source).name for d in ingestor.documents()}
    assert "office-guide.md" not in names and "uploaded.md" in names
    items, _ = service.parts.store.get("default", "text",
                                 where={"source": str((kb / "office-guide.md").resolve())})
    assert items == []
    answer = service.answer(Query(text="Where do employees park their cars?"))
    assert all(Path(c.source).name != "office-guide.md" for c in answer.citations)
    assert ingestor.prune([kb]) == []


def test_an_identical_picture_is_found_first_by_its_hash(service, kb):
    Ingestor(service).ingest_paths([kb])
    blue = (kb / "img" / "blue.webp").read_bytes()
    for fusion in ("raw", "calibrated", "rrf"):
        hits, _ = service.retrieve(Query(text="what colour is this?", image=blue, top_k=3,
                                         fusion=fusion))
        assert Path(hits[0].source).name == "blue.webp", fusion
        if fusion == "calibrated":  # raw may keep the image-vector hit: cosine 1.0 either way
            assert hits[0].channel == "exact"
            assert hits[0].calibrated_score == pytest.approx(10.0)


def test_pages_bring_the_local_images_they_show(service, kb):
    (kb / "page.md").write_text("# Chart page\n\n![the red chart](img/red.png)\n\n"
                                "![remote](https://example.com/x.png) ![gone](img/none.png)\n")
    (kb / "page.html").write_text('<html><body><p>Green things.</p>'
                                  '<img src="img/green.jpg" alt="g"></body></html>')
    report = Ingestor(service).ingest([Source(str(kb / "page.md"), path=kb / "page.md"),
                                       Source(str(kb / "page.html"), path=kb / "page.html")])
    assert report.images == 2 and not report.problems
    items, _ = service.parts.store.get("default", "image", where={"source": str(kb / "page.md")})
    assert [it.metadata["ref"] for it in items] == ["img/red.png"]
    hits, _ = service.retrieve(Query(image=(kb / "img" / "red.png").read_bytes(), top_k=5))
    from rag.items import location

    assert any(h.source.endswith("page.md") and location(h.metadata) == "image img/red.png"
               for h in hits)


def test_documents_stored_without_clip_are_redone_when_it_arrives(settings, text_embedder,
                                                                  clip, kb, tmp_path):
    without = RagService.from_settings(settings, text_embedder=text_embedder,
                         clip=ClipEmbedder(str(tmp_path / "no-clip"), "cpu"))
    Ingestor(without).ingest_paths([kb / "office-guide.md"])
    again = Ingestor(RagService.from_settings(settings, text_embedder=text_embedder, clip=clip))
    assert again.ingest_paths([kb / "office-guide.md"]).files[0].status == "replaced"
    assert again.ingest_paths([kb / "office-guide.md"]).files[0].status == "unchanged"


def test_orphaned_image_copies_are_collected_and_referenced_ones_kept(service, kb):
    """A process killed between storing a picture's copy and writing its items leaves a copy
    nothing refers to; collection removes it once it is old enough, and only it."""
    import os
    import time

    ingestor = Ingestor(service)
    ingestor.ingest_paths([kb])
    blobs = service.parts.blobs
    kept = blobs.older_than(-1)  # every copy that ingestion stored (and refers to)
    assert kept
    _, orphan = blobs.put(b"not referenced by any item", ".png")
    _, young = blobs.put(b"an ingestion elsewhere may still write its items", ".png")
    old = time.time() - 2 * 3600
    for rel in (*kept, orphan):
        os.utime(blobs.root / rel, (old, old))
    assert ingestor.collect_orphans() == 1
    assert not (blobs.root / orphan).exists() and (blobs.root / young).exists()
    assert all((blobs.root / rel).exists() for rel in kept)
    hits, _ = service.retrieve(Query(text="red", top_k=10))
    assert all(blobs.resolve(h.metadata["blob"]) for h in hits if h.metadata.get("blob"))


def test_a_big_file_written_in_slices_is_all_or_nothing(service, kb, monkeypatch):
    """A file of many chunks is embedded and written a slice at a time; a slice that fails
    takes the slices written before it away, and the file's previous version stays whole."""
    from rag.errors import StoreError

    ingestor = Ingestor(service)
    ingestor.ingest_paths([kb])
    service.settings.ingest.group_chunks = 2
    before = counts(service)
    faq = kb / "onboarding-faq.txt"
    faq.write_text("\n\n".join(f"Rule {n}: desk {n} is in room {n + 100}." for n in range(60)))
    real, calls = service.parts.store.upsert, []

    def third_slice_fails(collection, modality, ids, *args, **kwargs):
        calls.append(len(ids))
        if modality == "text" and len(calls) == 3:
            raise StoreError("the store went away")
        return real(collection, modality, ids, *args, **kwargs)

    monkeypatch.setattr(service.parts.store, "upsert", third_slice_fails)
    report = ingestor.ingest_paths([faq])
    assert by_status(report) == {"failed": ["onboarding-faq.txt"]}, report.files
    assert len(calls) == 3 and calls[:2] == [2, 2]  # two slices were written, then undone
    assert counts(service) == before
    assert service.answer(Query(text="When is salary paid?")).found
    monkeypatch.setattr(service.parts.store, "upsert", real)
    report = ingestor.ingest_paths([faq])
    assert by_status(report) == {"replaced": ["onboarding-faq.txt"]}
    assert report.files[0].chunks > 4
    stored, _ = service.parts.store.get("default", "text", where={"source": str(faq.resolve())})
    assert len(stored) == report.files[0].chunks  # the new version, whole, and nothing else
    assert "room 142" in service.answer(Query(text="Which room is desk 42 in?")).text


@pytest.mark.parametrize("landed", [True, False])
def test_a_lost_answer_to_the_last_commit_undoes_nothing(service, kb, monkeypatch, landed):
    """The connection breaks while the database commits the rows that mark a file done: the
    commit may have landed or not. Either way the file's items stay (before, they were
    removed under rows the database had marked done: a re-upload said 'unchanged' over a
    file with no items), and ingesting again leaves one complete copy."""
    from rag.errors import Unavailable

    ingestor = Ingestor(service)
    faq = kb / "onboarding-faq.txt"
    real = ingestor.manifest.put

    def done_answer_lost(*docs):
        if docs and docs[0].status == "done":
            if landed:
                real(*docs)
            raise Unavailable("the database closed the connection")
        real(*docs)

    monkeypatch.setattr(ingestor.manifest, "put", done_answer_lost)
    report = ingestor.ingest_paths([faq])
    monkeypatch.setattr(ingestor.manifest, "put", real)
    assert by_status(report) == ({"ingested": ["onboarding-faq.txt"]} if landed
                                 else {"failed": ["onboarding-faq.txt"]})
    doc = ingestor.manifest.find("default", str(faq.resolve()))
    assert doc is not None and doc.status == ("done" if landed else "writing")
    assert counts(service)[0] == doc.chunks > 0  # the items stayed
    again = ingestor.ingest_paths([faq])
    assert by_status(again) == ({"unchanged": ["onboarding-faq.txt"]} if landed
                                else {"replaced": ["onboarding-faq.txt"]})  # its 'writing' row
    assert counts(service)[0] == again.files[0].chunks  # one copy, whole
    assert "salary" in service.answer(Query(text="When is salary paid?")).text.lower()


def test_a_delete_cut_short_leaves_a_file_the_next_ingest_redoes(service, kb, monkeypatch):
    """The items are gone but the row could not be removed (the database went away): the row
    says 'writing', so uploading the file again ingests it (before: 'unchanged', no items)."""
    from rag.errors import Unavailable

    ingestor = Ingestor(service)
    faq = kb / "onboarding-faq.txt"
    ingestor.ingest_paths([faq])

    def away(*_):
        raise Unavailable("the database closed the connection")

    monkeypatch.setattr(ingestor.manifest, "remove", away)
    with pytest.raises(Unavailable):
        ingestor.delete(str(faq))
    monkeypatch.undo()
    assert counts(service)[0] == 0
    again = ingestor.ingest_paths([faq])
    assert by_status(again) == {"replaced": ["onboarding-faq.txt"]}
    assert counts(service)[0] == again.files[0].chunks > 0

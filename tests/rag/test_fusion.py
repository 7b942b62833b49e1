import numpy as np
import pytest

from rag.retrieval.fusion import RRF_K, Background, fit_background, fuse
from rag.schema import Hit


def hit(id_, raw, cal, channel, modality="text"):
    return Hit(id=id_, modality=modality, source=id_, raw_score=raw, calibrated_score=cal,
               score=0.0, channel=channel)


def test_background_fit_is_mean_and_std_of_cosines():
    q = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    items = np.array([[1.0, 0.0], [0.6, 0.8]], dtype=np.float32)
    bg = fit_background(q, items)
    sims = [1.0, 0.6, 0.0, 0.8]
    assert bg.mean == pytest.approx(np.mean(sims))
    assert bg.std == pytest.approx(np.std(sims))
    assert bg.n == 4
    assert bg.z(0.9) == pytest.approx((0.9 - np.mean(sims)) / np.std(sims))


def test_background_excluding_self_drops_the_diagonal():
    v = np.eye(3, dtype=np.float32)
    bg = fit_background(v, v, exclude_self=True)
    assert bg.mean == 0.0 and bg.n == 6


def test_background_round_trips_through_collection_metadata():
    bg = Background(0.2, 0.03, 99)
    assert Background.from_meta(bg.as_meta("image"), "image") == bg
    prior = Background.from_meta({}, "image")
    assert prior.n == 0 and 0.1 < prior.mean < 0.3


def test_calibrated_fusion_compares_spaces_that_raw_cannot():
    # CLIP's best image (raw 0.31) is far above its background; the text hit (raw 0.35) is an
    # ordinary match in MiniLM's space. Raw puts text first, calibrated puts the image first.
    text_bg, image_bg = Background(0.05, 0.08), Background(0.18, 0.03)
    channels = {
        "text": [hit("t1", 0.35, text_bg.z(0.35), "text")],
        "image": [hit("i1", 0.31, image_bg.z(0.31), "image", "image")],
    }
    assert [h.id for h in fuse(channels, "raw", 5)] == ["t1", "i1"]
    calibrated = fuse(channels, "calibrated", 5)
    assert [h.id for h in calibrated] == ["i1", "t1"]
    assert calibrated[0].score == pytest.approx((0.31 - 0.18) / 0.03)


def test_rrf_sums_reciprocal_ranks_and_keeps_one_entry_per_item():
    channels = {
        "image": [hit("a", 0.3, 4.0, "image", "image"), hit("b", 0.2, 1.0, "image", "image")],
        "image_query": [hit("b", 0.9, 5.0, "image_query", "image"),
                        hit("a", 0.5, 0.5, "image_query", "image")],
    }
    fused = fuse(channels, "rrf", 5)
    assert len(fused) == 2
    expected = 1 / (RRF_K + 1) + 1 / (RRF_K + 2)
    assert all(h.score == pytest.approx(expected) for h in fused)
    # the entry kept is the channel with the best calibrated evidence
    by_id = {h.id: h for h in fuse(channels, "calibrated", 5)}
    assert by_id["b"].channel == "image_query" and by_id["a"].channel == "image"


def test_top_k_and_unknown_mode():
    channels = {"text": [hit(str(i), i / 10, i, "text") for i in range(10)]}
    assert [h.id for h in fuse(channels, "calibrated", 3)] == ["9", "8", "7"]
    with pytest.raises(ValueError):
        fuse(channels, "bogus", 3)


def test_diversify_caps_a_document_and_gives_back_unused_places():
    from rag.retrieval.fusion import diversified
    from rag.schema import Hit

    def hit(i, doc):
        return Hit(id=i, modality="text", source=doc, raw_score=0.5, calibrated_score=5,
                   score=10 - len(i), channel="text", metadata={"doc_id": doc})

    ranked = [hit("a1", "a"), hit("a2", "a"), hit("a3", "a"), hit("b1", "b"), hit("a4", "a")]
    assert [h.id for h in diversified(ranked, 3, 2)[0]] == ["a1", "a2", "b1"]
    # nothing else to show: the held hits fill the places, in their order
    assert [h.id for h in diversified(ranked, 5, 2)[0]] == ["a1", "a2", "a3", "b1", "a4"]
    assert [h.id for h in diversified(ranked, 3, 0)[0]] == ["a1", "a2", "a3"]


def test_a_folder_of_text_documents_is_capped_and_a_folder_of_pictures_is_not():
    from rag.retrieval.fusion import diversified
    from rag.schema import Hit

    def hit(i, source, modality="text"):
        return Hit(id=i, modality=modality, source=source, raw_score=0.5, calibrated_score=5,
                   score=5, channel="text", metadata={"doc_id": source})

    notes = [hit(f"r{i}", f"docs/releases/{i}.txt") for i in range(5)]
    ranked = notes + [hit("ref", "docs/ref/databases.txt")]
    assert [h.id for h in diversified(ranked, 4, 2)[0]] == ["r0", "r1", "r2", "ref"]
    # without the reference page, held notes fill the places: the ranking says it is crowded
    assert diversified(ranked, 4, 2)[1] is False and diversified(notes, 4, 2)[1] is True
    # a folder that is (nearly) the whole collection is not a crowd: only documents are capped
    assert diversified(notes, 4, 2, whole={"docs/releases"}) == (notes[:4], False)
    shots = [hit(f"s{i}", f"docs/_images/{i}.png", "image") for i in range(5)]
    assert [h.id for h in diversified(shots + [hit("t", "docs/a.txt")], 4, 2)[0]] == [
        "s0", "s1", "s2", "s3"]


def test_a_picture_stored_twice_appears_once_as_its_own_file():
    # a screenshot file and the page beside it that shows the same file: one stored copy
    from rag import items

    def picture(id_, source, cal, **meta):
        h = hit(id_, 0.4, cal, "ocr", "image")
        h.source, h.metadata = source, {items.BLOB: "ab/abcd.png", **meta}
        return h

    alone = picture("f-1", "kb/images/shot.png", 5.0)
    shown = picture("p-1", "kb/page.html", 5.0, **{items.REF: "images/shot.png"})
    other = hit("t", 0.3, 4.0, "text")
    for order in ([alone, shown], [shown, alone]):
        fused = fuse({"ocr": list(order), "text": [other]}, "calibrated", 5)
        assert [h.id for h in fused] == ["f-1", "t"]
    better = picture("p-2", "kb/page.html", 6.0, **{items.REF: "images/shot.png"})
    assert [h.id for h in fuse({"ocr": [alone, better]}, "calibrated", 5)] == ["p-2"]
    # pictures with different content stay apart; text items are never merged
    apart = picture("q", "kb/other.png", 4.5)
    apart.metadata = {items.BLOB: "cd/cdef.png"}
    assert len(fuse({"ocr": [alone, apart], "text": [hit("t1", .3, 1, "text"),
                                                    hit("t2", .3, 1, "text")]},
                    "calibrated", 5)) == 4

import numpy as np
import pytest

from rag.errors import StoreError, Unavailable
from rag.store.chroma import TEXT_KEY, ChromaStore
from rag.testing.contracts.store import StoreContract, unit


class TestChromaStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path):
        return ChromaStore(tmp_path)


def test_cosine_scores_and_metadata(tmp_path):
    store = ChromaStore(tmp_path)
    vecs = unit([1, 0, 0], [1, 1, 0], [0, 0, 1])
    store.upsert("c1", "text", ["a", "b", "c"], vecs, [{"n": i} for i in range(3)],
                 ["A", "B", "C"], model="m")
    res = store.search("c1", "text", unit([1, 0, 0]), 3)[0]
    assert [r.id for r in res] == ["a", "b", "c"]
    assert [round(r.score, 4) for r in res] == [1.0, round(1 / np.sqrt(2), 4), 0.0]
    assert res[1].metadata == {"n": 1} and res[1].document == "B"
    # metadata updates (calibration) keep the cosine space
    store.update_meta("c1", "text", {"mmrag:x": 1})
    res = store.search("c1", "text", unit([0, 0, 1]), 3)[0]
    assert res[-1].score == pytest.approx(0.0, abs=1e-5)
    assert store.get_meta("c1", "text")["mmrag:x"] == 1


def test_texts_live_in_metadata_and_older_documents_still_read(tmp_path):
    store = ChromaStore(tmp_path)
    store.upsert("c1", "text", ["new"], unit([1, 0]), [{"n": 1}], ["new text"], model="m")
    raw = store._collection("c1", "text").get(ids=["new"], include=["metadatas", "documents"])
    assert raw["documents"] == [None]  # no full-text index to build on write
    assert raw["metadatas"][0] == {"n": 1, TEXT_KEY: "new text"}
    # an item written as a Chroma document (by an earlier version) reads the same way
    store._collection("c1", "text").upsert(ids=["old"], embeddings=unit([0, 1]),
                                          metadatas=[{"n": 2}], documents=["old text"])
    items, _ = store.get("c1", "text", ids=["new", "old"])
    assert {(it.id, it.document) for it in items} == {("new", "new text"), ("old", "old text")}
    assert all(TEXT_KEY not in it.metadata for it in items)
    hits = store.search("c1", "text", unit([1, 0], [0, 1]), 1)
    assert [(h[0].id, h[0].document, h[0].metadata) for h in hits] == [
        ("new", "new text", {"n": 1}), ("old", "old text", {"n": 2})]


def test_collections_are_isolated_and_persist(tmp_path):
    store = ChromaStore(tmp_path)
    store.upsert("alpha", "text", ["a"], unit([1, 0]), [{"k": 1}], model="m")
    assert store.search("beta", "text", unit([1, 0]), 5) == [[]]
    again = ChromaStore(tmp_path)
    assert again.count("alpha", "text") == 1
    assert again.collections() == ["alpha"]


def test_a_different_model_is_refused(tmp_path):
    store = ChromaStore(tmp_path)
    store.upsert("c", "text", ["a"], unit([1, 0]), [{"k": 1}], model="model-a")
    with pytest.raises(StoreError, match="model-a"):
        store.upsert("c", "text", ["b"], unit([0, 1]), [{"k": 1}], model="model-b")
    assert store.count("c", "text") == 1


def test_unreachable_chroma_server_is_a_clear_error():
    store = ChromaStore(url="http://127.0.0.1:9")
    with pytest.raises(Unavailable, match="cannot reach the Chroma server"):
        store.count("c", "text")


def test_collection_state_is_remembered_and_forgotten_on_write(tmp_path):
    """What a question asks first (does the collection exist, how many items, its
    calibration) is not asked of Chroma each time; this process's writes show at once,
    another process's within state_seconds."""
    import time

    a = ChromaStore(tmp_path, state_seconds=0.3)
    b = ChromaStore(tmp_path, state_seconds=0.3)  # another replica over the same store
    assert b.count("c", "image") == 0 and b.get_meta("c", "image") == {}
    a.upsert("c", "image", ["x"], unit([1, 0, 0]), [{"n": 1}], model="m")
    assert a.count("c", "image") == 1  # its own write: at once
    a.update_meta("c", "image", {"mmrag:bg:image:mean": 0.2})
    assert a.get_meta("c", "image")["mmrag:bg:image:mean"] == 0.2
    calls = []
    col = b.client.get_collection  # b remembers "no such collection" for a while
    b.client.get_collection = lambda *x, **k: calls.append(1) or col(*x, **k)
    assert b.count("c", "image") == 0 and not calls
    time.sleep(0.35)
    assert b.count("c", "image") == 1 and calls  # seen within state_seconds
    assert b.get_meta("c", "image")["mmrag:bg:image:mean"] == 0.2
    a.upsert("c", "image", ["y"], unit([0, 1, 0]), [{"n": 2}], model="m")
    a.delete("c", "image", ["x"])
    assert a.count("c", "image") == 1


def test_a_write_larger_than_one_slice_lands_whole(tmp_path):
    """A big document is written in slices of WRITE_BATCH items (Chroma copies each batch into
    Python lists): every item arrives, with its own vector and text."""
    from rag.store.chroma import WRITE_BATCH

    store = ChromaStore(tmp_path)
    n = 2 * WRITE_BATCH + 7
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(n, 8)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ids = [f"i{k}" for k in range(n)]
    store.upsert("big", "text", ids, vecs, [{"k": k} for k in range(n)],
                 [f"text {k}" for k in range(n)], model="m")
    assert store.count("big", "text") == n
    last = store.search("big", "text", vecs[-1:], 1)[0][0]
    assert last.id == ids[-1] and last.document == f"text {n - 1}"

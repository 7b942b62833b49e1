"""The VectorStore contract (Haystack's ``testing/document_store.py`` is the model): one
mixin per part of the protocol, and ``StoreContract`` with all of them. An implementation's
test class subclasses it (or the mixins it keeps) and gives a ``store`` fixture."""

from __future__ import annotations

import numpy as np
import pytest

from rag.errors import StoreError


def unit(*rows: list[float]) -> np.ndarray:
    v = np.array(rows, dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


class _Filled:
    """The fixtures every part of the contract uses: ``store`` (the implementation's), and
    ``filled``: four text items of collection "c"."""

    @pytest.fixture
    def store(self):  # pragma: no cover - each implementation provides its own
        raise NotImplementedError

    @pytest.fixture
    def filled(self, store):
        store.upsert("c", "text", ["a", "b", "c", "d"],
                     unit([1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 0]),
                     [{"doc_id": "d1", "sha256": "x", "n": 1},
                      {"doc_id": "d1", "sha256": "y", "n": 2},
                      {"doc_id": "d2", "sha256": "x", "n": 3},
                      {"doc_id": "d3", "n": 4}],
                     ["A", "B", "C", "D"], model="m")
        return store


class StoreSearch(_Filled):
    """``search``: cosine scores best first, one list per query vector."""

    def test_search_is_cosine_best_first_with_metadata_and_text(self, filled):
        res = filled.search("c", "text", unit([1, 0, 0]), 3)[0]
        assert [r.id for r in res] == ["a", "b", res[2].id] and res[2].id in ("c", "d")
        assert res[0].score == pytest.approx(1.0, abs=1e-5)
        assert res[1].score == pytest.approx(1 / np.sqrt(2), abs=1e-5)
        assert res[1].metadata == {"doc_id": "d1", "sha256": "y", "n": 2}
        assert res[1].document == "B"

    def test_one_result_list_per_query_vector_and_k_capped_by_count(self, filled):
        res = filled.search("c", "text", unit([1, 0, 0], [0, 0, 1]), 10)
        assert len(res) == 2 and len(res[0]) == 4 and res[1][0].id == "c"


class StoreFilters(_Filled):
    """``where`` filters: equality, ``$ne`` (matching items without the key), ``$in``,
    ``$gte``, ``$and``, in ``get``, ``ids`` and ``search``."""

    def test_filters_equality_ne_in_and(self, filled):
        def ids(where):
            return sorted(it.id for it in filled.get("c", "text", where=where)[0])

        assert ids({"doc_id": "d1"}) == ["a", "b"]
        assert ids({"n": {"$in": [1, 3]}}) == ["a", "c"]
        assert ids({"$and": [{"doc_id": "d1"}, {"sha256": {"$ne": "x"}}]}) == ["b"]
        assert ids({"n": {"$gte": 3}}) == ["c", "d"]
        assert sorted(filled.ids("c", "text", {"sha256": "x"})) == ["a", "c"]
        res = filled.search("c", "text", unit([1, 0, 0]), 5, where={"doc_id": "d2"})[0]
        assert [r.id for r in res] == ["c"]

    def test_ne_matches_items_without_the_key(self, filled):
        got = sorted(it.id for it in filled.get("c", "text", where={"sha256": {"$ne": "x"}})[0])
        assert got == ["b", "d"]


class StoreGet(_Filled):
    """``get``: by ids, with a limit, with vectors; items without text."""

    def test_get_by_ids_limit_and_vectors(self, filled):
        items, vecs = filled.get("c", "text", ids=["b", "a", "zz"])
        assert sorted(it.id for it in items) == ["a", "b"] and vecs is None
        assert {it.id: it.document for it in items} == {"a": "A", "b": "B"}
        assert len(filled.get("c", "text", limit=2)[0]) == 2
        items, vecs = filled.get("c", "text", ids=["c"], with_vectors=True)
        assert vecs.shape == (1, 3) and vecs.dtype == np.float32
        assert vecs[0] == pytest.approx(unit([0, 0, 1])[0], abs=1e-5)

    def test_items_without_text(self, store):
        store.upsert("c", "image", ["i"], unit([1, 0]), [{"blob": "ab/x.png"}], model="clip")
        items, _ = store.get("c", "image")
        assert items[0].document is None and items[0].metadata == {"blob": "ab/x.png"}


class StoreWrites(_Filled):
    """``upsert`` replaces, ``delete`` removes; vectors of another model are refused."""

    def test_upsert_replaces_and_delete_removes(self, filled):
        filled.upsert("c", "text", ["a"], unit([0, 0, 1]), [{"n": 10}], ["A2"], model="m")
        items, _ = filled.get("c", "text", ids=["a"])
        assert items[0].metadata == {"n": 10} and items[0].document == "A2"
        assert filled.count("c", "text") == 4
        filled.delete("c", "text", ["a", "b", "missing"])
        assert filled.count("c", "text") == 2
        assert [r.id for r in filled.search("c", "text", unit([0, 0, 1]), 5)[0]][0] == "c"

    def test_vectors_of_another_model_are_refused(self, filled):
        with pytest.raises(StoreError, match="'m'"):
            filled.upsert("c", "text", ["z"], unit([1, 0, 0]), [{}], ["Z"], model="other")
        assert filled.count("c", "text") == 4


class StoreCollections(_Filled):
    """Collections: unknown ones are empty, their metadata merges, they are listed and
    kept apart by name and modality."""

    def test_an_unknown_collection_is_empty_not_an_error(self, store):
        assert store.search("nope", "text", unit([1, 0]), 5) == [[]]
        assert store.get("nope", "text") == ([], None)
        assert store.count("nope", "image") == 0 and store.get_meta("nope", "text") == {}
        assert store.ids("nope", "text", {"doc_id": "x"}) == []
        store.delete("nope", "text", ["a"])  # nothing to do, no error

    def test_collection_metadata_merges_and_collections_are_listed(self, filled):
        filled.upsert("other", "image", ["i"], unit([1, 0]), [{"k": 1}], model="clip")
        filled.update_meta("c", "text", {"mmrag:bg:text:mean": 0.1})
        filled.update_meta("c", "text", {"mmrag:bg:text:std": 0.2})
        meta = filled.get_meta("c", "text")
        assert meta["mmrag:bg:text:mean"] == 0.1 and meta["mmrag:bg:text:std"] == 0.2
        assert meta["mmrag:model"] == "m"
        assert sorted(filled.collections()) == ["c", "other"]
        # metadata updates keep the cosine space
        assert filled.search("c", "text", unit([1, 0, 0]), 1)[0][0].score == pytest.approx(
            1.0, abs=1e-5)

    def test_collections_are_isolated_by_name_and_modality(self, filled):
        assert filled.count("c", "image") == 0 and filled.count("d", "text") == 0
        filled.upsert("d", "text", ["a"], unit([1, 0, 0]), [{"n": 99}], ["other"], model="m")
        assert filled.get("c", "text", ids=["a"])[0][0].metadata["n"] == 1


class StoreContract(StoreSearch, StoreFilters, StoreGet, StoreWrites, StoreCollections):
    """The whole VectorStore contract."""

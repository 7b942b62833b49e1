"""The LexicalIndex contract: what the full-text channel must do on every database. An
implementation's test class subclasses ``LexicalContract`` (or the mixins it keeps) and gives
a ``lexical`` fixture: an empty index, dropped afterwards by the fixture."""

from __future__ import annotations

import pytest

TEXTS = {
    "a": "SESSION_COOKIE_AGE Default: 1209600 (2 weeks, in seconds). The age of session "
         "cookies, in seconds.",
    "b": "SESSION_COOKIE_NAME Default: 'sessionid'. The name of the cookie to use for "
         "sessions.",
    "c": "The cache framework stores entries in memory; cookies are not involved.",
    "d": "Error E408: the upload timed out after 30 seconds.",
}


class _Filled:
    @pytest.fixture
    def lexical(self):  # pragma: no cover - each implementation provides its own
        raise NotImplementedError

    @pytest.fixture
    def filled(self, lexical):
        """Four items in "kb", one in "other"."""
        lexical.upsert("kb", list(TEXTS), list(TEXTS.values()))
        lexical.upsert("other", ["z"], ["SESSION_COOKIE_AGE appears in another collection too"])
        return lexical


class LexicalSearch(_Filled):
    """``search``: exact identifiers and error codes first, scores best first, a question of
    stop words or query syntax asks nothing."""

    def test_an_exact_identifier_ranks_its_item_first(self, filled):
        found = filled.search("kb", "What is the default of SESSION_COOKIE_AGE?", 5)
        assert found[0][0] == "a"
        assert all(score > 0 for _, score in found)
        assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)

    def test_error_codes_and_words_match(self, filled):
        assert filled.search("kb", "what does E408 mean", 5)[0][0] == "d"
        ids = [i for i, _ in filled.search("kb", "session cookies", 5)]
        assert set(ids[:2]) == {"a", "b"} and "d" not in ids

    def test_a_question_of_stop_words_or_punctuation_asks_nothing(self, filled):
        assert filled.search("kb", "what is it?", 5) == []
        assert filled.search("kb", "\" OR * NEAR( ) --", 5) == []


class LexicalCollections(_Filled):
    """Collections: apart, counted, their word frequencies; writing one leaves another's
    scores alone."""

    def test_collections_are_apart_and_counted(self, filled):
        assert filled.count("kb") == 4 and filled.count("other") == 1
        assert [i for i, _ in filled.search("other", "SESSION_COOKIE_AGE", 5)] == ["z"]
        assert filled.search("nothing-here", "SESSION_COOKIE_AGE", 5) == []
        assert filled.count("nothing-here") == 0
        freq = filled.frequencies("kb", ["session_cookie_age", "cookies", "nowhere"])
        assert freq["nowhere"] == 0 and freq["cookies"] == 3

    def test_writing_one_collection_leaves_another_collections_scores_alone(self, filled):
        before = filled.search("kb", "session cookies seconds", 5)
        filled.upsert("other", [f"n{i}" for i in range(50)],
                      [f"session cookies number {i}" for i in range(50)])
        assert filled.search("kb", "session cookies seconds", 5) == before


class LexicalWrites(_Filled):
    """``upsert`` replaces an item's text, ``delete`` removes it."""

    def test_upsert_replaces_and_delete_removes(self, filled):
        filled.upsert("kb", ["d"], ["Error E999: rewritten"])
        assert filled.count("kb") == 4
        assert filled.search("kb", "E408", 5) == []
        assert filled.search("kb", "E999", 5)[0][0] == "d"
        filled.delete("kb", ["a", "b", "missing"])
        assert filled.count("kb") == 2
        assert "a" not in [i for i, _ in filled.search("kb", "SESSION_COOKIE_AGE cookies", 5)]


class LexicalContract(LexicalSearch, LexicalCollections, LexicalWrites):
    """The whole LexicalIndex contract."""

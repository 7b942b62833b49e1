"""The lexical channel on both databases: SQLite FTS5 (BM25) and PostgreSQL full-text
search, the same behaviour asked of each."""

import pytest

from rag.db import Database
from rag.lexical import SqlLexical

TEXTS = {
    "a": "SESSION_COOKIE_AGE Default: 1209600 (2 weeks, in seconds). The age of session "
         "cookies, in seconds.",
    "b": "SESSION_COOKIE_NAME Default: 'sessionid'. The name of the cookie to use for "
         "sessions.",
    "c": "The cache framework stores entries in memory; cookies are not involved.",
    "d": "Error E408: the upload timed out after 30 seconds.",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def lexical(request, tmp_path):
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    else:
        db = Database(request.getfixturevalue("postgres").database())
    index = SqlLexical(db)
    index.upsert("kb", list(TEXTS), list(TEXTS.values()))
    index.upsert("other", ["z"], ["SESSION_COOKIE_AGE appears in another collection too"])
    yield index
    index.drop("kb")
    index.drop("other")


def test_an_exact_identifier_ranks_its_item_first(lexical):
    found = lexical.search("kb", "What is the default of SESSION_COOKIE_AGE?", 5)
    assert found[0][0] == "a"
    assert all(score > 0 for _, score in found)
    assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)


def test_error_codes_and_words_match(lexical):
    assert lexical.search("kb", "what does E408 mean", 5)[0][0] == "d"
    ids = [i for i, _ in lexical.search("kb", "session cookies", 5)]
    assert set(ids[:2]) == {"a", "b"} and "d" not in ids


def test_collections_are_apart_and_counted(lexical):
    assert lexical.count("kb") == 4 and lexical.count("other") == 1
    assert [i for i, _ in lexical.search("other", "SESSION_COOKIE_AGE", 5)] == ["z"]
    assert lexical.search("nothing-here", "SESSION_COOKIE_AGE", 5) == []
    assert lexical.count("nothing-here") == 0
    assert lexical.frequencies("kb", ["session_cookie_age", "cookies", "nowhere"])["nowhere"] == 0


def test_writing_one_collection_leaves_another_collections_scores_alone(lexical):
    before = lexical.search("kb", "session cookies seconds", 5)
    lexical.upsert("other", [f"n{i}" for i in range(50)],
                   [f"session cookies number {i}" for i in range(50)])
    assert lexical.search("kb", "session cookies seconds", 5) == before


def test_upsert_replaces_and_delete_removes(lexical):
    lexical.upsert("kb", ["d"], ["Error E999: rewritten"])
    assert lexical.count("kb") == 4
    assert lexical.search("kb", "E408", 5) == []
    assert lexical.search("kb", "E999", 5)[0][0] == "d"
    lexical.delete("kb", ["a", "b"])
    assert lexical.count("kb") == 2
    assert "a" not in [i for i, _ in lexical.search("kb", "SESSION_COOKIE_AGE cookies", 5)]


def test_a_question_of_stop_words_or_punctuation_asks_nothing(lexical):
    assert lexical.search("kb", "what is it?", 5) == []
    assert lexical.search("kb", "\" OR * NEAR( ) --", 5) == []


def test_counts_are_remembered_and_forgotten_on_write(lexical, monkeypatch):
    assert lexical.frequencies("kb", ["cookies"]) == {"cookies": 3}
    asked = []
    real = lexical.db.begin
    monkeypatch.setattr(lexical.db, "begin", lambda: asked.append(1) or real())
    assert lexical.frequencies("kb", ["cookies"]) == {"cookies": 3} and lexical.count("kb") == 4
    assert len(asked) == 1  # the count was asked once; the frequency not again
    lexical.upsert("kb", ["e"], ["more cookies"])  # this process's write: forgotten at once
    assert lexical.frequencies("kb", ["cookies"]) == {"cookies": 4} and lexical.count("kb") == 5


def test_the_most_common_words_are_not_searched_for(lexical, monkeypatch):
    import rag.lexical as mod

    monkeypatch.setattr(mod, "COMMON_MIN", 1)
    monkeypatch.setattr(mod, "COMMON", 0.5)  # "seconds" is in 2 of 4 items: kept
    assert lexical.search("kb", "seconds", 5)
    monkeypatch.setattr(mod, "COMMON", 0.3)  # now too common to rank by
    assert lexical.search("kb", "seconds", 5) == []
    assert lexical.search("kb", "seconds E408", 5)[0][0] == "d"

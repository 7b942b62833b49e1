"""The shared database: migrations, the manifest and its claims, processes, on SQLite and on a
real PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
import sqlalchemy as sa

from ingest.manifest import Document, Manifest
from rag.errors import Unavailable
from rag.store.db import Database, Process, engine_url, processes

OLD_SCHEMA = """
CREATE TABLE documents (collection TEXT NOT NULL, doc_id TEXT NOT NULL, source TEXT NOT NULL,
    sha256 TEXT NOT NULL, size INTEGER NOT NULL, kind TEXT NOT NULL,
    chunks INTEGER NOT NULL DEFAULT 0, images INTEGER NOT NULL DEFAULT 0,
    ingested_at TEXT NOT NULL, text_model TEXT NOT NULL, clip_model TEXT NOT NULL,
    status TEXT NOT NULL, PRIMARY KEY (collection, doc_id));
CREATE INDEX documents_source ON documents (collection, source);
"""


def doc(doc_id: str, status: str = "done") -> Document:
    return Document("default", doc_id, f"/kb/{doc_id}.md", "ab" * 32, 10, "markdown", 2, 0,
                    "2026-11-29T00:00:00+00:00", "minilm", "", status)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    if request.param == "sqlite":
        return Database(f"sqlite:///{tmp_path}/mmrag.db", stale_seconds=2)
    return Database(request.getfixturevalue("postgres").database(), stale_seconds=2)


def test_a_plain_postgresql_url_uses_psycopg():
    assert engine_url("postgresql://u@h:5432/d") == "postgresql+psycopg://u@h:5432/d"
    assert engine_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert engine_url("postgresql+psycopg2://u@h/d") == "postgresql+psycopg2://u@h/d"


def test_an_existing_sqlite_manifest_is_migrated_with_its_rows(tmp_path):
    path = tmp_path / "manifest.sqlite3"
    with sqlite3.connect(path) as c:
        c.executescript(OLD_SCHEMA)
        c.execute("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                  tuple(doc("old").as_dict().values()))
    db = Database(f"sqlite:///{path}")
    assert Manifest(db).list("default") == [doc("old")]
    with db.begin() as c:
        assert c.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0004"
        assert set(sa.inspect(c).get_table_names()) >= {"documents", "claims", "jobs",
                                                        "processes"}


def test_manifest_rows(db):
    m = Manifest(db)
    m.put(doc("a", "writing"), doc("b"))
    m.put(doc("a"))  # replaced in place
    assert [d.doc_id for d in m.list("default")] == ["a", "b"]
    assert m.get("default", "a").status == "done" and m.get("other", "a") is None
    assert m.find("default", "/kb/b.md").doc_id == "b"
    m.remove("default", "a")
    assert [d.doc_id for d in m.list()] == ["b"]


def test_folder_shares_count_the_documents_that_hold_text(db):
    from dataclasses import replace

    from rag.store.db import folder_shares

    m = Manifest(db)
    m.put(doc("a"), doc("b"), doc("c"), replace(doc("r1"), source="/kb/releases/1.txt"),
          replace(doc("pic"), source="/kb/photos/p.png", chunks=0, images=1))
    assert folder_shares(db, "default") == {"/kb": 0.75, "/kb/releases": 0.25}
    assert folder_shares(db, "other") == {}


def test_claims_are_exclusive_and_lapse_with_their_process(db):
    m = Manifest(db)
    first = Process(db, "ingest", heartbeat_seconds=0.2).start()
    second = Process(db, "ingest", heartbeat_seconds=0.2).start()
    try:
        assert m.claim("default", "a", first.id)
        assert m.claim("default", "a", first.id)  # again, by the same owner
        assert not m.claim("default", "a", second.id)
        m.release("default", "a", first.id)
        assert m.claim("default", "a", second.id)
        # a process that stops beating (another machine, gone): its claim lapses
        assert m.claim("default", "b", first.id)
        first._stop.set()
        with db.begin() as c:
            c.execute(processes.update().where(processes.c.id == first.id)
                      .values(heartbeat_at=time.time() - 10, host="elsewhere"))
        assert m.claim("default", "b", second.id)
    finally:
        first.stop()
        second.stop()


def test_one_claim_wins_among_many_at_once(db):
    m = Manifest(db)
    procs = [Process(db, "ingest").start() for _ in range(6)]
    won: list[str] = []
    barrier = threading.Barrier(len(procs))

    def race(p: Process) -> None:
        barrier.wait()
        if m.claim("default", "same", p.id):
            won.append(p.id)

    threads = [threading.Thread(target=race, args=(p,)) for p in procs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in procs:
        p.stop()
    assert len(won) == 1


def test_an_unreachable_database_is_unavailable(tmp_path):
    from tests.engines import free_port

    db = Database(f"postgresql://postgres@127.0.0.1:{free_port()}/nothing")
    with pytest.raises(Unavailable, match="database at postgresql\\+psycopg://postgres@"):
        Manifest(db).list()

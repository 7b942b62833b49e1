"""The manifest: one row per ingested source file and collection, in SQLite next to the
store. A row is 'writing' while its vectors are being replaced and 'done' after, so an
interrupted run is redone, never reported as complete."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    collection TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    source TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    kind TEXT NOT NULL,
    chunks INTEGER NOT NULL DEFAULT 0,
    images INTEGER NOT NULL DEFAULT 0,
    ingested_at TEXT NOT NULL,
    text_model TEXT NOT NULL,
    clip_model TEXT NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (collection, doc_id)
);
CREATE INDEX IF NOT EXISTS documents_source ON documents (collection, source);
"""


def doc_id_for(collection: str, source: str) -> str:
    """Stable per (collection, source): a changed file keeps its id, so it replaces itself."""
    return hashlib.sha256(f"{collection}\0{source}".encode()).hexdigest()[:20]


@dataclass
class Document:
    collection: str
    doc_id: str
    source: str
    sha256: str
    size: int
    kind: str
    chunks: int
    images: int
    ingested_at: str
    text_model: str
    clip_model: str
    status: str

    def as_dict(self) -> dict:
        return asdict(self)


class Manifest:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._conn() as c:
            c.executescript(SCHEMA)
            c.execute("PRAGMA journal_mode=WAL")  # readers (the server) never block a writer

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = sqlite3.connect(self.path, timeout=30)
            try:
                conn.row_factory = sqlite3.Row
                with conn:  # one transaction
                    yield conn
            finally:
                conn.close()

    def get(self, collection: str, doc_id: str) -> Document | None:
        with self._conn() as c:
            row = c.execute("SELECT * FROM documents WHERE collection=? AND doc_id=?",
                            (collection, doc_id)).fetchone()
        return Document(**dict(row)) if row else None

    def find(self, collection: str, ref: str) -> Document | None:
        """By document id or by source path."""
        with self._conn() as c:
            row = c.execute(
                "SELECT * FROM documents WHERE collection=? AND (doc_id=? OR source=?)",
                (collection, ref, ref),
            ).fetchone()
        return Document(**dict(row)) if row else None

    def list(self, collection: str | None = None) -> list[Document]:
        with self._conn() as c:
            if collection is None:
                rows = c.execute("SELECT * FROM documents ORDER BY collection, source").fetchall()
            else:
                rows = c.execute("SELECT * FROM documents WHERE collection=? ORDER BY source",
                                 (collection,)).fetchall()
        return [Document(**dict(r)) for r in rows]

    def put(self, *docs: Document) -> None:
        """Insert or replace rows, all in one transaction."""
        with self._conn() as c:
            c.executemany(
                "INSERT OR REPLACE INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [(d.collection, d.doc_id, d.source, d.sha256, d.size, d.kind, d.chunks,
                  d.images, d.ingested_at, d.text_model, d.clip_model, d.status) for d in docs],
            )

    def remove(self, collection: str, *doc_ids: str) -> None:
        with self._conn() as c:
            c.executemany("DELETE FROM documents WHERE collection=? AND doc_id=?",
                          [(collection, d) for d in doc_ids])

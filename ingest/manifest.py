"""The manifest: one row per ingested source file and collection, in the shared database
(rag/store/db.py). A row is 'writing' while its vectors are being replaced and 'done' after, so an
interrupted run is redone, never reported as complete, whichever process ran it."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import sqlalchemy as sa

from rag.store.db import Database, claims, live_processes, reap_local
from rag.store.db import documents as T


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
    """Rows of ``documents`` in the shared database, and the claims that keep two processes
    from ingesting one document at the same time."""

    def __init__(self, db: Database):
        self.db = db

    def get(self, collection: str, doc_id: str) -> Document | None:
        with self.db.begin() as c:
            row = c.execute(sa.select(T).where(T.c.collection == collection,
                                                T.c.doc_id == doc_id)).mappings().first()
        return Document(**row) if row else None

    def find(self, collection: str, ref: str) -> Document | None:
        """By document id or by source path."""
        with self.db.begin() as c:
            row = c.execute(sa.select(T).where(
                T.c.collection == collection,
                sa.or_(T.c.doc_id == ref, T.c.source == ref))).mappings().first()
        return Document(**row) if row else None

    def list(self, collection: str | None = None) -> list[Document]:
        q = sa.select(T)
        q = (q.order_by(T.c.collection, T.c.source) if collection is None
             else q.where(T.c.collection == collection).order_by(T.c.source))
        with self.db.begin() as c:
            return [Document(**r) for r in c.execute(q).mappings()]

    def put(self, *docs: Document) -> None:
        """Insert or replace rows, all in one transaction."""
        if not docs:
            return
        with self.db.begin() as c:
            for d in docs:
                c.execute(T.delete().where(T.c.collection == d.collection,
                                           T.c.doc_id == d.doc_id))
            c.execute(T.insert(), [d.as_dict() for d in docs])

    def remove(self, collection: str, *doc_ids: str) -> None:
        if not doc_ids:
            return
        with self.db.begin() as c:
            c.execute(T.delete().where(T.c.collection == collection, T.c.doc_id.in_(doc_ids)))

    def claim(self, collection: str, doc_id: str, owner: str) -> bool:
        """Take the document for ``owner``; False while a live process holds it. A claim of
        a process that stopped beating lapses."""
        now = time.time()
        with self.db.begin() as c:
            # RETURNING, not rowcount: psycopg reports -1 rows for these statements
            if c.execute(self.db.insert_ignore(claims, {
                    "collection": collection, "doc_id": doc_id, "owner": owner,
                    "claimed_at": now}).returning(claims.c.owner)).first() is not None:
                return True
            reap_local(c)
            taken = c.execute(claims.update().where(
                claims.c.collection == collection, claims.c.doc_id == doc_id,
                sa.or_(claims.c.owner == owner,
                       claims.c.owner.not_in(live_processes(self.db))),
            ).values(owner=owner, claimed_at=now).returning(claims.c.owner)).first()
        return taken is not None

    def release_all(self, collection: str, doc_ids: Sequence[str], owner: str) -> None:
        """Release whatever claims ``owner`` still holds on these documents (a run that
        stopped halfway, the database away, left them)."""
        with self.db.begin() as c:
            for start in range(0, len(doc_ids), 500):
                c.execute(claims.delete().where(claims.c.collection == collection,
                                                claims.c.doc_id.in_(doc_ids[start:start + 500]),
                                                claims.c.owner == owner))

    def release(self, collection: str, doc_id: str, owner: str) -> None:
        with self.db.begin() as c:
            c.execute(claims.delete().where(claims.c.collection == collection,
                                            claims.c.doc_id == doc_id, claims.c.owner == owner))

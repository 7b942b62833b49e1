"""The lexical channel: full-text search over the stored text items (passages, OCR and
captions) beside the vectors, in the database the deployment already has. Exact names, error
codes and config keys match here even where the embedding space blurs them.

- SQLite (the embedded default): one FTS5 table per collection, ranked by BM25, so one
  collection's words never change another's scores. Identifiers such as
  ``SESSION_COOKIE_AGE`` stay one token; words are Porter-stemmed.
- PostgreSQL: one table with a generated English ``tsvector`` and a GIN index (migration
  0003), ranked by ``ts_rank_cd``, which weighs each collection's rows on their own.

Scores are higher-is-better in both; they are only compared within one question's results
(see rag/retrieval/retriever.py). Words most items hold are not searched for (``COMMON``)."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Sequence

import sqlalchemy as sa

from rag.protocols import LexicalIndex, VectorStore
from rag.store.db import Database
from rag.text.language import HAN_CHARS
from rag.text.terms import index_text, query_words

log = logging.getLogger(__name__)
BATCH = 500
# Words held by more than this share of a collection's items (and by at least COMMON_MIN
# items) are left out of the query: their BM25 weight is small (ln 4 at 25% against ~7 for a
# name in a dozen items), while ranking every item that holds one cost 24-30 ms on 10,000-
# 18,000 passages. At 10% the Django docs lost "default" (12% of passages) and 5 of 91
# answers; at 25% they keep it.
COMMON = 0.25
COMMON_MIN = 50
# ... and so are words held by more than this many items: at a million passages a word in 25%
# of them is 250,000 postings for BM25 to rank, while one in 20,000 already weighs only ln 50
MAX_POSTINGS = 20_000
# Item counts and word frequencies only weigh words and pick the commonest out: they are
# remembered this long (seconds) even when collection state is asked for more often, since
# counting reads the index (a million passages: ~0.3 s the rows, ~16 ms a word in half of them).
STATS_SECONDS = 60.0
KNOWN_MAX = 100_000  # words remembered per process before the memory is cleared
_PG_WORD = re.compile(f"[a-z0-9{HAN_CHARS}]+")


def fill(index: LexicalIndex, store: VectorStore, collection: str) -> None:
    """A collection written before the lexical index existed (or by a process without it) is
    indexed in full, once: its row count differs from the store's."""
    if index.count(collection) == store.count(collection, "text"):
        return
    found, _ = store.get(collection, "text")
    index.upsert(collection, [it.id for it in found], [it.document or "" for it in found])
    log.info("lexical index of %s: %d items", collection, len(found))


class SqlLexical:
    """Item counts and word frequencies are remembered for ``STATS_SECONDS`` (at least
    ``state_seconds``; not at all when it is 0); this process's writes forget them at once,
    as ChromaStore's collection state."""

    def __init__(self, db: Database, state_seconds: float = 2.0):
        self.db = db
        self.state_seconds = state_seconds
        # state_seconds 0 asks for everything fresh, these too
        self.stats_seconds = max(state_seconds, STATS_SECONDS) if state_seconds > 0 else 0.0
        self._made: set[str] = set()
        self._lock = threading.Lock()
        self._known: dict[tuple[str, str], tuple[int, float]] = {}  # (collection, word|"")

    def _remember(self, collection: str, word: str, value: int) -> int:
        if len(self._known) >= KNOWN_MAX:
            self._known.clear()
        self._known[(collection, word)] = (value, time.monotonic() + self.stats_seconds)
        return value

    def _recall(self, collection: str, word: str) -> int | None:
        value, until = self._known.get((collection, word), (0, 0.0))
        return value if time.monotonic() < until else None

    def _forget(self, collection: str) -> None:
        for key in [k for k in self._known if k[0] == collection]:
            self._known.pop(key, None)

    @property
    def _pg(self) -> bool:
        return self.db.dialect == "postgresql"

    def _table(self, conn: sa.Connection, collection: str, create: bool) -> str | None:
        """The SQLite table of a collection (created on its first write), or None."""
        name = "lexical_" + collection.encode().hex()
        if name in self._made:
            return name
        if create:
            with self._lock:
                conn.execute(sa.text(
                    f"CREATE VIRTUAL TABLE IF NOT EXISTS {name} USING fts5(item_id UNINDEXED, "
                    "body, tokenize=\"porter unicode61 tokenchars '_'\")"))
                self._made.add(name)
            return name
        exists = conn.execute(sa.text("SELECT 1 FROM sqlite_master WHERE name = :n"),
                              {"n": name}).first()
        if exists:
            self._made.add(name)
        return name if exists else None

    def upsert(self, collection: str, ids: Sequence[str], texts: Sequence[str]) -> None:
        rows = [{"c": collection, "i": i, "b": index_text(t)}
                for i, t in zip(ids, texts, strict=True)]
        if not rows:
            return
        self._forget(collection)
        with self.db.begin() as conn:
            table = "lexical" if self._pg else self._table(conn, collection, create=True)
            for n in range(0, len(rows), BATCH):
                part = rows[n:n + BATCH]
                self._delete(conn, collection, [r["i"] for r in part])
                if self._pg:
                    conn.execute(sa.text("INSERT INTO lexical (collection, item_id, body) "
                                         "VALUES (:c, :i, :b)"), part)
                else:
                    conn.execute(sa.text(f"INSERT INTO {table} (item_id, body) "
                                         "VALUES (:i, :b)"), part)

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        self._forget(collection)
        if ids:
            with self.db.begin() as conn:
                for n in range(0, len(ids), BATCH):
                    self._delete(conn, collection, list(ids[n:n + BATCH]))

    def _delete(self, conn: sa.Connection, collection: str, ids: list[str]) -> None:
        if self._pg:
            sql = "DELETE FROM lexical WHERE collection = :c AND item_id IN :ids"
        else:
            table = self._table(conn, collection, create=False)
            if table is None:
                return
            sql = f"DELETE FROM {table} WHERE item_id IN :ids"
        conn.execute(sa.text(sql).bindparams(sa.bindparam("ids", expanding=True)),
                     {"c": collection, "ids": ids})

    def drop(self, collection: str) -> None:
        self._forget(collection)
        with self.db.begin() as conn:
            if self._pg:
                conn.execute(sa.text("DELETE FROM lexical WHERE collection = :c"),
                             {"c": collection})
            elif (table := self._table(conn, collection, create=False)) is not None:
                conn.execute(sa.text(f"DELETE FROM {table}"))

    def count(self, collection: str) -> int:
        known = self._recall(collection, "")
        if known is not None:
            return known
        with self.db.begin() as conn:
            if self._pg:
                sql = "SELECT count(*) FROM lexical WHERE collection = :c"
            elif (table := self._table(conn, collection, create=False)) is not None:
                # FTS5's own row table: counting the index itself reads all of it (a million
                # passages: 300 ms against 8)
                sql = f"SELECT count(*) FROM {table}_docsize"
            else:
                return 0
            n = int(conn.execute(sa.text(sql), {"c": collection}).scalar_one())
        return self._remember(collection, "", n)

    def frequencies(self, collection: str, words: Sequence[str]) -> dict[str, int]:
        """How many items of the collection hold each word (as the index reads words)."""
        out: dict[str, int] = {}
        for w in words:
            known = self._recall(collection, w)
            if known is not None:
                out[w] = known
        words = [w for w in words if w not in out]
        if not words:
            return out
        with self.db.begin() as conn:
            table = None if self._pg else self._table(conn, collection, create=False)
            for w in words:
                if self._pg:
                    parts = _PG_WORD.findall(w.lower())
                    if not parts:
                        continue
                    sql = ("SELECT count(*) FROM lexical WHERE collection = :c AND "
                           "tsv @@ to_tsquery('english', :q)")
                    q = " & ".join(parts)
                elif table is None:
                    out[w] = 0
                    continue
                else:
                    sql = f"SELECT count(*) FROM {table} WHERE {table} MATCH :q"
                    q = '"' + w.replace('"', "") + '"'
                out[w] = self._remember(collection, w, int(
                    conn.execute(sa.text(sql), {"q": q, "c": collection}).scalar_one()))
        return out

    def search(self, collection: str, text: str, k: int) -> list[tuple[str, float]]:
        """The ``k`` best items for any of the question's words: (id, score), best first."""
        words = query_words(text)
        if not words or k <= 0:
            return []
        limit = min(max(COMMON * self.count(collection), COMMON_MIN), MAX_POSTINGS)
        df = self.frequencies(collection, words)
        words = [w for w in words if 0 < df.get(w, 0) <= limit]
        if not words:
            return []
        with self.db.begin() as conn:
            if self._pg:
                parts = sorted({p for w in words for p in _PG_WORD.findall(w)})
                if not parts:
                    return []
                sql = ("SELECT item_id, ts_rank_cd(tsv, q) AS s FROM lexical, "
                       "to_tsquery('english', :q) q WHERE collection = :c AND tsv @@ q "
                       "ORDER BY s DESC, item_id LIMIT :k")
                q = " | ".join(parts)
            else:
                table = self._table(conn, collection, create=False)
                if table is None:
                    return []
                sql = (f"SELECT item_id, -bm25({table}) AS s FROM {table} WHERE {table} "
                       f"MATCH :q ORDER BY bm25({table}), item_id LIMIT :k")
                q = " OR ".join(f'"{w}"' for w in words)
            rows = conn.execute(sa.text(sql), {"q": q, "c": collection, "k": k}).all()
        return [(str(i), float(s)) for i, s in rows]

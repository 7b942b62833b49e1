"""lexical: Chinese indexed as words. Rows written before held a run of Han characters as one
token; each row with Chinese in it is rewritten as the index now reads text
(rag/text/terms.index_text: the run cut into its words), on PostgreSQL and in every SQLite FTS5
table alike. Rows without Chinese are not touched.

Revision ID: 0004
Revises: 0003"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BATCH = 500


def _rewrite(conn: sa.Connection, page: str, update: str, first: dict) -> None:
    """Page through the rows by key (``page`` takes the last row's key and returns the next
    BATCH rows, key columns first) and rewrite those with Chinese in them."""
    from rag.text.terms import HAN, index_text

    after = first
    while rows := conn.execute(sa.text(page), after).mappings().all():
        changed = [{**row, "body": index_text(row["body"])} for row in rows
                   if row["body"] and HAN.search(row["body"])]
        if changed:
            conn.execute(sa.text(update), changed)
        after = {k: v for k, v in rows[-1].items() if k != "body"}


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        _rewrite(conn, "SELECT collection, item_id, body FROM lexical WHERE (collection, "
                 f"item_id) > (:collection, :item_id) ORDER BY collection, item_id LIMIT {BATCH}",
                 "UPDATE lexical SET body = :body WHERE collection = :collection AND "
                 "item_id = :item_id", {"collection": "", "item_id": ""})
        return
    tables = conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                  "name LIKE 'lexical\\_%' ESCAPE '\\' AND sql LIKE '%fts5%'"))
    for (name,) in tables.all():
        _rewrite(conn, f"SELECT rowid AS k, body FROM {name} WHERE rowid > :k ORDER BY rowid "
                 f"LIMIT {BATCH}", f"UPDATE {name} SET body = :body WHERE rowid = :k", {"k": 0})


def downgrade() -> None:
    pass  # words with spaces between them index no worse for the old code

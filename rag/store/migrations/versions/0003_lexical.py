"""lexical: the full-text index beside the vectors on PostgreSQL, one row per stored text
item, with a generated English tsvector and a GIN index. On SQLite each collection gets an
FTS5 table of its own when it is first written (rag/store/lexical.py), so BM25's statistics stay
per collection; there is nothing to create here.

Revision ID: 0003
Revises: 0002"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE TABLE lexical (collection text NOT NULL, item_id text NOT NULL, "
                   "body text NOT NULL, tsv tsvector GENERATED ALWAYS AS "
                   "(to_tsvector('english', body)) STORED, PRIMARY KEY (collection, item_id))")
        op.execute("CREATE INDEX lexical_tsv ON lexical USING gin (tsv)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE lexical")

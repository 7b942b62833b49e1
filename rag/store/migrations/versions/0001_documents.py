"""documents: the manifest, one row per ingested file and collection.

Revision ID: 0001
Revises:
An existing manifest (the SQLite file of earlier versions, same table) is adopted as it is."""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "documents" in sa.inspect(op.get_bind()).get_table_names():
        return  # a manifest made before migrations: the same schema, kept with its rows
    op.create_table(
        "documents",
        sa.Column("collection", sa.Text, primary_key=True),
        sa.Column("doc_id", sa.Text, primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("chunks", sa.Integer, nullable=False, server_default="0"),
        sa.Column("images", sa.Integer, nullable=False, server_default="0"),
        sa.Column("ingested_at", sa.Text, nullable=False),
        sa.Column("text_model", sa.Text, nullable=False),
        sa.Column("clip_model", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
    )
    op.create_index("documents_source", "documents", ["collection", "source"])


def downgrade() -> None:
    op.drop_table("documents")

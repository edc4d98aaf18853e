"""Document versions (every write of a document kept, sealed like the document), and
what a call's round of document generation needs: its id, its kinds, when it began.

Revision ID: 0007_tenant
Revises: 0006_tenant
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0007_tenant"
down_revision = "0006_tenant"
branch_labels = None
depends_on = None


def upgrade() -> None:
    uuid = pg.UUID(as_uuid=True)
    ts = sa.DateTime(timezone=True)
    op.add_column("calls", sa.Column("generation_id", uuid, nullable=True))
    op.add_column("calls", sa.Column("generation_kinds", pg.ARRAY(sa.String(16)), nullable=True))
    op.add_column("calls", sa.Column("generating_since", ts, nullable=True))
    op.create_table(
        "document_versions",
        sa.Column("id", uuid, nullable=False),
        sa.Column("document_id", uuid, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("markdown", sa.LargeBinary, nullable=False),
        sa.Column("structured", sa.LargeBinary, nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("author_id", uuid, nullable=True),
        sa.Column("created_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_document_versions"),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            ondelete="CASCADE",
            name="fk_document_versions_document_id_documents",
        ),
        sa.UniqueConstraint(
            "document_id", "version", name="uq_document_versions_document_id_version"
        ),
    )


def downgrade() -> None:
    op.drop_table("document_versions")
    for column in ("generating_since", "generation_kinds", "generation_id"):
        op.drop_column("calls", column)

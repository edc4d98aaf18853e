"""Integrations (Linear, Notion, signed webhooks), the pushes made to them, and the map
from task items to what they became there.

Revision ID: 0004_tenant
Revises: 0003_tenant
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0004_tenant"
down_revision = "0003_tenant"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, referred: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{referred}.id"], ondelete="CASCADE", name=f"fk_{table}_{column}_{referred}"
    )


def upgrade() -> None:
    uuid = pg.UUID(as_uuid=True)
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "integrations",
        sa.Column("id", uuid, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("config", sa.LargeBinary, nullable=False),
        sa.Column("credential", sa.LargeBinary, nullable=False),
        sa.Column("credential_hint", sa.String(32), nullable=False),
        sa.Column("created_by", uuid, nullable=False),
        sa.Column("created_at", ts, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_integrations"),
    )
    op.create_table(
        "integration_pushes",
        sa.Column("id", uuid, nullable=False),
        sa.Column("integration_id", uuid, nullable=False),
        sa.Column("document_id", uuid, nullable=False),
        sa.Column("document_version", sa.Integer, nullable=False),
        sa.Column("item_count", sa.Integer, nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("prepared_by", uuid, nullable=False),
        sa.Column("prepared_at", ts, nullable=False),
        sa.Column("confirmed_by", uuid, nullable=True),
        sa.Column("confirmed_at", ts, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("finished_at", ts, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_integration_pushes"),
        _fk("integration_pushes", "integration_id", "integrations"),
        _fk("integration_pushes", "document_id", "documents"),
    )
    op.create_index("ix_integration_pushes_document_id", "integration_pushes", ["document_id"])
    op.create_table(
        "integration_links",
        sa.Column("id", uuid, nullable=False),
        sa.Column("integration_id", uuid, nullable=False),
        sa.Column("document_id", uuid, nullable=False),
        sa.Column("external_ids", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", ts, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_integration_links"),
        _fk("integration_links", "integration_id", "integrations"),
        _fk("integration_links", "document_id", "documents"),
        sa.UniqueConstraint(
            "integration_id", "document_id", name="uq_integration_links_integration_id_document_id"
        ),
    )


def downgrade() -> None:
    op.drop_table("integration_links")
    op.drop_table("integration_pushes")
    op.drop_table("integrations")

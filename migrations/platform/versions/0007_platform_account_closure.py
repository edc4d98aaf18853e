"""Account closure and purge: grace dates on accounts, each purge's stages, deletion
certificates, and data export download links.

Revision ID: 0007_platform
Revises: 0006_platform
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0007_platform"
down_revision = "0006_platform"
branch_labels = None
depends_on = None

S = "platform"


def _account_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id"],
        [f"{S}.accounts.id"],
        ondelete="CASCADE",
        name=f"fk_{table}_account_id_accounts",
    )


def upgrade() -> None:
    for column in ("closed_at", "purge_after", "purged_at"):
        op.add_column("accounts", sa.Column(column, sa.DateTime(timezone=True)), schema=S)
    uuid = pg.UUID(as_uuid=True)
    op.create_table(
        "purges",
        sa.Column("account_id", uuid, nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("facts", pg.JSONB, nullable=False, server_default="{}"),
        sa.PrimaryKeyConstraint("account_id", "stage", name="pk_purges"),
        _account_fk("purges"),
        schema=S,
    )
    op.create_table(
        "deletion_certificates",
        sa.Column("account_id", uuid, nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", pg.JSONB, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("account_id", name="pk_deletion_certificates"),
        _account_fk("deletion_certificates"),
        schema=S,
    )
    op.create_table(
        "export_links",
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("account_id", uuid, nullable=False),
        sa.Column("export_id", uuid, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name="pk_export_links"),
        _account_fk("export_links"),
        schema=S,
    )
    op.create_index("ix_export_links_account_id", "export_links", ["account_id"], schema=S)


def downgrade() -> None:
    op.drop_table("export_links", schema=S)
    op.drop_table("deletion_certificates", schema=S)
    op.drop_table("purges", schema=S)
    for column in ("purged_at", "purge_after", "closed_at"):
        op.drop_column("accounts", column, schema=S)

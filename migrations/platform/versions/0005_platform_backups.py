"""Backups: the catalogue of encrypted tenant dumps, and the restore drills' record.

Revision ID: 0005_platform
Revises: 0004_platform
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0005_platform"
down_revision = "0004_platform"
branch_labels = None
depends_on = None

S = "platform"


def upgrade() -> None:
    uuid = pg.UUID(as_uuid=True)
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "backups",
        sa.Column("id", uuid, nullable=False),
        sa.Column("account_id", uuid, nullable=False),
        sa.Column("object_key", sa.Text, nullable=False),
        sa.Column("taken_at", ts, nullable=False),
        sa.Column("expires_at", ts, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("size_bytes", sa.BigInteger),
        sa.Column("sha256", sa.LargeBinary(32)),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
        sa.Column("row_counts", pg.JSONB),
        sa.Column("deleted_at", ts),
        sa.PrimaryKeyConstraint("id", name="pk_backups"),
        sa.UniqueConstraint("object_key", name="uq_backups_object_key"),
        schema=S,
    )
    op.create_index(
        "ix_backups_account_id_taken_at", "backups", ["account_id", "taken_at"], schema=S
    )
    op.create_table(
        "restore_drills",
        sa.Column("id", uuid, nullable=False),
        sa.Column("account_id", uuid, nullable=False),
        sa.Column("backup_id", uuid),
        sa.Column("at", ts, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("details", pg.JSONB, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_restore_drills"),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("restore_drills", schema=S)
    op.drop_index("ix_backups_account_id_taken_at", "backups", schema=S)
    op.drop_table("backups", schema=S)

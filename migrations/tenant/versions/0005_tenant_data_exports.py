"""Data exports: one row per requested export of the tenant's data.

Revision ID: 0005_tenant
Revises: 0004_tenant
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0005_tenant"
down_revision = "0004_tenant"
branch_labels = None
depends_on = None


def upgrade() -> None:
    uuid = pg.UUID(as_uuid=True)
    when = sa.DateTime(timezone=True)
    op.create_table(
        "data_exports",
        sa.Column("id", uuid, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_by", uuid, nullable=False),
        sa.Column("requested_at", when, nullable=False),
        sa.Column("ready_at", when, nullable=True),
        sa.Column("expires_at", when, nullable=True),
        sa.Column("object_key", sa.Text, nullable=True),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=True),
        sa.Column("size_bytes", sa.BigInteger, nullable=True),
        sa.Column("failure_reason", sa.Text, nullable=True),
        sa.Column("deleted_at", when, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_data_exports"),
    )


def downgrade() -> None:
    op.drop_table("data_exports")

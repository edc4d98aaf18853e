"""Subprocessor announcements: when account owners were told of a new subprocessor.

Revision ID: 0012_platform
Revises: 0011_platform
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0012_platform"
down_revision = "0011_platform"
branch_labels = None
depends_on = None

S = "platform"


def upgrade() -> None:
    op.create_table(
        "subprocessor_announcements",
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("subprocessor", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_subprocessor_announcements"),
        schema=S,
    )
    op.create_index(
        "ix_subprocessor_announcements_subprocessor",
        "subprocessor_announcements",
        ["subprocessor", "effective_date"],
        schema=S,
    )


def downgrade() -> None:
    op.drop_index(
        "ix_subprocessor_announcements_subprocessor",
        table_name="subprocessor_announcements",
        schema=S,
    )
    op.drop_table("subprocessor_announcements", schema=S)

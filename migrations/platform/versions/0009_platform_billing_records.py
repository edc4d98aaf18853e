"""Billing records: amounts, dates and processor ids, kept seven years, no call content.

Revision ID: 0009_platform
Revises: 0008_platform
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0009_platform"
down_revision = "0008_platform"
branch_labels = None
depends_on = None

S = "platform"


def upgrade() -> None:
    op.create_table(
        "billing_records",
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("account_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("plan", sa.String(16), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("processor_customer_id", sa.String(64), nullable=True),
        sa.Column("processor_reference", sa.String(64), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("id", name="pk_billing_records"),
        schema=S,
    )
    op.create_index("ix_billing_records_occurred_at", "billing_records", ["occurred_at"], schema=S)


def downgrade() -> None:
    op.drop_index("ix_billing_records_occurred_at", table_name="billing_records", schema=S)
    op.drop_table("billing_records", schema=S)

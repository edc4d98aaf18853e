"""Sealed storage secrets, KEK rotation times, and upload tickets.

Revision ID: 0002_platform
Revises: 0001_platform
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0002_platform"
down_revision = "0001_platform"
branch_labels = None
depends_on = None

S = "platform"


def upgrade() -> None:
    # Rows made before this keep their plaintext secret until first use seals it.
    op.alter_column("tenant_storage_identities", "secret_key", nullable=True, schema=S)
    op.add_column("tenant_storage_identities", sa.Column("secret_sealed", sa.LargeBinary), schema=S)
    op.add_column("tenant_storage_identities", sa.Column("wrapped_key", sa.LargeBinary), schema=S)
    op.add_column("tenant_keys", sa.Column("rotated_at", sa.DateTime(timezone=True)), schema=S)
    op.create_table(
        "upload_tickets",
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("account_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("call_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("created_by", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("max_bytes", sa.BigInteger, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name="pk_upload_tickets"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            [f"{S}.accounts.id"],
            ondelete="CASCADE",
            name="fk_upload_tickets_account_id_accounts",
        ),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("upload_tickets", schema=S)
    op.drop_column("tenant_keys", "rotated_at", schema=S)
    op.drop_column("tenant_storage_identities", "wrapped_key", schema=S)
    op.drop_column("tenant_storage_identities", "secret_sealed", schema=S)

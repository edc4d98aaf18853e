"""A tenant's first tables: client profiles and the tenant's wrapped data keys.

Revision ID: 0001_tenant
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0001_tenant"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "client_profiles",
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("contact_email", sa.String(254), nullable=True),
        sa.Column("notes", sa.LargeBinary, nullable=True),
        sa.Column("budget", sa.LargeBinary, nullable=True),
        sa.Column("created_by", pg.UUID(as_uuid=True), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("id", name="pk_client_profiles"),
    )
    op.create_table(
        "data_keys",
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("wrapped", sa.LargeBinary, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("id", name="pk_data_keys"),
        sa.UniqueConstraint("purpose", "version", name="uq_data_keys_purpose_version"),
    )


def downgrade() -> None:
    op.drop_table("data_keys")
    op.drop_table("client_profiles")

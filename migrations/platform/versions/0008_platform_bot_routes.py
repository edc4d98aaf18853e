"""Meeting bots: which tenant and call a provider's bot belongs to (ids only), so the
provider's webhook, which carries no session, finds them.

Revision ID: 0008_platform
Revises: 0007_platform
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0008_platform"
down_revision = "0007_platform"
branch_labels = None
depends_on = None

S = "platform"


def upgrade() -> None:
    op.create_table(
        "bot_routes",
        sa.Column("bot_id", sa.String(128), nullable=False),
        sa.Column("account_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("call_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("bot_id", name="pk_bot_routes"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            [f"{S}.accounts.id"],
            ondelete="CASCADE",
            name="fk_bot_routes_account_id_accounts",
        ),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("bot_routes", schema=S)

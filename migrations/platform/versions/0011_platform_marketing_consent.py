"""Marketing consent: when a user opted in to marketing mail (null: never, or opted out).

Revision ID: 0011_platform
Revises: 0010_platform
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_platform"
down_revision = "0010_platform"
branch_labels = None
depends_on = None

S = "platform"


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("marketing_opt_in_at", sa.DateTime(timezone=True), nullable=True),
        schema=S,
    )


def downgrade() -> None:
    op.drop_column("users", "marketing_opt_in_at", schema=S)

"""Sessions: the hash of the one-time link that ends a session from a new-device alert.

Revision ID: 0004_platform
Revises: 0003_platform
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_platform"
down_revision = "0003_platform"
branch_labels = None
depends_on = None

S = "platform"


def upgrade() -> None:
    op.add_column("sessions", sa.Column("revoke_token_hash", sa.LargeBinary(32)), schema=S)
    op.create_unique_constraint(
        "uq_sessions_revoke_token_hash", "sessions", ["revoke_token_hash"], schema=S
    )


def downgrade() -> None:
    op.drop_constraint("uq_sessions_revoke_token_hash", "sessions", schema=S)
    op.drop_column("sessions", "revoke_token_hash", schema=S)

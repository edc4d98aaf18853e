"""Meeting bots per call (media URL and speaker timeline sealed), and the speaker
timeline a bot-delivered recording came with.

Revision ID: 0006_tenant
Revises: 0005_tenant
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0006_tenant"
down_revision = "0005_tenant"
branch_labels = None
depends_on = None


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    op.add_column("recordings", sa.Column("speaker_timeline", sa.LargeBinary, nullable=True))
    op.create_table(
        "meeting_bots",
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("call_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("provider_bot_id", sa.String(128), nullable=False),
        sa.Column("dispatched_by", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("dispatched_at", ts, nullable=False),
        sa.Column("recording_ready_at", ts, nullable=True),
        sa.Column("media_url", sa.LargeBinary, nullable=True),
        sa.Column("speaker_timeline", sa.LargeBinary, nullable=True),
        sa.Column("failure_reason", sa.Text, nullable=True),
        sa.Column("deletion_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("provider_deleted_at", ts, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_meeting_bots"),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], ondelete="CASCADE", name="fk_meeting_bots_call_id_calls"
        ),
        sa.UniqueConstraint("call_id", name="uq_meeting_bots_call_id"),
        sa.UniqueConstraint("provider_bot_id", name="uq_meeting_bots_provider_bot_id"),
    )


def downgrade() -> None:
    op.drop_table("meeting_bots")
    op.drop_column("recordings", "speaker_timeline")

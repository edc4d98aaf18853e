"""Meeting bots: the provider's bot sent to a call's meeting, and what it delivered.

`bot_routes` lives in the platform schema because the provider's webhook carries no
session: the bot id alone must name the tenant and the call. It holds ids only, never
customer content. Everything else about the bot is the tenant's, in `meeting_bots`;
the media URL (a capability to download the recording) and the speaker timeline
(participants' names) are sealed with the tenant's "transcripts" data key.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import UUID

from audora.platform.db.metadata import platform_metadata, tenant_metadata

bot_routes = Table(
    "bot_routes",
    platform_metadata,
    # The provider's id of the bot.
    Column("bot_id", String(128), primary_key=True),
    Column(
        "account_id",
        UUID(as_uuid=True),
        ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("call_id", UUID(as_uuid=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

meeting_bots = Table(
    "meeting_bots",
    tenant_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "call_id",
        UUID(as_uuid=True),
        ForeignKey("calls.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    # DISPATCHED, RECORDING_READY, FETCHED, PROVIDER_DELETED, DELETION_UNVERIFIED, FAILED.
    Column("status", String(24), nullable=False),
    Column("provider_bot_id", String(128), nullable=False, unique=True),
    Column("dispatched_by", UUID(as_uuid=True), nullable=False),
    Column("dispatched_at", DateTime(timezone=True), nullable=False),
    Column("recording_ready_at", DateTime(timezone=True), nullable=True),
    # Sealed; cleared once the provider's copy is gone (the URL then names nothing).
    Column("media_url", LargeBinary, nullable=True),
    # Sealed JSON [{speaker, start_seconds, end_seconds}]; moved to the recording when
    # the audio is stored.
    Column("speaker_timeline", LargeBinary, nullable=True),
    Column("failure_reason", Text, nullable=True),
    Column("deletion_attempts", Integer, nullable=False, server_default="0"),
    Column("provider_deleted_at", DateTime(timezone=True), nullable=True),
)

"""Calls under client profiles, and what each call produced: its recording, its
transcript and its documents. Everything a client said is stored sealed."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from audora.platform.db.metadata import tenant_metadata

calls = Table(
    "calls",
    tenant_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "client_profile_id",
        UUID(as_uuid=True),
        ForeignKey("client_profiles.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("title", Text, nullable=False),
    # AWAITING_RECORDING, TRANSCRIBING, GENERATING, READY, FAILED.
    Column("status", String(24), nullable=False, server_default="AWAITING_RECORDING"),
    Column("failure_reason", Text, nullable=True),
    # The consent attestation the call was created with; no recording without it.
    Column("consent_participants_notified", Boolean, nullable=False),
    Column("consent_methods", ARRAY(String(32)), nullable=False),
    Column("consent_jurisdiction", String(64), nullable=True),
    Column("created_by", UUID(as_uuid=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_calls_client_profile_id", "client_profile_id"),
)

recordings = Table(
    "recordings",
    tenant_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "call_id",
        UUID(as_uuid=True),
        ForeignKey("calls.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    # STORED, then DELETED once the audio is gone (retention or erasure).
    Column("status", String(16), nullable=False, server_default="STORED"),
    Column("object_key", Text, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("content_type", String(100), nullable=False),
    # The recording's own data key, wrapped by the tenant's KEK: destroying it erases
    # this one recording without touching anything else.
    Column("wrapped_key", LargeBinary, nullable=True),
    Column("stored_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("transcribed_at", DateTime(timezone=True), nullable=True),
    Column("delete_after", DateTime(timezone=True), nullable=True),
    Column("deleted_at", DateTime(timezone=True), nullable=True),
    # Who spoke when, as a meeting bot reported it (sealed JSON; none for uploads): the
    # transcript's speaker labels come from it.
    Column("speaker_timeline", LargeBinary, nullable=True),
)

transcripts = Table(
    "transcripts",
    tenant_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "call_id",
        UUID(as_uuid=True),
        ForeignKey("calls.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    # Sealed with the tenant's "transcripts" data key: the text, and the segments as JSON.
    Column("text", LargeBinary, nullable=False),
    Column("segments", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

documents = Table(
    "documents",
    tenant_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "call_id",
        UUID(as_uuid=True),
        ForeignKey("calls.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # PRD, TASK_LIST, SOW, CLIENT_BRIEF.
    Column("kind", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    # Sealed with the tenant's "documents" data key.
    Column("markdown", LargeBinary, nullable=False),
    Column("structured", LargeBinary, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("call_id", "kind"),
)

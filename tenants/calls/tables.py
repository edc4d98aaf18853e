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

from audora.platform.db.inline_rows import INLINE_ROWS, Reason
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
    Column("failure_reason", Reason, nullable=True),
    # The consent attestation the call was created with; no recording without it.
    Column("consent_participants_notified", Boolean, nullable=False),
    Column("consent_methods", ARRAY(String(32)), nullable=False),
    Column("consent_jurisdiction", String(64), nullable=True),
    Column("created_by", UUID(as_uuid=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # One round of document generation: set each time the call enters GENERATING. The
    # job is queued under an id made from it, so deliveries of one round collapse while
    # a later regeneration is a new job (arq keeps a finished job's id for an hour).
    Column("generation_id", UUID(as_uuid=True), nullable=True),
    # The kinds that round writes (null: all four), so a requeued job writes the same.
    Column("generation_kinds", ARRAY(String(16)), nullable=True),
    # When the round began, by the application clock: the sweep requeues old rounds.
    Column("generating_since", DateTime(timezone=True), nullable=True),
    Index("ix_calls_client_profile_id", "client_profile_id"),
    info=INLINE_ROWS,
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

document_versions = Table(
    "document_versions",
    tenant_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "document_id",
        UUID(as_uuid=True),
        ForeignKey("documents.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("version", Integer, nullable=False),
    Column("title", Text, nullable=False),
    # Sealed with the tenant's "documents" data key, like the document itself.
    Column("markdown", LargeBinary, nullable=False),
    Column("structured", LargeBinary, nullable=True),
    # GENERATED (by a generation round) or EDITED (by a person).
    Column("source", String(16), nullable=False),
    # The user who edited; null for a generated version.
    Column("author_id", UUID(as_uuid=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("document_id", "version"),
)

"""Integrations (where a task list can be pushed: Linear, Notion, a signed webhook) and
the pushes made to them.

What a customer typed or said is sealed under the tenant's "integrations" data key: the
destination's configuration (URL, team or database id), its credential, and the map
from task items to what each became at the destination. What stays plain is what
the platform must read to run: kinds, statuses, counts, who and when.
"""

from __future__ import annotations

from sqlalchemy import (
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
from sqlalchemy.dialects.postgresql import UUID

from audora.platform.db.inline_rows import INLINE_ROWS, Reason
from audora.platform.db.metadata import tenant_metadata

integrations = Table(
    "integrations",
    tenant_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    # LINEAR, NOTION, WEBHOOK.
    Column("kind", String(16), nullable=False),
    Column("name", Text, nullable=False),
    # Sealed JSON: {"url", "teamId", "databaseId"} as the kind needs them.
    Column("config", LargeBinary, nullable=False),
    # Sealed: the API key (Linear, Notion) or the signing secret (webhook).
    Column("credential", LargeBinary, nullable=False),
    # What the credential looked like, masked, so people can tell keys apart.
    Column("credential_hint", String(32), nullable=False),
    Column("created_by", UUID(as_uuid=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

integration_pushes = Table(
    "integration_pushes",
    tenant_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "integration_id",
        UUID(as_uuid=True),
        ForeignKey("integrations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "document_id",
        UUID(as_uuid=True),
        ForeignKey("documents.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # The version of the document that was previewed, and is the one sent.
    Column("document_version", Integer, nullable=False),
    Column("item_count", Integer, nullable=False),
    # PENDING_CONFIRMATION, CONFIRMED, SENDING, DONE, FAILED.
    Column("status", String(24), nullable=False),
    Column("prepared_by", UUID(as_uuid=True), nullable=False),
    Column("prepared_at", DateTime(timezone=True), nullable=False),
    Column("confirmed_by", UUID(as_uuid=True), nullable=True),
    Column("confirmed_at", DateTime(timezone=True), nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    # Why it failed, in the platform's words: never content from the document.
    Column("last_error", Reason, nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Index("ix_integration_pushes_document_id", "document_id"),
    info=INLINE_ROWS,
)

integration_links = Table(
    "integration_links",
    tenant_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "integration_id",
        UUID(as_uuid=True),
        ForeignKey("integrations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "document_id",
        UUID(as_uuid=True),
        ForeignKey("documents.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # Sealed JSON {item id: external id}: what each task item became at the
    # destination, so a second push updates it instead of making another.
    Column("external_ids", LargeBinary, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("integration_id", "document_id"),
)

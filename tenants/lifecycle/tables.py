"""The lifecycle's platform tables: each purge's stages, the deletion certificates that
outlive the purged tenant, and the download links of data exports.

They live in the platform schema because they outlive the tenant's schema (purges,
certificates) or are reached without a session (a download link names its tenant).
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Index, LargeBinary, String, Table, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID

from audora.platform.db.metadata import platform_metadata

# One row per stage of a tenant's purge, written when the stage starts and finished
# when it is done: a purge interrupted midway resumes at the first unfinished stage.
purges = Table(
    "purges",
    platform_metadata,
    Column(
        "account_id",
        UUID(as_uuid=True),
        ForeignKey("accounts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("stage", String(32), primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    # What the stage found and removed: counts and SHA-256 hashes of lists, never
    # customer content (the first stage also keeps the owners' addresses until the
    # certificate is mailed; the last stage clears them).
    Column("facts", JSONB, nullable=False, server_default="{}"),
)

# What a purge deleted, kept after the tenant is gone: tenant id, stages with their
# times, counts and hashes. No customer content.
deletion_certificates = Table(
    "deletion_certificates",
    platform_metadata,
    Column(
        "account_id",
        UUID(as_uuid=True),
        ForeignKey("accounts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("body", JSONB, nullable=False),
    # SHA-256 of the body's canonical JSON: what the emailed copy is checked against.
    Column("sha256", String(64), nullable=False),
    Column("mailed_at", DateTime(timezone=True), nullable=True),
)

# A data export's download link: the token travels by email only; its hash is kept.
export_links = Table(
    "export_links",
    platform_metadata,
    Column("token_hash", LargeBinary(32), primary_key=True),
    Column(
        "account_id",
        UUID(as_uuid=True),
        ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("export_id", UUID(as_uuid=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("note", Text, nullable=True),
    Index(None, "account_id"),
)

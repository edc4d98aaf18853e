"""A tenant's data exports: one row per requested export, the archive itself encrypted
in the tenant's bucket under a data key of its own (wrapped here)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, LargeBinary, String, Table, Text
from sqlalchemy.dialects.postgresql import UUID

from audora.platform.db.inline_rows import INLINE_ROWS, Reason
from audora.platform.db.metadata import tenant_metadata

data_exports = Table(
    "data_exports",
    tenant_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    # PENDING, READY, FAILED, EXPIRED.
    Column("status", String(16), nullable=False),
    Column("requested_by", UUID(as_uuid=True), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("ready_at", DateTime(timezone=True), nullable=True),
    # Set when READY: the archive is deleted by the retention run after this.
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("object_key", Text, nullable=True),
    # The archive's own data key, wrapped by the tenant's KEK; dropped when it expires.
    Column("wrapped_key", LargeBinary, nullable=True),
    Column("size_bytes", BigInteger, nullable=True),
    Column("failure_reason", Reason, nullable=True),
    Column("deleted_at", DateTime(timezone=True), nullable=True),
    info=INLINE_ROWS,
)

"""Upload tickets: the one-time capability behind `PUT /uploads/{ticket}`.

They live in the platform schema because the upload request carries no session: the
ticket alone names the tenant. Only a hash of the ticket is stored.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, LargeBinary, Table, func
from sqlalchemy.dialects.postgresql import UUID

from audora.platform.db.metadata import platform_metadata

upload_tickets = Table(
    "upload_tickets",
    platform_metadata,
    Column("token_hash", LargeBinary(32), primary_key=True),
    Column(
        "account_id",
        UUID(as_uuid=True),
        ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("call_id", UUID(as_uuid=True), nullable=False),
    Column("created_by", UUID(as_uuid=True), nullable=False),
    Column("max_bytes", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    # Set when an upload claims the ticket: a ticket carries one upload, even a failed one.
    Column("consumed_at", DateTime(timezone=True), nullable=True),
)

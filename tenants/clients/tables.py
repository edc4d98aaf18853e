"""Client profiles: the agency's clients, one table per tenant schema."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, LargeBinary, String, Table, Text, func
from sqlalchemy.dialects.postgresql import UUID

from audora.platform.db.metadata import tenant_metadata

client_profiles = Table(
    "client_profiles",
    tenant_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", Text, nullable=False),
    Column("contact_email", String(254), nullable=True),
    # Sealed with the tenant's "clients" data key (AES-256-GCM, bound to the row).
    Column("notes", LargeBinary, nullable=True),
    Column("budget", LargeBinary, nullable=True),
    Column("created_by", UUID(as_uuid=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

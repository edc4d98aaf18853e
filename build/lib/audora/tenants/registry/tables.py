"""The tenant registry: one row per account, in the platform schema."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, String, Table, Text, func
from sqlalchemy.dialects.postgresql import UUID

from audora.platform.db.metadata import platform_metadata

accounts = Table(
    "accounts",
    platform_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", Text, nullable=False),
    # ACTIVE, CLOSED, SUSPENDED, PURGED: the lifecycle issue drives the transitions.
    Column("status", String(16), nullable=False, server_default="ACTIVE"),
    Column("plan", String(16), nullable=False, server_default="STUDIO"),
    Column("schema_name", String(63), nullable=False, unique=True),
    Column("bucket", String(63), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Per-tenant object-store identity: an access key allowed on the tenant's bucket only.
tenant_storage_identities = Table(
    "tenant_storage_identities",
    platform_metadata,
    Column(
        "account_id",
        UUID(as_uuid=True),
        ForeignKey("accounts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("access_key", String(64), nullable=False, unique=True),
    Column("secret_key", Text, nullable=False),
)

# The slot each tenant's key-encryption key takes. The key itself lives only in the key
# service; this row will name it (kek_ref) once the encryption capability fills it.
tenant_keys = Table(
    "tenant_keys",
    platform_metadata,
    Column(
        "account_id",
        UUID(as_uuid=True),
        ForeignKey("accounts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("kek_ref", Text, nullable=True),
    Column("state", String(16), nullable=False, server_default="PENDING"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

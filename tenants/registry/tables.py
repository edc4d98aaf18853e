"""The tenant registry: one row per account, in the platform schema."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, LargeBinary, String, Table, Text, func
from sqlalchemy.dialects.postgresql import UUID

from audora.platform.db.metadata import platform_metadata

accounts = Table(
    "accounts",
    platform_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", Text, nullable=False),
    # ACTIVE, CLOSED, LAPSED, SUSPENDED, PURGED: tenants/lifecycle/closure.py drives
    # closing, lapsing and reopening; tenants/lifecycle/purge.py the purge.
    Column("status", String(16), nullable=False, server_default="ACTIVE"),
    Column("plan", String(16), nullable=False, server_default="STUDIO"),
    Column("schema_name", String(63), nullable=False, unique=True),
    Column("bucket", String(63), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Set when the account closes (or its subscription lapses); cleared by a reopening.
    Column("closed_at", DateTime(timezone=True), nullable=True),
    # The end of the grace period: the purge runs once the application clock passes it.
    Column("purge_after", DateTime(timezone=True), nullable=True),
    Column("purged_at", DateTime(timezone=True), nullable=True),
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
    # The secret key, sealed under a data key of its own that the tenant's KEK wraps:
    # the platform database alone does not open the tenant's bucket, and erasing the
    # tenant's KEK erases its credentials too.
    Column("secret_sealed", LargeBinary, nullable=True),
    Column("wrapped_key", LargeBinary, nullable=True),
    # Only rows provisioned before sealing existed; sealed on first use, then NULL.
    Column("secret_key", Text, nullable=True),
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
    # When the KEK last got a new version; scheduled rotation reads it.
    Column("rotated_at", DateTime(timezone=True), nullable=True),
)

"""The tenant registry: one row per account, in the platform schema."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    func,
)
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

# The PostgreSQL clusters tenant schemas live on (docs/scaling.md). Their URLs are
# settings, never rows: `urls_setting` names where they come from. "primary" is the
# platform's own database. OPEN clusters take new tenants; DRAINING ones keep theirs
# but take none (tenants are moved off them); CLOSED ones hold no tenant.
clusters = Table(
    "clusters",
    platform_metadata,
    Column("name", String(32), primary_key=True),
    Column("urls_setting", Text, nullable=False),
    Column("state", String(16), nullable=False, server_default="OPEN"),
    # Relative size: a cluster of weight 2 is given twice the tenants of one of weight 1.
    Column("capacity_weight", Integer, nullable=False, server_default="1"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("state IN ('OPEN', 'DRAINING', 'CLOSED')", name="state"),
    CheckConstraint("capacity_weight > 0", name="capacity_weight"),
)

# Which cluster each tenant's schema is on. Every account has one row from its sign-up.
tenant_placements = Table(
    "tenant_placements",
    platform_metadata,
    Column(
        "account_id",
        UUID(as_uuid=True),
        ForeignKey("accounts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("cluster", String(32), ForeignKey("clusters.name"), nullable=False, index=True),
    Column("placed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("moved_at", DateTime(timezone=True), nullable=True),
    # Set while `audora tenants move` copies the tenant: its read-only window.
    Column("moving_since", DateTime(timezone=True), nullable=True),
)

# The tenants a sweep must visit, and from when: one row per tenant and sweep while the
# tenant has work that sweep looks after (tenants/registry/due_work.py). `version` grows
# at each mark, so that a sweep never clears a mark made while it was reading the tenant.
tenant_due_work = Table(
    "tenant_due_work",
    platform_metadata,
    Column(
        "account_id",
        UUID(as_uuid=True),
        ForeignKey("accounts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("sweep", String(16), primary_key=True),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("version", BigInteger, nullable=False, server_default="1"),
    CheckConstraint("sweep IN ('calls', 'bots', 'pushes', 'retention')", name="sweep"),
    Index("ix_tenant_due_work_sweep_due_at", "sweep", "due_at"),
)

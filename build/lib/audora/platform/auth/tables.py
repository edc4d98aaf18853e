"""Users, their memberships in accounts, and their sessions (platform schema)."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, INET, UUID

from audora.platform.db.metadata import platform_metadata

users = Table(
    "users",
    platform_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    # Stored lower-cased: one user per address, whatever its case.
    Column("email", String(254), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("full_name", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

memberships = Table(
    "memberships",
    platform_metadata,
    Column(
        "account_id",
        UUID(as_uuid=True),
        ForeignKey("accounts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "user_id", UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("role", String(16), nullable=False),
    # NULL: every client profile; otherwise only these (the authorization issue uses it).
    Column("client_profile_ids", ARRAY(UUID(as_uuid=True)), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

sessions = Table(
    "sessions",
    platform_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    # Only a hash of the token is kept: a database reader cannot replay sessions.
    Column("token_hash", LargeBinary(32), nullable=False, unique=True),
    Column(
        "user_id", UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    ),
    Column(
        "account_id",
        UUID(as_uuid=True),
        ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("ip", INET, nullable=True),
    Column("user_agent", Text, nullable=True),
    Index(None, "user_id"),
)

"""Users, their memberships in accounts, and their sessions (platform schema)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
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
    Column("password_changed_at", DateTime(timezone=True), nullable=True),
    # The user's own data key, wrapped by the platform's KEK: it seals the TOTP secret.
    Column("wrapped_key", LargeBinary, nullable=True),
    # Sealed TOTP secrets: one being enrolled, and the active one once confirmed.
    Column("totp_pending", LargeBinary, nullable=True),
    Column("totp_secret", LargeBinary, nullable=True),
    Column("totp_enabled_at", DateTime(timezone=True), nullable=True),
    # The last TOTP time step accepted: a code is good once.
    Column("totp_last_step", BigInteger, nullable=True),
    # When the user opted in to marketing mail; null (the default, and after opting out):
    # Audora sends them transactional mail only.
    Column("marketing_opt_in_at", DateTime(timezone=True), nullable=True),
)

# Single-use recovery codes, only their SHA-256 kept (they are random, 50+ bits each).
recovery_codes = Table(
    "recovery_codes",
    platform_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "user_id", UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    ),
    Column("code_hash", LargeBinary(32), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("used_at", DateTime(timezone=True), nullable=True),
    Index(None, "user_id"),
)

# WebAuthn credentials (passkeys, security keys) registered as a second factor.
webauthn_credentials = Table(
    "webauthn_credentials",
    platform_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "user_id", UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    ),
    Column("credential_id", LargeBinary, nullable=False, unique=True),
    Column("public_key", LargeBinary, nullable=False),
    Column("sign_count", BigInteger, nullable=False, server_default="0"),
    Column("transports", ARRAY(String(32)), nullable=True),
    Column("name", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
    Index(None, "user_id"),
)

# Devices a user has logged in from: a login from any other one is alerted by email.
known_devices = Table(
    "known_devices",
    platform_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "user_id", UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    ),
    Column("fingerprint", LargeBinary(32), nullable=False),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("user_id", "fingerprint"),
)

# Invitations to a seat: the token travels by email only; only its hash is kept.
invitations = Table(
    "invitations",
    platform_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "account_id",
        UUID(as_uuid=True),
        ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("email", String(254), nullable=False),
    Column("role", String(16), nullable=False),
    Column("client_profile_ids", ARRAY(UUID(as_uuid=True)), nullable=True),
    Column("token_hash", LargeBinary(32), nullable=False, unique=True),
    Column("invited_by", UUID(as_uuid=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("accepted_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Index(None, "account_id"),
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
    # The hash of the one-time link a new-device alert carries to end this session; set
    # once, by the alert job (platform/auth/revoke_links.py).
    Column("revoke_token_hash", LargeBinary(32), nullable=True, unique=True),
    Index(None, "user_id"),
)

"""Staff break-glass tables (platform schema), apart from the customers' own.

Staff are not users: they have their own table, their own credentials (security keys
with the attestation they presented), their own sessions. An access request names one
tenant; the customer's decision is signed with a key derived from that tenant's data
key (`approvals.py`). A grant is an activated approval: its token is a session bound to
one tenant and scope. The staff audit log is append-only, as the tenants' is: a trigger
refuses UPDATE, DELETE and TRUNCATE.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY, INET, JSONB, UUID

from audora.platform.db.metadata import platform_metadata

staff_users = Table(
    "staff_users",
    platform_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("full_name", Text, nullable=False),
    # NULL until the staff member enrolls through the one-time link.
    Column("password_hash", Text, nullable=True),
    Column("enrollment_token_hash", LargeBinary(32), nullable=True, unique=True),
    Column("enrollment_expires_at", DateTime(timezone=True), nullable=True),
    Column("enrolled_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled_at", DateTime(timezone=True), nullable=True),
)

staff_credentials = Table(
    "staff_credentials",
    platform_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "staff_id",
        UUID(as_uuid=True),
        ForeignKey("staff_users.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("credential_id", LargeBinary, nullable=False, unique=True),
    Column("public_key", LargeBinary, nullable=False),
    Column("sign_count", BigInteger, nullable=False),
    # What the key said it is at registration ("packed", "none", ...; its AAGUID).
    Column("attestation_format", String(32), nullable=False),
    Column("aaguid", String(36), nullable=False),
    Column("transports", ARRAY(String(32)), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
    Index(None, "staff_id"),
)

staff_sessions = Table(
    "staff_sessions",
    platform_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("token_hash", LargeBinary(32), nullable=False, unique=True),
    Column(
        "staff_id",
        UUID(as_uuid=True),
        ForeignKey("staff_users.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Column("ip", INET, nullable=True),
    Column("user_agent", Text, nullable=True),
)

access_requests = Table(
    "access_requests",
    platform_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "account_id",
        UUID(as_uuid=True),
        ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "staff_id",
        UUID(as_uuid=True),
        ForeignKey("staff_users.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("reason", Text, nullable=False),
    Column("ticket", String(128), nullable=False),
    Column("scope", ARRAY(String(32)), nullable=False),
    Column("requested_minutes", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Unanswered by then, the request is EXPIRED.
    Column("expires_at", DateTime(timezone=True), nullable=False),
    # PENDING, APPROVED, DENIED, EXPIRED.
    Column("status", String(16), nullable=False),
    Column("decided_by", UUID(as_uuid=True), nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("decision_note", Text, nullable=True),
    # HMAC-SHA256 over the canonical request and decision, keyed from the tenant's data
    # key of purpose "staff-approvals", and that key's version.
    Column("signature", LargeBinary(32), nullable=True),
    Column("key_version", Integer, nullable=True),
    Index(None, "account_id", "status"),
    Index(None, "staff_id"),
)

access_grants = Table(
    "access_grants",
    platform_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "request_id",
        UUID(as_uuid=True),
        ForeignKey("access_requests.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column(
        "staff_session_id",
        UUID(as_uuid=True),
        ForeignKey("staff_sessions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("token_hash", LargeBinary(32), nullable=False, unique=True),
    Column("activated_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    # EXPIRED, REVOKED (by the customer), ENDED (by staff).
    Column("end_reason", String(16), nullable=True),
)

# No foreign keys: the staff audit log outlives the accounts and staff it names.
staff_audit_events = Table(
    "staff_audit_events",
    platform_metadata,
    Column("seq", BigInteger, Identity(always=True), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("staff_id", UUID(as_uuid=True), nullable=True),
    Column("account_id", UUID(as_uuid=True), nullable=True),
    Column("action", String(64), nullable=False),
    Column("target", Text, nullable=True),
    Column("ip", INET, nullable=True),
    Column("details", JSONB, nullable=False),
    Index(None, "account_id"),
)

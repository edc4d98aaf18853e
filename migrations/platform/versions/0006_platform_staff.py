"""Staff break-glass: staff users, their security keys and sessions, access requests,
grants and the append-only staff audit log (platform/staff/tables.py).

Revision ID: 0006_platform
Revises: 0005_platform
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, INET, JSONB, UUID

revision = "0006_platform"
down_revision = "0005_platform"
branch_labels = None
depends_on = None

S = "platform"


def _ts(name: str, nullable: bool = True) -> sa.Column[sa.DateTime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", UUID(as_uuid=True), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("full_name", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=True),
        sa.Column("enrollment_token_hash", sa.LargeBinary(32), nullable=True),
        _ts("enrollment_expires_at"),
        _ts("enrolled_at"),
        _ts("created_at", False),
        _ts("disabled_at"),
        sa.PrimaryKeyConstraint("id", name="pk_staff_users"),
        sa.UniqueConstraint("email", name="uq_staff_users_email"),
        sa.UniqueConstraint("enrollment_token_hash", name="uq_staff_users_enrollment_token_hash"),
        schema=S,
    )
    op.create_table(
        "staff_credentials",
        sa.Column("id", UUID(as_uuid=True), nullable=False),
        sa.Column("staff_id", UUID(as_uuid=True), nullable=False),
        sa.Column("credential_id", sa.LargeBinary, nullable=False),
        sa.Column("public_key", sa.LargeBinary, nullable=False),
        sa.Column("sign_count", sa.BigInteger, nullable=False),
        sa.Column("attestation_format", sa.String(32), nullable=False),
        sa.Column("aaguid", sa.String(36), nullable=False),
        sa.Column("transports", ARRAY(sa.String(32)), nullable=True),
        _ts("created_at", False),
        _ts("last_used_at"),
        sa.PrimaryKeyConstraint("id", name="pk_staff_credentials"),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            [f"{S}.staff_users.id"],
            name="fk_staff_credentials_staff_id_staff_users",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("credential_id", name="uq_staff_credentials_credential_id"),
        schema=S,
    )
    op.create_index("ix_staff_credentials_staff_id", "staff_credentials", ["staff_id"], schema=S)
    op.create_table(
        "staff_sessions",
        sa.Column("id", UUID(as_uuid=True), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("staff_id", UUID(as_uuid=True), nullable=False),
        _ts("created_at", False),
        _ts("expires_at", False),
        _ts("ended_at"),
        sa.Column("ip", INET, nullable=True),
        sa.Column("user_agent", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_staff_sessions"),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            [f"{S}.staff_users.id"],
            name="fk_staff_sessions_staff_id_staff_users",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("token_hash", name="uq_staff_sessions_token_hash"),
        schema=S,
    )
    op.create_table(
        "access_requests",
        sa.Column("id", UUID(as_uuid=True), nullable=False),
        sa.Column("account_id", UUID(as_uuid=True), nullable=False),
        sa.Column("staff_id", UUID(as_uuid=True), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("ticket", sa.String(128), nullable=False),
        sa.Column("scope", ARRAY(sa.String(32)), nullable=False),
        sa.Column("requested_minutes", sa.Integer, nullable=False),
        _ts("created_at", False),
        _ts("expires_at", False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decided_by", UUID(as_uuid=True), nullable=True),
        _ts("decided_at"),
        sa.Column("decision_note", sa.Text, nullable=True),
        sa.Column("signature", sa.LargeBinary(32), nullable=True),
        sa.Column("key_version", sa.Integer, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_access_requests"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            [f"{S}.accounts.id"],
            name="fk_access_requests_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            [f"{S}.staff_users.id"],
            name="fk_access_requests_staff_id_staff_users",
            ondelete="CASCADE",
        ),
        schema=S,
    )
    op.create_index(
        "ix_access_requests_account_id_status",
        "access_requests",
        ["account_id", "status"],
        schema=S,
    )
    op.create_index("ix_access_requests_staff_id", "access_requests", ["staff_id"], schema=S)
    op.create_table(
        "access_grants",
        sa.Column("id", UUID(as_uuid=True), nullable=False),
        sa.Column("request_id", UUID(as_uuid=True), nullable=False),
        sa.Column("staff_session_id", UUID(as_uuid=True), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        _ts("activated_at", False),
        _ts("expires_at", False),
        _ts("ended_at"),
        sa.Column("end_reason", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_access_grants"),
        sa.ForeignKeyConstraint(
            ["request_id"],
            [f"{S}.access_requests.id"],
            name="fk_access_grants_request_id_access_requests",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_session_id"],
            [f"{S}.staff_sessions.id"],
            name="fk_access_grants_staff_session_id_staff_sessions",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("request_id", name="uq_access_grants_request_id"),
        sa.UniqueConstraint("token_hash", name="uq_access_grants_token_hash"),
        schema=S,
    )
    op.create_table(
        "staff_audit_events",
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False),
        _ts("at", False),
        sa.Column("staff_id", UUID(as_uuid=True), nullable=True),
        sa.Column("account_id", UUID(as_uuid=True), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.Text, nullable=True),
        sa.Column("ip", INET, nullable=True),
        sa.Column("details", JSONB, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_staff_audit_events"),
        schema=S,
    )
    op.create_index(
        "ix_staff_audit_events_account_id", "staff_audit_events", ["account_id"], schema=S
    )
    op.execute(
        f"CREATE FUNCTION {S}.staff_audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS "
        "$$BEGIN RAISE EXCEPTION 'staff audit events are append-only' "
        "USING ERRCODE = 'insufficient_privilege'; END$$"
    )
    op.execute(
        f"CREATE TRIGGER staff_audit_append_only BEFORE UPDATE OR DELETE ON "
        f"{S}.staff_audit_events FOR EACH ROW EXECUTE FUNCTION {S}.staff_audit_refuse_change()"
    )
    op.execute(
        f"CREATE TRIGGER staff_audit_no_truncate BEFORE TRUNCATE ON {S}.staff_audit_events "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {S}.staff_audit_refuse_change()"
    )
    # The application appends and reads; the trigger stops even a grant slipping in.
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {S}.staff_audit_events FROM audora_app")


def downgrade() -> None:
    for table in (
        "staff_audit_events",
        "access_grants",
        "access_requests",
        "staff_sessions",
        "staff_credentials",
        "staff_users",
    ):
        op.drop_table(table, schema=S)
    op.execute(f"DROP FUNCTION {S}.staff_audit_refuse_change()")

"""Calls with their recordings, transcripts and documents; the hash-chained audit log;
re-encryption progress of data-key rotations.

Revision ID: 0002_tenant
Revises: 0001_tenant
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql as pg

from audora.platform.db.tenant_names import tenant_role, validate_tenant_schema

revision = "0002_tenant"
down_revision = "0001_tenant"
branch_labels = None
depends_on = None


def _call_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["call_id"], ["calls.id"], ondelete="CASCADE", name=f"fk_{table}_call_id_calls"
    )


def upgrade() -> None:
    uuid = pg.UUID(as_uuid=True)
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "calls",
        sa.Column("id", uuid, nullable=False),
        sa.Column("client_profile_id", uuid, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("status", sa.String(24), nullable=False, server_default="AWAITING_RECORDING"),
        sa.Column("failure_reason", sa.Text, nullable=True),
        sa.Column("consent_participants_notified", sa.Boolean, nullable=False),
        sa.Column("consent_methods", pg.ARRAY(sa.String(32)), nullable=False),
        sa.Column("consent_jurisdiction", sa.String(64), nullable=True),
        sa.Column("created_by", uuid, nullable=False),
        sa.Column("created_at", ts, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", ts, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_calls"),
        sa.ForeignKeyConstraint(
            ["client_profile_id"],
            ["client_profiles.id"],
            ondelete="CASCADE",
            name="fk_calls_client_profile_id_client_profiles",
        ),
    )
    op.create_index("ix_calls_client_profile_id", "calls", ["client_profile_id"])
    op.create_table(
        "recordings",
        sa.Column("id", uuid, nullable=False),
        sa.Column("call_id", uuid, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="STORED"),
        sa.Column("object_key", sa.Text, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=True),
        sa.Column("stored_at", ts, nullable=False, server_default=sa.func.now()),
        sa.Column("transcribed_at", ts, nullable=True),
        sa.Column("delete_after", ts, nullable=True),
        sa.Column("deleted_at", ts, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_recordings"),
        _call_fk("recordings"),
        sa.UniqueConstraint("call_id", name="uq_recordings_call_id"),
    )
    op.create_table(
        "transcripts",
        sa.Column("id", uuid, nullable=False),
        sa.Column("call_id", uuid, nullable=False),
        sa.Column("text", sa.LargeBinary, nullable=False),
        sa.Column("segments", sa.LargeBinary, nullable=False),
        sa.Column("created_at", ts, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_transcripts"),
        _call_fk("transcripts"),
        sa.UniqueConstraint("call_id", name="uq_transcripts_call_id"),
    )
    op.create_table(
        "documents",
        sa.Column("id", uuid, nullable=False),
        sa.Column("call_id", uuid, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("markdown", sa.LargeBinary, nullable=False),
        sa.Column("structured", sa.LargeBinary, nullable=True),
        sa.Column("created_at", ts, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", ts, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_documents"),
        _call_fk("documents"),
        sa.UniqueConstraint("call_id", "kind", name="uq_documents_call_id_kind"),
    )
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("id", uuid, nullable=False),
        sa.Column("at", ts, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.Text, nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("details", pg.JSONB, nullable=False),
        sa.Column("prev_hash", sa.LargeBinary, nullable=False),
        sa.Column("hash", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_events"),
        sa.UniqueConstraint("id", name="uq_audit_events_id"),
    )
    op.create_index("ix_audit_events_action_seq", "audit_events", ["action", "seq"])
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.SmallInteger, nullable=False, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("last_hash", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_chain"),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_one_row")),
    )
    op.create_table(
        "reencryptions",
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("to_version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="RUNNING"),
        sa.Column("cursor", sa.Text, nullable=True),
        sa.Column("rewritten", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("examined", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("total", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("started_at", ts, nullable=False, server_default=sa.func.now()),
        sa.Column("finished_at", ts, nullable=True),
        sa.PrimaryKeyConstraint("purpose", "to_version", name="pk_reencryptions"),
    )
    op.execute(
        "CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS "
        "$$BEGIN RAISE EXCEPTION 'audit events are append-only' "
        "USING ERRCODE = 'insufficient_privilege'; END$$"
    )
    op.execute(
        "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()"
    )
    # The tenant role appends and reads; the trigger stops even a grant slipping in.
    role = tenant_role(validate_tenant_schema(str(context.config.attributes["tenant_schema"])))
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM {role}")
    op.execute(f"REVOKE DELETE, TRUNCATE ON audit_chain FROM {role}")


def downgrade() -> None:
    for table in (
        "reencryptions",
        "audit_chain",
        "audit_events",
        "documents",
        "transcripts",
        "recordings",
        "calls",
    ):
        op.drop_table(table)
    op.execute("DROP FUNCTION audit_events_refuse_change()")

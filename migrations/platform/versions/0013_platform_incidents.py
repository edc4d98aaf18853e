"""Incidents: the incident record, the accounts affected with their 72-hour notification
clocks, and the append-only timeline (platform/incidents/tables.py).

Revision ID: 0013_platform
Revises: 0012_platform
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, UUID

revision = "0013_platform"
down_revision = "0012_platform"
branch_labels = None
depends_on = None

S = "platform"
PHASES = "'detection', 'containment', 'eradication', 'recovery', 'post_incident_review', 'closed'"


def _ts(name: str, nullable: bool = True) -> sa.Column[sa.DateTime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", UUID(as_uuid=True), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("phase", sa.String(32), nullable=False),
        sa.Column("public_status", sa.String(16), nullable=False),
        sa.Column("components", ARRAY(sa.String(32)), nullable=False),
        sa.Column("customer_data_involved", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("data_affected", sa.Text, nullable=True),
        sa.Column("actions_taken", sa.Text, nullable=True),
        _ts("opened_at", False),
        _ts("confirmed_at"),
        _ts("resolved_at"),
        _ts("report_due"),
        sa.Column("report_markdown", sa.Text, nullable=True),
        _ts("report_published_at"),
        _ts("closed_at"),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
        sa.CheckConstraint(
            "severity IN ('SEV1', 'SEV2', 'SEV3', 'SEV4')", name="ck_incidents_severity"
        ),
        sa.CheckConstraint(f"phase IN ({PHASES})", name="ck_incidents_phase"),
        sa.CheckConstraint(
            "public_status IN ('investigating', 'identified', 'monitoring', 'resolved')",
            name="ck_incidents_public_status",
        ),
        schema=S,
    )
    op.create_index("ix_incidents_opened_at", "incidents", ["opened_at"], schema=S)
    op.create_table(
        "incident_tenants",
        sa.Column("incident_id", UUID(as_uuid=True), nullable=False),
        sa.Column("account_id", UUID(as_uuid=True), nullable=False),
        _ts("confirmed_at", False),
        _ts("notify_due", False),
        _ts("notified_at"),
        sa.Column("notified_owners", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("incident_id", "account_id", name="pk_incident_tenants"),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            [f"{S}.incidents.id"],
            name="fk_incident_tenants_incident_id_incidents",
        ),
        schema=S,
    )
    op.create_index(
        "ix_incident_tenants_notified_at_notify_due",
        "incident_tenants",
        ["notified_at", "notify_due"],
        schema=S,
    )
    op.create_table(
        "incident_timeline",
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("id", UUID(as_uuid=True), nullable=False),
        sa.Column("incident_id", UUID(as_uuid=True), nullable=False),
        _ts("at", False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("staff_id", UUID(as_uuid=True), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("phase", sa.String(32), nullable=True),
        sa.Column("public_status", sa.String(16), nullable=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("public", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_incident_timeline"),
        sa.UniqueConstraint("id", name="uq_incident_timeline_id"),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            [f"{S}.incidents.id"],
            name="fk_incident_timeline_incident_id_incidents",
        ),
        schema=S,
    )
    op.create_index(
        "ix_incident_timeline_incident_id_seq",
        "incident_timeline",
        ["incident_id", "seq"],
        schema=S,
    )
    # The timeline is append-only (as platform.staff_audit_events).
    op.execute(
        f"CREATE FUNCTION {S}.incident_timeline_refuse_change() RETURNS trigger "
        "LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'incident timeline entries are "
        "append-only' USING ERRCODE = 'insufficient_privilege'; END$$"
    )
    op.execute(
        f"CREATE TRIGGER incident_timeline_append_only BEFORE UPDATE OR DELETE ON "
        f"{S}.incident_timeline FOR EACH ROW EXECUTE FUNCTION "
        f"{S}.incident_timeline_refuse_change()"
    )
    op.execute(
        f"CREATE TRIGGER incident_timeline_no_truncate BEFORE TRUNCATE ON "
        f"{S}.incident_timeline FOR EACH STATEMENT EXECUTE FUNCTION "
        f"{S}.incident_timeline_refuse_change()"
    )
    # A phase stays or moves to the next one: never back, never skipping one (R1).
    op.execute(
        f"CREATE FUNCTION {S}.incident_phase_forward() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$DECLARE phases text[] := ARRAY[{PHASES}]; "
        "BEGIN IF array_position(phases, NEW.phase::text) - "
        "array_position(phases, OLD.phase::text) NOT IN (0, 1) THEN "
        "RAISE EXCEPTION 'incident phases move one step forward at a time (% to %)', "
        "OLD.phase, NEW.phase USING ERRCODE = 'check_violation'; END IF; "
        "RETURN NEW; END$$"
    )
    op.execute(
        f"CREATE TRIGGER incident_phase_forward BEFORE UPDATE OF phase ON {S}.incidents "
        f"FOR EACH ROW EXECUTE FUNCTION {S}.incident_phase_forward()"
    )
    # The application appends and reads the timeline; incidents are never deleted.
    op.execute(
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {S}.incident_timeline "
        "FROM audora_app, audora_provisioner"
    )
    op.execute(
        f"REVOKE DELETE, TRUNCATE ON {S}.incidents, {S}.incident_tenants "
        "FROM audora_app, audora_provisioner"
    )


def downgrade() -> None:
    for table in ("incident_timeline", "incident_tenants", "incidents"):
        op.drop_table(table, schema=S)
    op.execute(f"DROP FUNCTION {S}.incident_timeline_refuse_change()")
    op.execute(f"DROP FUNCTION {S}.incident_phase_forward()")

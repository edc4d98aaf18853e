"""Incident tables (platform schema): no customer content, only what staff write about
an incident. Nothing here is ever deleted: the status page shows the full history.

The timeline is append-only as the staff audit log is: a trigger refuses UPDATE, DELETE
and TRUNCATE, and the application role holds no such privilege. Another trigger keeps
an incident's phase moving one step forward at a time. Affected accounts carry no
foreign key: an incident's record outlives the accounts it names.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from audora.platform.db.metadata import platform_metadata

incidents = Table(
    "incidents",
    platform_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("severity", String(8), nullable=False),
    Column("phase", String(32), nullable=False),
    Column("public_status", String(16), nullable=False),
    Column("components", ARRAY(String(32)), nullable=False),
    Column("customer_data_involved", Boolean, nullable=False, server_default="false"),
    # Private: what data, how, and what was done (told to the affected owners only).
    Column("data_affected", Text, nullable=True),
    Column("actions_taken", Text, nullable=True),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("confirmed_at", DateTime(timezone=True), nullable=True),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    Column("report_due", DateTime(timezone=True), nullable=True),
    Column("report_markdown", Text, nullable=True),
    Column("report_published_at", DateTime(timezone=True), nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("severity IN ('SEV1', 'SEV2', 'SEV3', 'SEV4')", name="severity"),
    CheckConstraint(
        "phase IN ('detection', 'containment', 'eradication', 'recovery', "
        "'post_incident_review', 'closed')",
        name="phase",
    ),
    CheckConstraint(
        "public_status IN ('investigating', 'identified', 'monitoring', 'resolved')",
        name="public_status",
    ),
    Index(None, "opened_at"),
)

incident_tenants = Table(
    "incident_tenants",
    platform_metadata,
    Column(
        "incident_id",
        UUID(as_uuid=True),
        ForeignKey("incidents.id"),
        primary_key=True,
    ),
    Column("account_id", UUID(as_uuid=True), primary_key=True),
    Column("confirmed_at", DateTime(timezone=True), nullable=False),
    # confirmed_at + 72 hours (R3).
    Column("notify_due", DateTime(timezone=True), nullable=False),
    Column("notified_at", DateTime(timezone=True), nullable=True),
    Column("notified_owners", Integer, nullable=False, server_default="0"),
    Index(None, "notified_at", "notify_due"),
)

incident_timeline = Table(
    "incident_timeline",
    platform_metadata,
    Column("seq", BigInteger, Identity(always=True), primary_key=True),
    Column("id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("incident_id", UUID(as_uuid=True), ForeignKey("incidents.id"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    # Private: the staff member or operator.
    Column("actor", Text, nullable=False),
    Column("staff_id", UUID(as_uuid=True), nullable=True),
    # opened, phase, update, note, confirmed, notified, report_saved, report_published.
    Column("kind", String(32), nullable=False),
    Column("phase", String(32), nullable=True),
    Column("public_status", String(16), nullable=True),
    Column("message", Text, nullable=False),
    Column("public", Boolean, nullable=False),
    Index(None, "incident_id", "seq"),
)

"""A tenant's audit log: append-only and hash-chained.

Each event's hash covers the previous event's hash and the event's canonical JSON, so
altering, removing or reordering any event breaks the chain from there on. A trigger
refuses UPDATE, DELETE and TRUNCATE even to the tenant role (see `append_only_ddl`).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from audora.platform.db.inline_rows import INLINE_ROWS
from audora.platform.db.metadata import tenant_metadata
from audora.platform.db.tenant_names import TenantSchema

audit_events = Table(
    "audit_events",
    tenant_metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", Text, nullable=True),
    Column("ip", String(64), nullable=True),
    Column("details", JSONB, nullable=False),
    Column("prev_hash", LargeBinary, nullable=False),
    Column("hash", LargeBinary, nullable=False),
    Index("ix_audit_events_action_seq", "action", "seq"),
)

# The chain's head: one row, locked by each append so that events chain in order.
audit_chain = Table(
    "audit_chain",
    tenant_metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("last_hash", LargeBinary, nullable=False),
    CheckConstraint("id = 1", name="one_row"),
    info=INLINE_ROWS,
)


def refuse_change_function(schema: TenantSchema) -> str:
    """The append-only triggers' function, named after its tenant. PostgreSQL finds a
    function by reading every function of that name in the database, a catalog list that
    each new function invalidates in every backend: with one name shared by all tenants,
    each new tenant's CREATE FUNCTION and CREATE TRIGGER read one row per tenant."""
    return f"audit_events_refuse_change_{schema}"


def append_only_ddl(schema: TenantSchema) -> tuple[str, ...]:
    """The function and triggers that refuse UPDATE, DELETE and TRUNCATE of the audit
    log even to its owner. `schema` is a validated name."""
    function = refuse_change_function(schema)
    return (
        f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS "
        "$$BEGIN RAISE EXCEPTION 'audit events are append-only' "
        "USING ERRCODE = 'insufficient_privilege'; END$$",
        "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()",
        "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
    )

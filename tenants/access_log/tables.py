"""A tenant's access log: one row per authenticated GraphQL request.

It lives in the tenant's own schema, beside but apart from the audit log: the audit log
proves what changed and is kept for good; the access log says who asked for what, when
and from where, and is kept 12 months. Keeping it per tenant means a binding reaches only
its own tenant's rows (like every other tenant table), a purge or a tenant move takes it
along with the schema, and its expiry needs no cross-tenant DELETE.

It is one plain table with a BRIN index on `at` (rows arrive in time order, so the
index is a few pages whatever the table holds, and finds any time range, the daily
expiry's included: `expiry.py`). Every text column is bounded, so PostgreSQL gives it no
TOAST table: two relations per tenant, which matters at thousands of tenants. It was
partitioned by month at first; PostgreSQL scans all of pg_constraint for each partition
it creates, which made every new tenant slower than the one before (`expiry.py`).

Nothing of what was asked is kept: no variables, no query text, only the operation's
name and type. The tenant role may insert and read; it may not change or delete a row
(its UPDATE, DELETE and TRUNCATE are revoked), so only the schema owner's expiry job
removes rows.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, String, Table
from sqlalchemy.dialects.postgresql import UUID

from audora.platform.db.metadata import tenant_metadata

# Longer values are cut: the log records, it does not reproduce.
USER_AGENT_CHARS = 200
OPERATION_NAME_CHARS = 64
OUTCOME_CHARS = 128

access_log = Table(
    "access_log",
    tenant_metadata,
    Column("at", DateTime(timezone=True), nullable=False),
    Column("account_id", UUID(as_uuid=True), nullable=False),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("session_id", UUID(as_uuid=True), nullable=False),
    Column("ip", String(64), nullable=True),
    Column("user_agent", String(USER_AGENT_CHARS), nullable=True),
    # "query", "mutation" or "subscription"; null when the document named no operation
    # that could run.
    Column("operation_type", String(12), nullable=True),
    Column("operation_name", String(OPERATION_NAME_CHARS), nullable=True),
    # "ok", or the distinct error codes of the answer, sorted and space-separated.
    Column("outcome", String(OUTCOME_CHARS), nullable=False),
    Index("ix_access_log_at", "at", postgresql_using="brin"),
)

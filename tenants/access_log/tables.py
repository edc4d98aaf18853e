"""A tenant's access log: one row per authenticated GraphQL request.

It lives in the tenant's own schema, beside but apart from the audit log: the audit log
proves what changed and is kept for good; the access log says who asked for what, when
and from where, and is kept 12 months. Keeping it per tenant means a binding reaches only
its own tenant's rows (like every other tenant table), a purge or a tenant move takes it
along with the schema, and its expiry needs no cross-tenant DELETE.

The table is partitioned by month on `at` (`partitions.py`): expiry drops a whole
partition, which costs the same whatever it holds and leaves no dead rows to vacuum.
Every text column is bounded and the table has no index, so PostgreSQL gives a
partition no TOAST table and no index either: each month is one relation per tenant,
which matters at thousands of tenants. Reads are by time range, which partition pruning
serves.

Nothing of what was asked is kept: no variables, no query text, only the operation's
name and type. The tenant role may insert and read; it may not change or delete a row
(its UPDATE, DELETE and TRUNCATE are revoked, and it has no privilege at all on the
partitions themselves), so only the schema owner's retention job removes rows.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, String, Table
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
    postgresql_partition_by="RANGE (at)",
)

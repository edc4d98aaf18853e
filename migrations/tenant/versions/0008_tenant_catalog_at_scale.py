"""Two tenant objects whose creation cost grew with the number of tenants, made so that
it does not; existing tenants are brought to the same shape.

- The access log becomes one plain table with a BRIN index on `at`, its rows kept.
  PostgreSQL scans all of pg_constraint for every partition it creates
  (`tenants/access_log/expiry.py`). The rows move over in the same transaction; the
  tenant role keeps exactly its INSERT and SELECT.
- The audit log's append-only function is renamed after its tenant: PostgreSQL looks a
  function up by reading every function of its name (`tenants/audit/tables.py`).

Revision ID: 0008_tenant
Revises: 0007_tenant
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql as pg

from audora.platform.db.tenant_names import TenantSchema, tenant_role, validate_tenant_schema

revision = "0008_tenant"
down_revision = "0007_tenant"
branch_labels = None
depends_on = None

_COLUMNS = (
    "at, account_id, user_id, session_id, ip, user_agent, operation_type, operation_name, outcome"
)


def _create(**partitioning: str) -> None:
    uuid = pg.UUID(as_uuid=True)
    op.create_table(
        "access_log",
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("account_id", uuid, nullable=False),
        sa.Column("user_id", uuid, nullable=False),
        sa.Column("session_id", uuid, nullable=False),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(200), nullable=True),
        sa.Column("operation_type", sa.String(12), nullable=True),
        sa.Column("operation_name", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(128), nullable=False),
        **partitioning,
    )


_SHARED_NAME = "audit_events_refuse_change"


def _schema() -> TenantSchema:
    return validate_tenant_schema(str(context.config.attributes["tenant_schema"]))


def _role() -> str:
    return tenant_role(_schema())


def upgrade() -> None:
    # The triggers follow the function by its oid.
    op.execute(f"ALTER FUNCTION {_SHARED_NAME}() RENAME TO {_SHARED_NAME}_{_schema()}")
    op.execute("ALTER TABLE access_log RENAME TO access_log_by_month")
    _create()
    op.create_index("ix_access_log_at", "access_log", ["at"], postgresql_using="brin")
    # Default privileges gave the tenant role all four; it may add and read, no more.
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON access_log FROM {_role()}")
    op.execute(
        f"INSERT INTO access_log ({_COLUMNS}) "
        f"SELECT {_COLUMNS} FROM access_log_by_month ORDER BY at"
    )
    op.execute("DROP TABLE access_log_by_month")  # its partitions go with it


def _month(moment: datetime, later: int = 0) -> datetime:
    index = moment.year * 12 + moment.month - 1 + later
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def downgrade() -> None:
    op.execute(f"ALTER FUNCTION {_SHARED_NAME}_{_schema()}() RENAME TO {_SHARED_NAME}")
    role = _role()
    op.execute("ALTER TABLE access_log RENAME TO access_log_plain")
    _create(postgresql_partition_by="RANGE (at)")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON access_log FROM {role}")
    # A partition for every month a row is in, and for this month and the next.
    now = datetime.now(UTC)
    oldest, newest = (
        op.get_bind().execute(sa.text("SELECT min(at), max(at) FROM access_log_plain")).one()
    )
    month, last = _month(min(oldest or now, now)), _month(max(newest or now, now), 1)
    while month <= last:
        name = f"access_log_{month:%Y%m}"
        op.execute(
            f"CREATE TABLE {name} PARTITION OF access_log "
            f"FOR VALUES FROM ('{month.isoformat()}') TO ('{_month(month, 1).isoformat()}')"
        )
        op.execute(f"REVOKE ALL ON {name} FROM {role}")
        month = _month(month, 1)
    op.execute(f"INSERT INTO access_log ({_COLUMNS}) SELECT {_COLUMNS} FROM access_log_plain")
    op.execute("DROP TABLE access_log_plain")

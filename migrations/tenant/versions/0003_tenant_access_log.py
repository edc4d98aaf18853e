"""The access log: one row per authenticated request, partitioned by month.

The current and the next month's partitions are made here, by the wall clock of the
run. 0008 made it one plain table again (`tenants/access_log/expiry.py` says why); the
partitions' DDL is kept here as this revision made it.

Revision ID: 0003_tenant
Revises: 0002_tenant
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql as pg

from audora.platform.db.tenant_names import tenant_role, validate_tenant_schema

revision = "0003_tenant"
down_revision = "0002_tenant"
branch_labels = None
depends_on = None


def upgrade() -> None:
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
        postgresql_partition_by="RANGE (at)",
    )
    schema = validate_tenant_schema(str(context.config.attributes["tenant_schema"]))
    # The tenant adds rows and reads them; only the schema owner removes them.
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON access_log FROM {tenant_role(schema)}")
    now = datetime.now(UTC)
    this_month = datetime(now.year, now.month, 1, tzinfo=UTC)
    for month in range(2):
        start = _months_later(this_month, month)
        end = _months_later(this_month, month + 1)
        name = f"access_log_{start:%Y%m}"
        # Names and bounds come from the clock, never from input.
        op.execute(
            f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF access_log "
            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
        )
        op.execute(f"REVOKE ALL ON {name} FROM {tenant_role(schema)}")


def _months_later(month: datetime, count: int) -> datetime:
    index = month.year * 12 + month.month - 1 + count
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def downgrade() -> None:
    op.drop_table("access_log")  # its partitions go with it

"""The access log's monthly partitions: made ahead of time, dropped when expired.

Provisioning and the tenant migration create the current and the next month; the
worker's daily `ensure_access_log_partitions` cron (`jobs.py`) creates them again (a no-op
while they exist), so the month ahead always exists with weeks to spare, and drops every
month whose newest possible row is older than `access_log_months`. There is no DEFAULT
partition on purpose: a row landing there would make the month's real partition
impossible to create until someone moved it by hand.

Months are UTC calendar months: partition `access_log_202506` holds
`[2025-06-01T00:00Z, 2025-07-01T00:00Z)`. Each drop writes `retention.access_log_dropped`
to the tenant's audit log in the same transaction, so the log says exactly what was
dropped and never claims a drop that did not happen.

Partitions belong to the schema owner (the provisioner, which runs this), and the tenant
role holds no privilege on them: rows reach a partition only through `access_log`, on
which the tenant role may insert and read but neither update nor delete.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import func, literal, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from audora.platform.db.tenant_binding import TenantRef, TenantUnitOfWork, point_provisioner_at
from audora.platform.db.tenant_names import TenantSchema, tenant_role
from audora.tenants.audit.log import AuditEntry, append

PARENT = "access_log"
_NAME = re.compile(r"\Aaccess_log_(\d{4})(\d{2})\Z")
# Advisory lock class of partition maintenance (the second key is the schema's hash):
# two runs for one tenant take turns, so a partition is dropped and audited once.
_LOCK_CLASS = 0x616C  # "al"


def month_of(moment: datetime) -> date:
    """The first day of `moment`'s month, in UTC."""
    utc = moment.astimezone(UTC)
    return date(utc.year, utc.month, 1)


def months_after(month: date, count: int) -> date:
    """The first day of the month `count` months after `month` (negative: before)."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_start(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def partition_name(month: date) -> str:
    return f"{PARENT}_{month.year:04d}{month.month:02d}"


def partition_month(name: str) -> date | None:
    """The month a partition of ours holds, or None for a name that is not one."""
    match = _NAME.match(name)
    if match is None or not 1 <= int(match.group(2)) <= 12:
        return None
    return date(int(match.group(1)), int(match.group(2)), 1)


def months_ahead(now: datetime) -> tuple[date, date]:
    """The months that must exist at `now`: this one and the next."""
    current = month_of(now)
    return current, months_after(current, 1)


def partition_ddl(schema: TenantSchema, month: date) -> list[str]:
    """Create `month`'s partition (if missing), closed to the tenant role."""
    name = partition_name(month)
    start = month_start(month).isoformat()
    end = month_start(months_after(month, 1)).isoformat()
    return [
        # Names and bounds are made here from a date, never from input; DDL takes no
        # bind parameters.
        f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {PARENT} "
        f"FOR VALUES FROM ('{start}') TO ('{end}')",
        f"REVOKE ALL ON {name} FROM {tenant_role(schema)}",
    ]


def initial_partitions_ddl(schema: TenantSchema, now: datetime) -> list[str]:
    """The partitions a new (or newly migrated) tenant starts with."""
    return [stmt for month in months_ahead(now) for stmt in partition_ddl(schema, month)]


def expired(month: date, now: datetime, keep_months: int) -> bool:
    """Whether every row `month` can hold is more than `keep_months` old at `now`."""
    return month_start(months_after(month, 1 + keep_months)) <= now


@dataclass(frozen=True)
class DroppedPartition:
    name: str
    start: datetime
    end: datetime
    rows: int


@dataclass
class Maintenance:
    created: list[str] = field(default_factory=list)
    dropped: list[DroppedPartition] = field(default_factory=list)


async def _partitions(conn: AsyncConnection, schema: TenantSchema) -> dict[str, date]:
    rows = await conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = CAST(:parent AS regclass)"
        ),
        {"parent": f"{schema}.{PARENT}"},
    )
    found: dict[str, date] = {}
    for (name,) in rows:
        month = partition_month(name)
        if month is not None:
            found[name] = month
    return found


async def maintain_partitions(
    provisioner: AsyncEngine, schema: TenantSchema, now: datetime, *, keep_months: int
) -> Maintenance:
    """Make this month's and next month's partitions, drop the expired ones and audit
    each drop, in one transaction as the schema owner. Idempotent."""
    if keep_months < 1:
        raise ValueError("the access log is kept at least one month")
    done = Maintenance()
    async with provisioner.connect() as conn:
        await conn.begin()
        await point_provisioner_at(conn, schema)
        await conn.execute(
            select(func.pg_advisory_xact_lock(literal(_LOCK_CLASS), func.hashtext(str(schema))))
        )
        existing = await _partitions(conn, schema)
        for month in months_ahead(now):
            if partition_name(month) not in existing:
                for statement in partition_ddl(schema, month):
                    await conn.exec_driver_sql(statement)
                done.created.append(partition_name(month))
        audit = TenantUnitOfWork(conn, TenantRef(schema))
        for name, month in sorted(existing.items(), key=lambda item: item[1]):
            if not expired(month, now, keep_months):
                continue
            # `name` matched _NAME above: an identifier of ours, not input.
            rows = (await conn.exec_driver_sql(f"SELECT count(*) FROM {name}")).scalar_one()  # noqa: S608
            await conn.exec_driver_sql(f"DROP TABLE {name}")
            dropped = DroppedPartition(
                name, month_start(month), month_start(months_after(month, 1)), int(rows)
            )
            await append(
                audit,
                now,
                AuditEntry(
                    actor="system:retention",
                    action="retention.access_log_dropped",
                    target=f"access_log:{dropped.start:%Y-%m}",
                    details={
                        "partition": dropped.name,
                        "from": dropped.start.isoformat(),
                        "to": dropped.end.isoformat(),
                        "rows": dropped.rows,
                        "keepMonths": keep_months,
                    },
                ),
            )
            done.dropped.append(dropped)
        await conn.commit()
    return done

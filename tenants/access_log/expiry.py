"""The access log's expiry: a row goes once it is `keep_months` calendar months old.

The worker's daily `expire_access_logs` cron (`jobs.py`) queues one job per live tenant.
Each deletes, as the schema owner, the rows older than the cutoff (the same instant
`keep_months` calendar months before now, the day clamped to the month's end) and writes
`retention.access_log_expired` to the tenant's audit log in the same transaction, with
how many rows went and the cutoff; a run that finds nothing writes nothing. A second run
on the same day finds nothing, and two at once cannot both count a row: the second's
DELETE waits for the first's and then skips the rows it removed.

Why not monthly partitions, dropped whole (the first design): PostgreSQL 16 scans all of
pg_constraint, which has no index it can use for this, for every partition it creates or
attaches (`CloneFkReferenced`). Every tenant's two partitions cost time that grew with
every other tenant's constraints: at 5,500 tenants, 39% of the provisioner's CPU, and the
daily job's month-ahead partitions paid it again once a month for every tenant.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from audora.platform.db.tenant_binding import TenantRef, TenantUnitOfWork, point_provisioner_at
from audora.platform.db.tenant_names import TenantSchema
from audora.tenants.access_log.tables import access_log
from audora.tenants.audit.log import AuditEntry, append


def cutoff(now: datetime, keep_months: int) -> datetime:
    """The instant `keep_months` calendar months before `now` (31 March less one month
    is 28 or 29 February): rows from before it have been kept long enough."""
    if keep_months < 1:
        raise ValueError("the access log is kept at least one month")
    index = now.year * 12 + now.month - 1 - keep_months
    year, month = divmod(index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return now.replace(year=year, month=month + 1, day=min(now.day, last_day))


@dataclass(frozen=True)
class Expired:
    before: datetime
    rows: int


async def expire_access_log(
    provisioner: AsyncEngine, schema: TenantSchema, now: datetime, *, keep_months: int
) -> Expired:
    """Delete the tenant's rows older than `cutoff(now, keep_months)` and audit how many,
    in one transaction as the schema owner."""
    before = cutoff(now, keep_months)
    async with provisioner.connect() as conn:
        await conn.begin()
        await point_provisioner_at(conn, schema)
        gone = await conn.execute(delete(access_log).where(access_log.c.at < before))
        expired = Expired(before, int(gone.rowcount))
        if expired.rows:
            await append(
                TenantUnitOfWork(conn, TenantRef(schema)),
                now,
                AuditEntry(
                    actor="system:retention",
                    action="retention.access_log_expired",
                    target="access_log",
                    details={
                        "before": before.isoformat(),
                        "rows": expired.rows,
                        "keepMonths": keep_months,
                    },
                ),
            )
        await conn.commit()
    return expired

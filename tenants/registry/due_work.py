"""Which tenants each sweep must visit, so that a sweep's cost follows the tenants with
work in flight rather than every tenant there is.

The sweeps (stuck calls, meeting bots and pushes; retention) used to read every tenant
every ten minutes: at 10,000 tenants that was 40,000 tenant transactions and as many S3
round trips each time, all but a few finding nothing, and the worker was never done.

Now whatever puts work in a sweep's care marks the tenant for that sweep first, in the
platform schema, with the moment the work could next need the sweep (`mark_due`), before
the tenant transaction that makes the work commits: a crash in between leaves a mark
with no work, which a visit clears, never work with no mark. A sweep visits the tenants
whose mark is due, and each visit says when the tenant next needs it, from what is still
in flight there (`settle`): the mark moves to then, or goes when nothing is left.

A mark made while a sweep was reading the tenant must survive that sweep's `settle`:
every mark raises the row's version, and `settle` changes only the version it read.

Once a day `mark_every_tenant_due` marks every live tenant for every sweep, so that work
a path forgot to mark (or that predates the marks) is found within a day; the visits of
that pass clear the marks of tenants with nothing in flight.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    String,
    and_,
    column,
    delete,
    func,
    literal,
    select,
    true,
    update,
    values,
)
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from audora.tenants.registry.repository import is_live_account, no_purge_begun
from audora.tenants.registry.tables import accounts, tenant_due_work

# Every account status but PURGED: those whose schema still exists.
LIVE_STATUSES = ("ACTIVE", "CLOSED", "LAPSED", "SUSPENDED")


class Sweep(StrEnum):
    CALLS = "calls"
    BOTS = "bots"
    PUSHES = "pushes"
    RETENTION = "retention"


@dataclass(frozen=True)
class DueTenant:
    tenant_id: uuid.UUID
    version: int


def mark_statement(tenant_id: uuid.UUID, sweep: Sweep, at: datetime) -> Insert:
    """The upsert `mark_due` runs (tests run it on their own connections too)."""
    return _keep_earliest(
        insert(tenant_due_work).values(account_id=tenant_id, sweep=sweep, due_at=at)
    )


def _keep_earliest(statement: Insert) -> Insert:
    """On an existing mark: keep the earlier moment, and raise the version."""
    return statement.on_conflict_do_update(
        index_elements=[tenant_due_work.c.account_id, tenant_due_work.c.sweep],
        set_={
            "due_at": func.least(tenant_due_work.c.due_at, statement.excluded.due_at),
            "version": tenant_due_work.c.version + 1,
        },
    )


async def mark_due(platform: AsyncEngine, tenant_id: uuid.UUID, sweep: Sweep, at: datetime) -> None:
    """Have `sweep` visit the tenant at `at` at the latest (an earlier mark stands)."""
    async with platform.begin() as conn:
        await conn.execute(mark_statement(tenant_id, sweep, at))


async def due_tenants(
    platform: AsyncEngine, sweep: Sweep, now: datetime, *, statuses: tuple[str, ...]
) -> list[DueTenant]:
    """The tenants of an account in one of `statuses` (and no purge begun) whose mark for
    `sweep` is due, most overdue first. Other marks wait: a suspended account's work is
    picked up once it is active again."""
    query = (
        select(tenant_due_work.c.account_id, tenant_due_work.c.version)
        .join(accounts, accounts.c.id == tenant_due_work.c.account_id)
        .where(
            tenant_due_work.c.sweep == sweep,
            tenant_due_work.c.due_at <= now,
            accounts.c.status.in_(statuses),
            no_purge_begun(),
        )
        .order_by(tenant_due_work.c.due_at)
    )
    async with platform.connect() as conn:
        return [DueTenant(row.account_id, row.version) for row in await conn.execute(query)]


async def settle(
    platform: AsyncEngine, due: DueTenant, sweep: Sweep, next_due: datetime | None
) -> None:
    """After a visit: the tenant next needs `sweep` at `next_due`, or never (None) until
    new work marks it. A mark made since the visit's read is left as it is."""
    same_mark = and_(
        tenant_due_work.c.account_id == due.tenant_id,
        tenant_due_work.c.sweep == sweep,
        tenant_due_work.c.version == due.version,
    )
    statement: Any = (
        delete(tenant_due_work).where(same_mark)
        if next_due is None
        else update(tenant_due_work).where(same_mark).values(due_at=next_due)
    )
    async with platform.begin() as conn:
        await conn.execute(statement)


async def mark_every_tenant_due(platform: AsyncEngine, now: datetime) -> int:
    """The daily safety net: every live tenant due now for every sweep; how many tenants."""
    live = select(accounts.c.id).where(is_live_account()).subquery()
    sweeps = values(column("sweep", String), name="sweeps").data([(s.value,) for s in Sweep])
    rows = select(live.c.id, sweeps.c.sweep, literal(now).label("due_at")).select_from(
        live.join(sweeps, true())
    )
    statement = insert(tenant_due_work).from_select(["account_id", "sweep", "due_at"], rows)
    async with platform.begin() as conn:
        await conn.execute(_keep_earliest(statement))
        counted = await conn.execute(select(func.count()).select_from(live))
        return int(counted.scalar_one())

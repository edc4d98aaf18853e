"""One read in each of many tenants, each in its own tenant transaction: what the sweeps
share. A tenant whose read fails is logged and passed over, so one broken schema never
stops the others.

`sweep_due_tenants` reads only the tenants whose mark for the sweep is due
(tenants/registry/due_work.py), and settles each mark from what its read found.

Reads run a few at a time: one after another, the round trips alone made a sweep of
10,000 tenants outlast arq's 300 s job timeout. A few, not many, because the worker's
tenant pool also serves its jobs.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime
from typing import TypeVar

from audora.platform.db.tenant_binding import TenantRef, TenantUnitOfWork, tenant_transaction
from audora.platform.db.tenant_names import tenant_schema
from audora.platform.runtime import Runtime
from audora.tenants.registry.due_work import Sweep, due_tenants, settle

log = logging.getLogger(__name__)

T = TypeVar("T")

CONCURRENCY = 4
# Tenants started together; results are handed on batch by batch, in tenant order.
BATCH = 256


async def read_in_tenants(
    runtime: Runtime,
    tenants: Sequence[uuid.UUID],
    read: Callable[[TenantUnitOfWork], Awaitable[T]],
    what: str,
) -> AsyncIterator[tuple[uuid.UUID, T]]:
    """(tenant, what `read` found there), for each of `tenants`; `what` names it in the
    log line of a tenant whose read failed."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(tenant_id: uuid.UUID) -> tuple[uuid.UUID, T] | None:
        async with gate:
            try:
                async with tenant_transaction(
                    runtime.tenant_engines, TenantRef(tenant_schema(tenant_id))
                ) as uow:
                    return tenant_id, await read(uow)
            except Exception:
                log.exception("could not look for %s in %s", what, tenant_id)
                return None

    for start in range(0, len(tenants), BATCH):
        batch = tenants[start : start + BATCH]
        for found in await asyncio.gather(*(one(t) for t in batch)):
            if found is not None:
                yield found


async def sweep_due_tenants(
    runtime: Runtime,
    sweep: Sweep,
    read: Callable[[TenantUnitOfWork], Awaitable[tuple[T, datetime | None]]],
    what: str,
    *,
    statuses: tuple[str, ...] = ("ACTIVE",),
) -> AsyncIterator[tuple[uuid.UUID, T]]:
    """(tenant, what `read` found there) for each tenant due for `sweep`, in an account of
    one of `statuses`. `read` also says when the tenant next needs the sweep (None: not
    until new work marks it); the mark is settled once the caller is done with what was
    found, so a caller that fails leaves the tenant due for the next run."""
    due = {
        tenant.tenant_id: tenant
        for tenant in await due_tenants(
            runtime.platform_engine, sweep, runtime.clock.now(), statuses=statuses
        )
    }
    async for tenant_id, (found, next_due) in read_in_tenants(runtime, list(due), read, what):
        yield tenant_id, found
        await settle(runtime.platform_engine, due[tenant_id], sweep, next_due)

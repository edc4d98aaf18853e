"""One read in each of many tenants, each in its own tenant transaction: what the sweeps
that queue lost jobs again share. A tenant whose read fails is logged and passed over,
so one broken schema never stops the others.

Reads run a few at a time: one after another, the round trips alone made a sweep of
10,000 tenants outlast arq's 300 s job timeout. A few, not many, because the worker's
tenant pool also serves its jobs.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TypeVar

from audora.platform.db.tenant_binding import TenantRef, TenantUnitOfWork, tenant_transaction
from audora.platform.db.tenant_names import tenant_schema
from audora.platform.runtime import Runtime
from audora.tenants.registry.repository import active_account_ids

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


async def read_in_active_tenants(
    runtime: Runtime, read: Callable[[TenantUnitOfWork], Awaitable[T]], what: str
) -> AsyncIterator[tuple[uuid.UUID, T]]:
    """`read_in_tenants` over every ACTIVE account."""
    tenants = await active_account_ids(runtime.platform_engine)
    async for found in read_in_tenants(runtime, tenants, read, what):
        yield found

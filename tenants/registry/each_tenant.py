"""One read in each ACTIVE account, each in its own tenant transaction: what the sweeps
that queue lost jobs again share. A tenant whose read fails is logged and passed over,
so one broken schema never stops the others."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from audora.platform.db.tenant_binding import TenantRef, TenantUnitOfWork, tenant_transaction
from audora.platform.db.tenant_names import tenant_schema
from audora.platform.runtime import Runtime
from audora.tenants.registry.repository import active_account_ids

log = logging.getLogger(__name__)

T = TypeVar("T")


async def read_in_active_tenants(
    runtime: Runtime, read: Callable[[TenantUnitOfWork], Awaitable[T]], what: str
) -> AsyncIterator[tuple[uuid.UUID, T]]:
    """(tenant, what `read` found there), for every ACTIVE account; `what` names it in
    the log line of a tenant whose read failed."""
    for tenant_id in await active_account_ids(runtime.platform_engine):
        try:
            async with tenant_transaction(
                runtime.tenant_engines, TenantRef(tenant_schema(tenant_id))
            ) as uow:
                found = await read(uow)
        except Exception:
            log.exception("could not look for %s in %s", what, tenant_id)
            continue
        yield tenant_id, found

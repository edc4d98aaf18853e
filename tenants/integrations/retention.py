"""Outbound delivery records leave once their use is over: a push that finished (DONE
or FAILED) more than 30 days ago is deleted (the schedule's WEBHOOK_DELIVERIES row).
What a push made at its destination stays in `integration_links`, so a later push still
updates instead of duplicating. Inbound meeting-bot delivery ids need no job: each lives
in Redis under a 24-hour TTL (`tenants/meeting_bots/http.py`).
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete

from audora.platform.db.tenant_binding import TenantRef, tenant_transaction
from audora.platform.db.tenant_names import tenant_schema
from audora.platform.runtime import Runtime
from audora.tenants.integrations.tables import integration_pushes
from audora.tenants.lifecycle.schedule import DataClass, period_of


async def delete_finished_pushes(runtime: Runtime, tenant_id: uuid.UUID) -> int:
    """Delete the tenant's pushes that finished longer ago than the schedule keeps them."""
    cutoff = runtime.clock.now() - period_of(DataClass.WEBHOOK_DELIVERIES)
    async with tenant_transaction(
        runtime.tenant_engines, TenantRef(tenant_schema(tenant_id))
    ) as uow:
        deleted = await uow.execute(
            delete(integration_pushes).where(
                integration_pushes.c.status.in_(("DONE", "FAILED")),
                integration_pushes.c.finished_at < cutoff,
            )
        )
        await uow.commit()
    return int(deleted.rowcount)  # type: ignore[attr-defined]

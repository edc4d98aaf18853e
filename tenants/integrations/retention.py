"""Outbound delivery records leave once their use is over: a push that finished (DONE
or FAILED) more than 30 days ago is deleted (the schedule's WEBHOOK_DELIVERIES row).
What a push made at its destination stays in `integration_links`, so a later push still
updates instead of duplicating. Inbound meeting-bot delivery ids need no job: each lives
in Redis under a 24-hour TTL (`tenants/meeting_bots/http.py`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, exists, func, select

from audora.platform.db.tenant_binding import TenantRef, tenant_transaction
from audora.platform.db.tenant_names import tenant_schema
from audora.platform.runtime import Runtime
from audora.tenants.integrations.jobs import ACTIVE_STATUSES
from audora.tenants.integrations.tables import integration_pushes
from audora.tenants.lifecycle.schedule import DataClass, period_of

FINISHED = ("DONE", "FAILED")


async def delete_finished_pushes(
    runtime: Runtime, tenant_id: uuid.UUID
) -> tuple[int, datetime | None]:
    """Delete the tenant's pushes that finished longer ago than the schedule keeps them;
    (how many, when the next push left is due: None when none will be)."""
    now = runtime.clock.now()
    period = period_of(DataClass.WEBHOOK_DELIVERIES)
    async with tenant_transaction(
        runtime.tenant_engines, TenantRef(tenant_schema(tenant_id))
    ) as uow:
        deleted = await uow.execute(
            delete(integration_pushes).where(
                integration_pushes.c.status.in_(FINISHED),
                integration_pushes.c.finished_at < now - period,
            )
        )
        left = (
            await uow.execute(
                select(
                    select(func.min(integration_pushes.c.finished_at))
                    .where(integration_pushes.c.status.in_(FINISHED))
                    .scalar_subquery()
                    .label("finished"),
                    exists()
                    .where(integration_pushes.c.status.in_(ACTIVE_STATUSES))
                    .label("sending"),
                )
            )
        ).one()
        finished, sending = left.finished, left.sending
        await uow.commit()
    # A push still being sent finishes at the earliest now.
    moments = [m for m in (finished and finished + period, sending and now + period) if m]
    return int(deleted.rowcount), min(moments, default=None)  # type: ignore[attr-defined]

"""The sweep that keeps a confirmed push from staying CONFIRMED or SENDING for good.

A push's job can go missing: Redis refused it when it was confirmed, or arq dropped it
after a worker was killed during its last try. Every ten minutes the worker looks, in
each ACTIVE account, for pushes confirmed longer ago than all of a job's tries could
take and still not DONE or FAILED, and queues their job again under the push's own job
id (a job still queued or running is never doubled). The job is idempotent: items the
destination already made are updated, not made again.

Only tenants marked for this sweep are read (tenants/registry/due_work.py): a
confirmation marks its tenant (`expect_push`), due when the push would count as stuck;
a visit moves the mark to the next push's such moment, or clears it.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from audora.platform.db.tenant_binding import TenantUnitOfWork
from audora.platform.jobs.queue import enqueue
from audora.platform.runtime import Runtime
from audora.tenants.integrations.jobs import (
    ACTIVE_STATUSES,
    JOB,
    JOB_TIMEOUT_SECONDS,
    MAX_TRIES,
    RETRY_BACKOFF_SECONDS,
    push_job_id,
)
from audora.tenants.integrations.tables import integration_pushes
from audora.tenants.lifecycle.schedule import DataClass, period_of
from audora.tenants.registry.due_work import Sweep, mark_due
from audora.tenants.registry.each_tenant import sweep_due_tenants

log = logging.getLogger(__name__)

# Longer than every try of a push's job with every wait between them.
STUCK_AFTER = timedelta(
    seconds=MAX_TRIES * JOB_TIMEOUT_SECONDS
    + RETRY_BACKOFF_SECONDS * MAX_TRIES * (MAX_TRIES + 1) // 2
)


async def expect_push(runtime: Runtime, tenant_id: uuid.UUID) -> None:
    """Before a push is confirmed: this sweep looks after it until it is DONE or FAILED,
    and retention deletes it once the schedule's period has passed after that."""
    now = runtime.clock.now()
    await mark_due(runtime.platform_engine, tenant_id, Sweep.PUSHES, now + STUCK_AFTER)
    retained = now + period_of(DataClass.WEBHOOK_DELIVERIES)
    await mark_due(runtime.platform_engine, tenant_id, Sweep.RETENTION, retained)


async def requeue_stuck_pushes_job(ctx: dict[str, Any]) -> int:
    """Queue the job of every push stuck CONFIRMED or SENDING; how many it queued."""
    runtime: Runtime = ctx["runtime"]
    cutoff = runtime.clock.now() - STUCK_AFTER

    async def stuck(uow: TenantUnitOfWork) -> tuple[list[uuid.UUID], datetime | None]:
        rows = await uow.execute(
            select(integration_pushes.c.id).where(
                integration_pushes.c.status.in_(ACTIVE_STATUSES),
                integration_pushes.c.confirmed_at < cutoff,
            )
        )
        oldest = await uow.execute(
            select(func.min(integration_pushes.c.confirmed_at)).where(
                integration_pushes.c.status.in_(ACTIVE_STATUSES)
            )
        )
        first = oldest.scalar_one()
        return list(rows.scalars()), None if first is None else first + STUCK_AFTER

    queued = 0
    swept = sweep_due_tenants(runtime, Sweep.PUSHES, stuck, "stuck pushes")
    async for tenant_id, push_ids in swept:
        for push_id in push_ids:
            if await enqueue(
                runtime.settings.redis_url,
                JOB,
                str(tenant_id),
                str(push_id),
                job_id=push_job_id(push_id),
            ):
                queued += 1
                log.info("queued the stuck push %s again", push_id)
    return queued

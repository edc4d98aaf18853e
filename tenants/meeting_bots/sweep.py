"""The sweep that keeps a meeting bot's recording from being forgotten, here or at the
provider.

Jobs can go missing (Redis refused or lost them, arq dropped one after a killed
worker's last try). Every ten minutes the worker looks, in each tenant, for bots whose
next step has no job: a recording announced a while ago but not fetched, a recording
fetched (or refused) without the provider being asked to delete its copy, and a
deletion not yet verified whose retry vanished. Each gets its job again, under the same
per-call id the job was queued with, so a job still waiting is never doubled; the jobs
act from the bot's state, so a second run changes nothing besides.

Only tenants marked for this sweep are read (tenants/registry/due_work.py): a recording
announced marks its tenant; a visit keeps the mark while a bot has a step left, due
when it would count as stuck, and clears it once every bot is done.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, func, or_, select

from audora.platform.db.tenant_binding import TenantUnitOfWork
from audora.platform.jobs.queue import enqueue
from audora.platform.runtime import Runtime
from audora.tenants.meeting_bots.events import FETCH_JOB, STUCK_AFTER, fetch_job_id
from audora.tenants.meeting_bots.jobs import DELETE_JOB, DELETION_TRIES, deletion_job_id
from audora.tenants.meeting_bots.service import BotStatus
from audora.tenants.meeting_bots.tables import meeting_bots
from audora.tenants.registry.due_work import LIVE_STATUSES, Sweep
from audora.tenants.registry.each_tenant import sweep_due_tenants

log = logging.getLogger(__name__)


async def requeue_stuck_bot_jobs(ctx: dict[str, Any]) -> int:
    """Queue again the job of every bot whose next step has none; how many it queued."""
    runtime: Runtime = ctx["runtime"]
    now = runtime.clock.now()
    cutoff = now - STUCK_AFTER

    async def stuck(uow: TenantUnitOfWork) -> tuple[Sequence[Row[Any]], datetime | None]:
        found = (
            await uow.execute(
                select(
                    meeting_bots.c.call_id,
                    meeting_bots.c.status,
                    meeting_bots.c.deletion_attempts,
                ).where(
                    or_(
                        and_(
                            meeting_bots.c.status == BotStatus.RECORDING_READY,
                            meeting_bots.c.recording_ready_at < cutoff,
                        ),
                        and_(
                            meeting_bots.c.status.in_([BotStatus.FETCHED, BotStatus.FAILED]),
                            meeting_bots.c.deletion_attempts == 0,
                        ),
                        and_(
                            meeting_bots.c.status == BotStatus.DELETION_UNVERIFIED,
                            meeting_bots.c.deletion_attempts < DELETION_TRIES,
                        ),
                    )
                )
            )
        ).all()
        # The others wait on their job: due again when the oldest would be stuck.
        waiting = (
            await uow.execute(
                select(func.min(meeting_bots.c.recording_ready_at)).where(
                    meeting_bots.c.status == BotStatus.RECORDING_READY
                )
            )
        ).scalar_one()
        if found:
            return found, now
        return found, None if waiting is None else waiting + STUCK_AFTER

    queued = 0
    # Every account not purged: a closed or suspended account's recordings are still
    # fetched, and deleted at the provider.
    swept = sweep_due_tenants(
        runtime, Sweep.BOTS, stuck, "stuck meeting bots", statuses=LIVE_STATUSES
    )
    async for tenant_id, found in swept:
        for bot in found:
            call_id = bot.call_id
            if bot.status == BotStatus.DELETION_UNVERIFIED:
                job, job_id = DELETE_JOB, deletion_job_id(call_id, bot.deletion_attempts)
            else:
                job, job_id = FETCH_JOB, fetch_job_id(call_id)
            if await enqueue(
                runtime.settings.redis_url, job, str(tenant_id), str(call_id), job_id=job_id
            ):
                queued += 1
                log.info("queued %s for call %s again", job, call_id)
    return queued

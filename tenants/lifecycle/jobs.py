"""The retention schedule's jobs: the worker's cron runs `retention_sweep_job` every ten
minutes, and `audora retention run` runs the same code at once.

One tenant's failure never stops the others: it is logged (the alert) and the next run
tries it again, since every step is idempotent.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from audora.platform.runtime import Runtime
from audora.tenants.lifecycle.credentials import delete_expired_credentials
from audora.tenants.recordings.retention import AudioSweep, delete_due_recordings
from audora.tenants.registry.repository import live_account_ids

log = logging.getLogger(__name__)

CONCURRENCY = 4


@dataclass
class RetentionRun:
    tenants: int = 0
    recordings_erased: int = 0
    objects_deleted: int = 0
    objects_left: int = 0
    overdue: int = 0
    expired_credentials: dict[str, int] = field(default_factory=dict)
    failed_tenants: list[str] = field(default_factory=list)

    def add(self, sweep: AudioSweep) -> None:
        self.recordings_erased += sweep.erased
        self.objects_deleted += sweep.objects_deleted
        self.objects_left += sweep.objects_left
        self.overdue += sweep.overdue


async def run_due_retention(runtime: Runtime) -> RetentionRun:
    """Every retention action that is due now, for every tenant."""
    tenants = await live_account_ids(runtime.platform_engine)
    run = RetentionRun(tenants=len(tenants))
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(tenant: uuid.UUID) -> None:
        async with gate:
            try:
                run.add(await delete_due_recordings(runtime, tenant))
            except Exception:
                log.exception("audio retention failed for tenant %s; the next run retries", tenant)
                run.failed_tenants.append(str(tenant))

    await asyncio.gather(*(one(t) for t in tenants))
    expired = await delete_expired_credentials(
        runtime.platform_engine, runtime.clock.now(), runtime.settings.session_idle
    )
    run.expired_credentials = {
        "sessions": expired.sessions,
        "upload_tickets": expired.upload_tickets,
        "invitations": expired.invitations,
    }
    if run.failed_tenants or run.overdue or run.objects_left:
        log.error("retention run incomplete: %s", run)
    return run


async def retention_sweep_job(ctx: dict[str, Any]) -> dict[str, Any]:
    runtime: Runtime = ctx["runtime"]
    run = await run_due_retention(runtime)
    return {
        "tenants": run.tenants,
        "erased": run.recordings_erased,
        "objects_deleted": run.objects_deleted,
        "overdue": run.overdue,
        "expired_credentials": run.expired_credentials,
        "failed": len(run.failed_tenants),
    }

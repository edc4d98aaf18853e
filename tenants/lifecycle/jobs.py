"""The retention schedule's jobs: the worker's cron runs `retention_sweep_job` every ten
minutes, and `audora retention run` runs the same code at once: audio past its deadline,
data exports past their 24 hours, and accounts past their closure's grace (the purge).
Only tenants marked due are visited: a transcript, an export and a push mark theirs
with the moment their data must go, and each visit moves the mark to the next one.

One tenant's failure never stops the others: it is logged (the alert) and the next run
tries it again, since every step is idempotent.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from audora.platform.billing.records import delete_expired_billing_records
from audora.platform.metrics.gauges import (
    AUDIO_OBJECTS_LEFT,
    RECORDINGS_PAST_DEADLINE,
    RETENTION_FAILED_TENANTS,
    RETENTION_LAST_RUN,
    set_gauges,
)
from audora.platform.runtime import Runtime
from audora.tenants.integrations.retention import delete_finished_pushes
from audora.tenants.lifecycle.credentials import delete_expired_credentials
from audora.tenants.lifecycle.export import sweep_exports
from audora.tenants.lifecycle.purge import purge_due_accounts
from audora.tenants.lifecycle.schedule import DataClass, period_of
from audora.tenants.recordings.retention import AudioSweep, delete_due_recordings
from audora.tenants.registry.due_work import LIVE_STATUSES, DueTenant, Sweep, due_tenants, settle

log = logging.getLogger(__name__)

CONCURRENCY = 4


@dataclass
class RetentionRun:
    tenants: int = 0
    recordings_erased: int = 0
    objects_deleted: int = 0
    objects_left: int = 0
    overdue: int = 0
    exports_expired: int = 0
    pushes_deleted: int = 0
    billing_records_deleted: int = 0
    purged: list[str] = field(default_factory=list)
    expired_credentials: dict[str, int] = field(default_factory=dict)
    failed_tenants: list[str] = field(default_factory=list)

    def add(self, sweep: AudioSweep) -> None:
        self.recordings_erased += sweep.erased
        self.objects_deleted += sweep.objects_deleted
        self.objects_left += sweep.objects_left
        self.overdue += sweep.overdue


async def run_due_retention(runtime: Runtime) -> RetentionRun:
    """Every retention action that is due now, in every tenant marked due for it
    (tenants/registry/due_work.py), and every account-level one."""
    tenants = await due_tenants(
        runtime.platform_engine, Sweep.RETENTION, runtime.clock.now(), statuses=LIVE_STATUSES
    )
    run = RetentionRun(tenants=len(tenants))
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(tenant: DueTenant) -> None:
        async with gate:
            try:
                audio = await delete_due_recordings(runtime, tenant.tenant_id)
                exports = await sweep_exports(runtime, tenant.tenant_id)
                pushes, pushes_due = await delete_finished_pushes(runtime, tenant.tenant_id)
            except Exception:
                log.exception(
                    "retention failed for tenant %s; the next run retries", tenant.tenant_id
                )
                run.failed_tenants.append(str(tenant.tenant_id))
                return
            run.add(audio)
            run.exports_expired += exports.expired
            run.pushes_deleted += pushes
            moments = [m for m in (audio.next_due, exports.next_due, pushes_due) if m]
            await settle(
                runtime.platform_engine, tenant, Sweep.RETENTION, min(moments, default=None)
            )

    await asyncio.gather(*(one(t) for t in tenants))
    # Accounts past their closure's grace, and purges left unfinished, after the
    # per-tenant sweeps (which never touch a purged account).
    purged, failed = await purge_due_accounts(runtime)
    run.purged += [str(t) for t in purged]
    run.failed_tenants += [str(t) for t in failed]
    run.billing_records_deleted = await delete_expired_billing_records(
        runtime.platform_engine, runtime.clock.now(), period_of(DataClass.BILLING)
    )
    expired = await delete_expired_credentials(
        runtime.platform_engine, runtime.clock.now(), runtime.settings.session_idle
    )
    run.expired_credentials = {
        "sessions": expired.sessions,
        "upload_tickets": expired.upload_tickets,
        "invitations": expired.invitations,
    }
    await set_gauges(
        runtime.redis,
        {
            RECORDINGS_PAST_DEADLINE: run.overdue,
            AUDIO_OBJECTS_LEFT: run.objects_left,
            RETENTION_FAILED_TENANTS: len(run.failed_tenants),
            RETENTION_LAST_RUN: runtime.clock.now().timestamp(),
        },
    )
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
        "exports_expired": run.exports_expired,
        "pushes_deleted": run.pushes_deleted,
        "billing_records_deleted": run.billing_records_deleted,
        "purged": len(run.purged),
        "expired_credentials": run.expired_credentials,
        "failed": len(run.failed_tenants),
    }

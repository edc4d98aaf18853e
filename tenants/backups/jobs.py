"""The backups' jobs: the worker's daily cron backs every live tenant up (one job per
tenant) and expires old backups; a weekly cron runs the restore drill on one tenant.
`audora backup run` and `audora backup verify` run the same code at once.

Each tenant's backup job is queued under an id naming the tenant and the day, so a
second run of the cron on one day queues nothing new; a failed backup is retried later
that day, and its last failure is logged as an error and counts the tenant in the
`audora_backups_failed_tenants` gauge (the alert, I4) until a backup of theirs succeeds.
One tenant's failure never stops the others.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from arq import Retry
from arq.connections import ArqRedis
from sqlalchemy import exists, func, select

from audora.platform.metrics.gauges import BACKUPS_FAILED, mark_failing
from audora.platform.runtime import Runtime
from audora.tenants.backups.drill import DrillResult, restore_drill
from audora.tenants.backups.service import Expiry, backup_tenant, expire_backups
from audora.tenants.backups.tables import backups, restore_drills
from audora.tenants.registry.repository import live_account_ids
from audora.tenants.registry.tables import accounts

log = logging.getLogger(__name__)

BACKUP_TRIES = 3
RETRY_SECONDS = 15 * 60


@dataclass
class BackupRun:
    tenants: int = 0
    taken: int = 0
    failed_tenants: list[str] = field(default_factory=list)
    expiry: Expiry = field(default_factory=lambda: Expiry(0, 0))


async def run_backups(runtime: Runtime, tenant_id: uuid.UUID | None = None) -> BackupRun:
    """Back up one tenant, or every live one, now; then expire what is due."""
    tenants = (
        [tenant_id] if tenant_id is not None else await live_account_ids(runtime.platform_engine)
    )
    run = BackupRun(tenants=len(tenants))
    for tenant in tenants:
        try:
            await backup_tenant(runtime, tenant)
            run.taken += 1
        except Exception:
            log.exception("backup of tenant %s failed", tenant)
            run.failed_tenants.append(str(tenant))
            await mark_failing(runtime.redis, BACKUPS_FAILED, tenant, True)
        else:
            await mark_failing(runtime.redis, BACKUPS_FAILED, tenant, False)
    run.expiry = await expire_backups(runtime, tenant_id)
    if run.failed_tenants or run.expiry.objects_left:
        log.error("backup run incomplete: %s", run)
    return run


async def backup_tenant_job(ctx: dict[str, Any], tenant_id: str) -> dict[str, Any]:
    runtime: Runtime = ctx["runtime"]
    try:
        taken = await backup_tenant(runtime, uuid.UUID(tenant_id))
    except Exception as exc:
        if ctx.get("job_try", 1) < BACKUP_TRIES:
            raise Retry(defer=RETRY_SECONDS) from exc
        log.error("backup of tenant %s failed %s times; no backup today", tenant_id, BACKUP_TRIES)
        await mark_failing(runtime.redis, BACKUPS_FAILED, tenant_id, True)
        raise
    await mark_failing(runtime.redis, BACKUPS_FAILED, tenant_id, False)
    return {"backup": str(taken.id), "bytes": taken.size_bytes}


async def daily_backups_job(ctx: dict[str, Any]) -> dict[str, Any]:
    """Queue one backup job per live tenant for today; expire backups past 30 days."""
    runtime: Runtime = ctx["runtime"]
    redis: ArqRedis = ctx["redis"]
    day = runtime.clock.now().date().isoformat()
    queued = 0
    for account_id in await live_account_ids(runtime.platform_engine):
        job = await redis.enqueue_job(
            "backup_tenant_job", str(account_id), _job_id=f"backup:{account_id.hex}:{day}"
        )
        queued += job is not None
    expiry = await expire_backups(runtime)
    return {"queued": queued, "expired": expiry.deleted, "left": expiry.objects_left}


async def tenant_due_for_drill(runtime: Runtime) -> uuid.UUID | None:
    """The live tenant with a complete backup whose last drill is oldest (never first)."""
    last_drill = (
        select(func.max(restore_drills.c.at))
        .where(restore_drills.c.account_id == accounts.c.id)
        .scalar_subquery()
    )
    has_backup = exists().where(
        backups.c.account_id == accounts.c.id, backups.c.status == "COMPLETE"
    )
    async with runtime.platform_engine.connect() as conn:
        found: uuid.UUID | None = (
            await conn.execute(
                select(accounts.c.id)
                .where(accounts.c.status != "PURGED", has_backup)
                .order_by(last_drill.asc().nulls_first(), accounts.c.created_at)
                .limit(1)
            )
        ).scalar()
    return found


async def run_drill(runtime: Runtime, tenant_id: uuid.UUID | None = None) -> DrillResult | None:
    """The restore drill for `tenant_id`, or for the tenant most due; None if no tenant
    has a backup yet."""
    tenant = tenant_id or await tenant_due_for_drill(runtime)
    if tenant is None:
        log.warning("restore drill: no tenant has a backup yet")
        return None
    return await restore_drill(runtime, tenant)


async def restore_drill_job(ctx: dict[str, Any]) -> dict[str, Any]:
    runtime: Runtime = ctx["runtime"]
    drill = await run_drill(runtime)
    if drill is None:
        return {"drill": None}
    return {"drill": str(drill.id), "tenant": str(drill.tenant_id), "ok": drill.ok}

"""The access log's daily expiry, fanned out one job per tenant.

`expire_access_logs` (cron, daily) queues `access_log_expiry_job` for every live tenant
with a job id naming the tenant and the day, so a second run of the cron on the same day
queues nothing new; each tenant's job is idempotent anyway.
"""

from __future__ import annotations

import uuid
from typing import Any

from arq.connections import ArqRedis

from audora.platform.db.tenant_names import tenant_schema
from audora.platform.runtime import Runtime
from audora.tenants.access_log.expiry import expire_access_log
from audora.tenants.registry.repository import live_account_ids


async def access_log_expiry_job(ctx: dict[str, Any], tenant_id: str) -> dict[str, Any]:
    """One tenant: delete the rows kept long enough, and audit how many."""
    runtime: Runtime = ctx["runtime"]
    schema = tenant_schema(uuid.UUID(tenant_id))
    done = await expire_access_log(
        await runtime.tenant_engines.provisioner_for(schema),
        schema,
        runtime.clock.now(),
        keep_months=runtime.settings.access_log_months,
    )
    return {"before": done.before.isoformat(), "expired": done.rows}


async def expire_access_logs(ctx: dict[str, Any]) -> int:
    """Queue `access_log_expiry_job` for every live tenant; how many were queued."""
    runtime: Runtime = ctx["runtime"]
    redis: ArqRedis = ctx["redis"]
    day = runtime.clock.now().date().isoformat()
    queued = 0
    for account_id in await live_account_ids(runtime.platform_engine):
        job = await redis.enqueue_job(
            "access_log_expiry_job",
            account_id.hex,
            _job_id=f"access-log-expiry:{account_id.hex}:{day}",
        )
        queued += job is not None
    return queued

"""The access log's daily partition maintenance, fanned out one job per tenant.

`ensure_access_log_partitions` (cron, daily) queues `access_log_partitions_job` for every
live tenant with a job id naming the tenant and the day, so a second run of the cron on
the same day queues nothing new; each tenant's job is idempotent anyway.
"""

from __future__ import annotations

import uuid
from typing import Any

from arq.connections import ArqRedis

from audora.platform.db.tenant_names import tenant_schema
from audora.platform.runtime import Runtime
from audora.tenants.access_log.partitions import maintain_partitions
from audora.tenants.registry.repository import live_account_ids


async def access_log_partitions_job(ctx: dict[str, Any], tenant_id: str) -> dict[str, Any]:
    """One tenant: make this month's and next month's partitions, drop expired ones."""
    runtime: Runtime = ctx["runtime"]
    schema = tenant_schema(uuid.UUID(tenant_id))
    done = await maintain_partitions(
        await runtime.tenant_engines.provisioner_for(schema),
        schema,
        runtime.clock.now(),
        keep_months=runtime.settings.access_log_months,
    )
    return {"created": done.created, "dropped": [p.name for p in done.dropped]}


async def ensure_access_log_partitions(ctx: dict[str, Any]) -> int:
    """Queue `access_log_partitions_job` for every live tenant; how many were queued."""
    runtime: Runtime = ctx["runtime"]
    redis: ArqRedis = ctx["redis"]
    day = runtime.clock.now().date().isoformat()
    queued = 0
    for account_id in await live_account_ids(runtime.platform_engine):
        job = await redis.enqueue_job(
            "access_log_partitions_job",
            account_id.hex,
            _job_id=f"access-log-partitions:{account_id.hex}:{day}",
        )
        queued += job is not None
    return queued

"""Key jobs the worker runs: the re-encryption pass after a data-key rotation, and the
scheduled KEK rotation. A tenant whose scheduled rotation fails is logged and counted in
the `audora_key_rotations_overdue_tenants` gauge (the alert, I4): the tenants each run
found due and could not rotate, so the next run that rotates them clears it."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from audora.platform.crypto.envelope import IntegrityError
from audora.platform.db.tenant_binding import TenantRef
from audora.platform.db.tenant_names import tenant_schema
from audora.platform.jobs.queue import enqueue
from audora.platform.metrics.gauges import KEY_ROTATIONS_OVERDUE, set_gauges
from audora.platform.runtime import Runtime
from audora.tenants.audit.log import AuditEntry, append_alone
from audora.tenants.keys.reencrypt import reencrypt
from audora.tenants.keys.rotation import due_for_rotation, rotate_tenant

log = logging.getLogger(__name__)

# Batches per job run: a run stays well inside arq's job timeout and then queues its
# own continuation, so a pass of any size progresses in bounded steps.
BATCHES_PER_RUN = 50


async def reencrypt_tenant_job(ctx: dict[str, Any], tenant_id: str) -> dict[str, Any]:
    runtime: Runtime = ctx["runtime"]
    tenant = uuid.UUID(tenant_id)
    try:
        passes = await reencrypt(
            runtime.tenant_engines,
            runtime.keys,
            tenant,
            runtime.clock.now(),
            max_batches=BATCHES_PER_RUN,
        )
    except IntegrityError as failed:
        # A value that does not open cannot be re-sealed: the pass stops there, loudly,
        # and the tenant's audit log says which one.
        await append_alone(
            runtime.tenant_engines,
            TenantRef(tenant_schema(tenant)),
            runtime.clock.now(),
            AuditEntry(
                actor="system:reencrypt",
                action="security.integrity_failure",
                target=failed.object_id,
                details={"object": failed.object_id or "unknown"},
            ),
        )
        raise
    running = [p for p in passes if p.status == "RUNNING"]
    if running:
        await enqueue(runtime.settings.redis_url, "reencrypt_tenant_job", tenant_id)
    return {p.purpose: f"{p.status} {p.examined}/{p.total}" for p in passes}


async def rotate_due_keys_job(ctx: dict[str, Any]) -> list[str]:
    """Give every tenant whose KEK is older than the rotation period a new version."""
    runtime: Runtime = ctx["runtime"]
    now = runtime.clock.now()
    due = await due_for_rotation(
        runtime.platform_engine, now, timedelta(days=runtime.settings.kek_rotation_days)
    )
    rotated: list[str] = []
    for tenant_id in due:
        try:
            done = await rotate_tenant(
                runtime.tenant_engines, runtime.platform_engine, runtime.keys, tenant_id, now
            )
        except Exception:
            # One tenant's failure must not stop the others; tomorrow's run retries it.
            log.exception("scheduled KEK rotation failed for %s", tenant_id)
            continue
        rotated.append(f"{tenant_id}:v{done.kek_version}")
    await set_gauges(runtime.redis, {KEY_ROTATIONS_OVERDUE: len(due) - len(rotated)})
    return rotated

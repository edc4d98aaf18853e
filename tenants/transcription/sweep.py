"""The sweep that keeps calls from staying stuck in TRANSCRIBING.

A call's transcription job can go missing: Redis refused it at upload time, or arq
dropped it after a worker was killed during its last try. Every ten minutes the worker
looks, in each tenant, for calls still TRANSCRIBING well after their upload and queues
their job again. Only ACTIVE accounts: a suspended or closed one starts no new
processing, and its calls are picked up once it is writable again. Jobs are queued
under a per-call id, so a job still queued or running is never doubled; the job itself
is idempotent besides.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from audora.platform.db.tenant_binding import TenantRef, tenant_transaction
from audora.platform.db.tenant_names import tenant_schema
from audora.platform.jobs.queue import enqueue
from audora.platform.runtime import Runtime
from audora.tenants.calls.tables import calls, recordings
from audora.tenants.registry.tables import accounts

log = logging.getLogger(__name__)

# The job's name, here rather than beside the job so that queueing it (the API's
# uploads) does not import the model's libraries.
TRANSCRIBE_JOB = "transcribe_call_job"


def transcription_job_id(call_id: uuid.UUID | str) -> str:
    return f"transcribe:{call_id}"


async def requeue_stuck_transcriptions_job(ctx: dict[str, Any]) -> int:
    """Queue the transcription of every call stuck in TRANSCRIBING; how many it queued."""
    runtime: Runtime = ctx["runtime"]
    cutoff = runtime.clock.now() - timedelta(minutes=runtime.settings.transcription_requeue_minutes)
    async with runtime.platform_engine.connect() as conn:
        tenants = list(
            (
                await conn.execute(select(accounts.c.id).where(accounts.c.status == "ACTIVE"))
            ).scalars()
        )
    queued = 0
    for tenant_id in tenants:
        try:
            async with tenant_transaction(
                runtime.tenant_engine, TenantRef(tenant_schema(tenant_id))
            ) as uow:
                stuck = (
                    (
                        await uow.execute(
                            select(calls.c.id)
                            .join(recordings, recordings.c.call_id == calls.c.id)
                            .where(
                                calls.c.status == "TRANSCRIBING", recordings.c.stored_at < cutoff
                            )
                        )
                    )
                    .scalars()
                    .all()
                )
        except Exception:
            log.exception("could not look for stuck transcriptions in %s", tenant_id)
            continue
        for call_id in stuck:
            if await enqueue(
                runtime.settings.redis_url,
                TRANSCRIBE_JOB,
                str(tenant_id),
                str(call_id),
                job_id=transcription_job_id(call_id),
            ):
                queued += 1
                log.info("queued the stuck transcription of call %s again", call_id)
    return queued

"""The sweep that keeps calls from staying stuck in TRANSCRIBING or GENERATING.

A call's job can go missing: Redis refused it when it was queued, or arq dropped it
after a worker was killed during its last try. Every ten minutes the worker looks, in
each tenant, for calls still TRANSCRIBING well after their upload, or still GENERATING
well after their round began, and queues their job again. Only ACTIVE accounts: a
suspended or closed one starts no new processing, and its calls are picked up once it
is writable again. Jobs are queued under an id per call (per round, for generation), so
a job still queued or running is never doubled; the jobs are idempotent besides.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update

from audora.platform.db.tenant_binding import TenantUnitOfWork
from audora.platform.jobs.queue import enqueue
from audora.platform.runtime import Runtime
from audora.tenants.calls.tables import calls, recordings
from audora.tenants.documents.queueing import queue_generation
from audora.tenants.registry.each_tenant import read_in_active_tenants

log = logging.getLogger(__name__)

# The job's name, here rather than beside the job so that queueing it (the API's
# uploads) does not import the model's libraries.
TRANSCRIBE_JOB = "transcribe_call_job"


def transcription_job_id(call_id: uuid.UUID | str) -> str:
    return f"transcribe:{call_id}"


async def _stuck(
    uow: TenantUnitOfWork, runtime: Runtime
) -> tuple[list[uuid.UUID], list[tuple[uuid.UUID, uuid.UUID]]]:
    """(calls stuck transcribing, (call, round) stuck generating)."""
    now = runtime.clock.now()
    transcribing = now - timedelta(minutes=runtime.settings.transcription_requeue_minutes)
    generating = now - timedelta(minutes=runtime.settings.generation_requeue_minutes)
    stuck_transcribing = (
        (
            await uow.execute(
                select(calls.c.id)
                .join(recordings, recordings.c.call_id == calls.c.id)
                .where(calls.c.status == "TRANSCRIBING", recordings.c.stored_at < transcribing)
            )
        )
        .scalars()
        .all()
    )
    # A call transcribed before generation existed has no round and never had a job:
    # it gets a round now and is queued at once.
    roundless = (
        await uow.execute(
            update(calls)
            .where(calls.c.status == "GENERATING", calls.c.generation_id.is_(None))
            .values(generation_id=func.gen_random_uuid(), generating_since=now)
            .returning(calls.c.id, calls.c.generation_id)
        )
    ).all()
    stuck_generating = (
        await uow.execute(
            select(calls.c.id, calls.c.generation_id).where(
                calls.c.status == "GENERATING", calls.c.generating_since < generating
            )
        )
    ).all()
    await uow.commit()
    rounds = [(r.id, r.generation_id) for r in [*roundless, *stuck_generating]]
    return list(stuck_transcribing), rounds


async def requeue_stuck_calls_job(ctx: dict[str, Any]) -> int:
    """Queue the job of every call stuck in TRANSCRIBING or GENERATING; how many it queued."""
    runtime: Runtime = ctx["runtime"]
    queued = 0
    found = read_in_active_tenants(runtime, lambda uow: _stuck(uow, runtime), "stuck calls")
    async for tenant_id, (transcribing, generating) in found:
        for call_id in transcribing:
            if await enqueue(
                runtime.settings.redis_url,
                TRANSCRIBE_JOB,
                str(tenant_id),
                str(call_id),
                job_id=transcription_job_id(call_id),
            ):
                queued += 1
                log.info("queued the stuck transcription of call %s again", call_id)
        for call_id, round_id in generating:
            if await queue_generation(runtime, tenant_id, call_id, round_id):
                queued += 1
                log.info("queued the stuck document generation of call %s again", call_id)
    return queued

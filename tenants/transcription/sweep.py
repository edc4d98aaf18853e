"""The sweep that keeps calls from staying stuck in TRANSCRIBING or GENERATING.

A call's job can go missing: Redis refused it when it was queued, or arq dropped it
after a worker was killed during its last try. Every ten minutes the worker looks, in
each tenant, for calls still TRANSCRIBING well after their upload, or still GENERATING
well after their round began, and queues their job again. Only ACTIVE accounts: a
suspended or closed one starts no new processing, and its calls are picked up once it
is writable again. Jobs are queued under an id per call (per round, for generation), so
a job still queued or running is never doubled; the jobs are idempotent besides.

Only tenants marked for this sweep are read (tenants/registry/due_work.py): an upload's
last byte and a regeneration mark theirs, due when the call would count as stuck; each
visit moves the mark to the next call's such moment, or clears it.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from audora.platform.db.tenant_binding import TenantUnitOfWork
from audora.platform.jobs.queue import enqueue
from audora.platform.runtime import Runtime
from audora.tenants.calls.tables import calls, recordings
from audora.tenants.documents.queueing import queue_generation
from audora.tenants.registry.due_work import Sweep, mark_due
from audora.tenants.registry.each_tenant import sweep_due_tenants

log = logging.getLogger(__name__)

# The job's name, here rather than beside the job so that queueing it (the API's
# uploads) does not import the model's libraries.
TRANSCRIBE_JOB = "transcribe_call_job"


def transcription_job_id(call_id: uuid.UUID | str) -> str:
    return f"transcribe:{call_id}"


def transcription_stuck_after(runtime: Runtime) -> timedelta:
    return timedelta(minutes=runtime.settings.transcription_requeue_minutes)


def generation_stuck_after(runtime: Runtime) -> timedelta:
    return timedelta(minutes=runtime.settings.generation_requeue_minutes)


async def expect_transcription(runtime: Runtime, tenant_id: uuid.UUID) -> None:
    """Mark the tenant for this sweep before a call of it goes TRANSCRIBING."""
    due = runtime.clock.now() + transcription_stuck_after(runtime)
    await mark_due(runtime.platform_engine, tenant_id, Sweep.CALLS, due)


async def expect_generation(runtime: Runtime, tenant_id: uuid.UUID) -> None:
    """Mark the tenant for this sweep before a call of it goes GENERATING."""
    due = runtime.clock.now() + generation_stuck_after(runtime)
    await mark_due(runtime.platform_engine, tenant_id, Sweep.CALLS, due)


Stuck = tuple[list[uuid.UUID], list[tuple[uuid.UUID, uuid.UUID]]]


async def _stuck(uow: TenantUnitOfWork, runtime: Runtime) -> tuple[Stuck, datetime | None]:
    """((calls stuck transcribing, (call, round) stuck generating), when the next call
    in flight would count as stuck)."""
    now = runtime.clock.now()
    transcribing = now - transcription_stuck_after(runtime)
    generating = now - generation_stuck_after(runtime)
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
    oldest = (
        await uow.execute(
            select(
                select(func.min(recordings.c.stored_at))
                .join(calls, recordings.c.call_id == calls.c.id)
                .where(calls.c.status == "TRANSCRIBING")
                .scalar_subquery()
                .label("transcribing"),
                select(func.min(calls.c.generating_since))
                .where(calls.c.status == "GENERATING")
                .scalar_subquery()
                .label("generating"),
            )
        )
    ).one()
    await uow.commit()
    rounds = [(r.id, r.generation_id) for r in [*roundless, *stuck_generating]]
    moments = [
        moment
        for moment in (
            oldest.transcribing and oldest.transcribing + transcription_stuck_after(runtime),
            oldest.generating and oldest.generating + generation_stuck_after(runtime),
        )
        if moment is not None
    ]
    return (list(stuck_transcribing), rounds), min(moments, default=None)


async def requeue_stuck_calls_job(ctx: dict[str, Any]) -> int:
    """Queue the job of every call stuck in TRANSCRIBING or GENERATING; how many it queued."""
    runtime: Runtime = ctx["runtime"]
    queued = 0
    found = sweep_due_tenants(runtime, Sweep.CALLS, lambda uow: _stuck(uow, runtime), "stuck calls")
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

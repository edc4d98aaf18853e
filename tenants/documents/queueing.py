"""Queueing a call's document generation, apart from the job itself so that the API
and the transcription job can queue it without importing a generator.

Each round of generation (the first after transcription, and each regeneration) has an
id of its own, kept on the call; the job is queued under an id made from it. So two
deliveries of one round, or the sweep finding a round still queued, collapse into one
job, while a later round is a new job (arq keeps a finished job's id for an hour and
would refuse it under a per-call id).
"""

from __future__ import annotations

import logging
import uuid

from audora.platform.jobs.queue import enqueue
from audora.platform.runtime import Runtime

log = logging.getLogger(__name__)

GENERATE_JOB = "generate_documents_job"


def generation_job_id(call_id: uuid.UUID | str, generation_id: uuid.UUID | str) -> str:
    return f"generate:{call_id}:{generation_id}"


async def queue_generation(
    runtime: Runtime, tenant_id: uuid.UUID, call_id: uuid.UUID, generation_id: uuid.UUID
) -> bool:
    """Queue the round's job, after the round was committed. If Redis cannot take it,
    the call stays GENERATING and the worker's sweep queues it later; never raises."""
    try:
        return await enqueue(
            runtime.settings.redis_url,
            GENERATE_JOB,
            str(tenant_id),
            str(call_id),
            job_id=generation_job_id(call_id, generation_id),
        )
    except Exception:
        log.exception("could not queue the document generation of call %s", call_id)
        return False

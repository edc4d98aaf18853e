"""The arq worker: `audora worker` runs `WorkerSettings`.

Jobs take ids, open their own connections through the runtime, and are idempotent (arq
delivers at least once). Cron jobs that concern every tenant fan out one job per tenant.
"""

from __future__ import annotations

import logging
from typing import Any

from arq.connections import RedisSettings
from arq.cron import cron
from arq.worker import func

from audora.platform.config import get_settings
from audora.platform.jobs.queue import QUEUE
from audora.platform.logs import runtime_banner
from audora.platform.runtime import Runtime
from audora.tenants.access_log.jobs import access_log_partitions_job, ensure_access_log_partitions
from audora.tenants.documents import jobs as generation
from audora.tenants.documents.jobs import generate_documents_job
from audora.tenants.identity.device_alerts import new_device_alert_job
from audora.tenants.keys.jobs import reencrypt_tenant_job, rotate_due_keys_job
from audora.tenants.provisioning.orphans import sweep_orphan_storage
from audora.tenants.transcription.jobs import (
    JOB_TIMEOUT_SECONDS,
    MAX_TRIES,
    transcribe_call_job,
)
from audora.tenants.transcription.sweep import requeue_stuck_calls_job

log = logging.getLogger(__name__)


async def startup(ctx: dict[str, Any]) -> None:
    log.info(runtime_banner())
    ctx["runtime"] = Runtime.open(get_settings())


async def shutdown(ctx: dict[str, Any]) -> None:
    runtime: Runtime | None = ctx.get("runtime")
    if runtime is not None:
        await runtime.close()


async def sweep_orphan_storage_job(ctx: dict[str, Any]) -> list[str]:
    runtime: Runtime = ctx["runtime"]
    return await sweep_orphan_storage(
        runtime.provisioner,
        runtime.storage,
        bucket_prefix=runtime.settings.bucket_prefix,
        now=runtime.clock.now(),
    )


FUNCTIONS = [
    sweep_orphan_storage_job,
    reencrypt_tenant_job,
    rotate_due_keys_job,
    new_device_alert_job,
    access_log_partitions_job,
    # The job counts its own tries against MAX_TRIES to mark the call FAILED on the last.
    func(transcribe_call_job, max_tries=MAX_TRIES, timeout=JOB_TIMEOUT_SECONDS),
    func(
        generate_documents_job,
        max_tries=generation.MAX_TRIES,
        timeout=generation.JOB_TIMEOUT_SECONDS,
    ),
    requeue_stuck_calls_job,
]


def worker_settings() -> dict[str, Any]:
    settings = get_settings()
    return {
        "functions": FUNCTIONS,
        # The orphan sweep has no cron: it deletes buckets of no account in *this*
        # database, so it runs only when an operator asks (`audora tenants gc`), never
        # on its own against a store another deployment might share.
        "cron_jobs": [
            cron(rotate_due_keys_job, hour={3}, minute={17}, unique=True),
            # Next month's access-log partition exists weeks ahead; expired ones go.
            cron(ensure_access_log_partitions, hour={2}, minute={41}, unique=True),
            cron(requeue_stuck_calls_job, minute=set(range(3, 60, 10)), unique=True),
        ],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "queue_name": QUEUE,
    }

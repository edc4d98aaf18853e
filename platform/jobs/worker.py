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
from audora.platform.incidents.alerts import incident_alerts_job
from audora.platform.jobs.lease import leased
from audora.platform.jobs.queue import QUEUE
from audora.platform.logs import runtime_banner
from audora.platform.metrics.anomalies import unusual_activity_job
from audora.platform.metrics.jobs import instrumented, instrumented_cron
from audora.platform.runtime import Runtime
from audora.platform.tracing.setup import WORKER_SERVICE, Tracing, tracing_from_settings
from audora.platform.vulnerability_reports.intake import vulnerability_report_alerts_job
from audora.tenants.access_log.jobs import access_log_expiry_job, expire_access_logs
from audora.tenants.backups.jobs import backup_tenant_job, daily_backups_job, restore_drill_job
from audora.tenants.documents import jobs as generation
from audora.tenants.documents.jobs import generate_documents_job
from audora.tenants.identity.device_alerts import new_device_alert_job
from audora.tenants.integrations import jobs as push_jobs
from audora.tenants.integrations.sweep import requeue_stuck_pushes_job
from audora.tenants.keys.jobs import reencrypt_tenant_job, rotate_due_keys_job
from audora.tenants.lifecycle.export import MAX_TRIES as EXPORT_TRIES
from audora.tenants.lifecycle.export import build_export_job
from audora.tenants.lifecycle.jobs import retention_sweep_job
from audora.tenants.meeting_bots import jobs as meeting_bots
from audora.tenants.meeting_bots.sweep import requeue_stuck_bot_jobs
from audora.tenants.provisioning.orphans import sweep_orphan_storage
from audora.tenants.registry.jobs import mark_every_tenant_due_job
from audora.tenants.staff_access.access import staff_access_sweep_job
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
    tracing: Tracing | None = ctx.get("tracing")
    if tracing is not None:
        tracing.shutdown()


async def sweep_orphan_storage_job(ctx: dict[str, Any]) -> list[str]:
    runtime: Runtime = ctx["runtime"]
    return await sweep_orphan_storage(
        runtime.platform_provisioner,
        runtime.storage,
        bucket_prefix=runtime.settings.bucket_prefix,
        now=runtime.clock.now(),
    )


FUNCTIONS = [
    sweep_orphan_storage_job,
    reencrypt_tenant_job,
    rotate_due_keys_job,
    new_device_alert_job,
    access_log_expiry_job,
    # The job counts its own tries against MAX_TRIES to mark the call FAILED on the last.
    # No result kept: the per-call job id is free again once the job ends, so the sweep
    # can queue a call again (one left TRANSCRIBING while its account was suspended);
    # while the job is queued or running its id still keeps it from being doubled.
    # Leased: a worker killed mid-transcription gives the call up within the lease, not
    # after the hour-long timeout (platform/jobs/lease.py).
    func(
        leased(transcribe_call_job),
        max_tries=MAX_TRIES,
        timeout=JOB_TIMEOUT_SECONDS,
        keep_result=0,
    ),
    func(
        leased(generate_documents_job),
        max_tries=generation.MAX_TRIES,
        timeout=generation.JOB_TIMEOUT_SECONDS,
    ),
    requeue_stuck_calls_job,
    func(
        meeting_bots.fetch_bot_recording_job,
        max_tries=meeting_bots.MAX_TRIES,
        timeout=meeting_bots.JOB_TIMEOUT_SECONDS,
    ),
    meeting_bots.delete_bot_media_job,
    requeue_stuck_bot_jobs,
    retention_sweep_job,
    func(build_export_job, max_tries=EXPORT_TRIES),
    # Counts its own tries too: the last marks the push FAILED.
    func(
        push_jobs.push_task_list_job,
        max_tries=push_jobs.MAX_TRIES,
        timeout=push_jobs.JOB_TIMEOUT_SECONDS,
    ),
    # A tenant's dump can take minutes; the job counts its own tries (BACKUP_TRIES).
    func(backup_tenant_job, timeout=3600, max_tries=5),
    daily_backups_job,
    func(restore_drill_job, timeout=3600),
    requeue_stuck_pushes_job,
    staff_access_sweep_job,
    vulnerability_report_alerts_job,
    unusual_activity_job,
    incident_alerts_job,
    mark_every_tenant_due_job,
]


# The orphan sweep has no cron: it deletes buckets of no account in *this* database, so
# it runs only when an operator asks (`audora tenants gc`), never on its own against a
# store another deployment might share. Each cron job has a staleness alert rule made
# from this schedule (platform/metrics/staleness.py).
CRON_JOBS = [
    cron(rotate_due_keys_job, hour={3}, minute={17}, unique=True),
    # Access-log rows go once they are AUDORA_ACCESS_LOG_MONTHS old.
    cron(expire_access_logs, hour={2}, minute={41}, unique=True),
    cron(requeue_stuck_calls_job, minute=set(range(3, 60, 10)), unique=True),
    # Audio is erased within ten minutes of its deadline (72 h after transcription).
    cron(retention_sweep_job, minute=set(range(7, 60, 10)), unique=True),
    # I2: a backup of every tenant every day (expired ones go in the same run),
    # and every week (Sunday: arq counts Monday as 0) one tenant's newest backup
    # restored and verified.
    cron(daily_backups_job, hour={1}, minute={23}, unique=True),
    cron(restore_drill_job, weekday={6}, hour={5}, minute={11}, unique=True),
    cron(staff_access_sweep_job, minute=set(range(0, 60, 5)), unique=True),
    # Overdue vulnerability reports: an error alert every hour until handled.
    cron(vulnerability_report_alerts_job, minute={29}, unique=True),
    # Incident deadlines (R3, R4): owners not told at 48 h and past 72 h; a
    # report not published 3 days before its 30-day deadline and past it.
    cron(incident_alerts_job, minute={43}, unique=True),
    cron(requeue_stuck_bot_jobs, minute=set(range(5, 60, 10)), unique=True),
    cron(requeue_stuck_pushes_job, minute=set(range(9, 60, 10)), unique=True),
    # R2: each tenant's last hour against its trailing week (anomalies.py).
    cron(unusual_activity_job, minute=set(range(1, 60, 10)), unique=True),
    # The sweeps above visit only tenants marked due; once a day every tenant is, so
    # that work a path forgot to mark waits a day at most.
    cron(mark_every_tenant_due_job, hour={0}, minute={53}, unique=True),
]


def worker_settings() -> dict[str, Any]:
    settings = get_settings()
    made: dict[str, Any] = {
        # Each counted by function and outcome for /metrics (platform/metrics/jobs.py).
        "functions": instrumented(FUNCTIONS),
        "cron_jobs": instrumented_cron(CRON_JOBS),
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "queue_name": QUEUE,
    }
    tracing = tracing_from_settings(settings, WORKER_SERVICE)
    if tracing is not None:
        # Imported only when tracing is on: off, nothing of OpenTelemetry is loaded.
        from audora.platform.tracing.jobs import traced

        made["functions"] = traced(made["functions"], tracing.tracer)
        made["cron_jobs"] = traced(made["cron_jobs"], tracing.tracer)
        made["ctx"] = {"tracing": tracing}
    return made

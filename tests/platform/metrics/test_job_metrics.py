"""I4: the job queue's depth shows the jobs queued; a job that asks for a retry and one
that fails are counted by function, a success sets the function's last-success time,
and a running job shows as in progress. Run by a real arq worker on the stack's Redis."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from arq.worker import Retry

from audora.platform.clock import FrozenClock
from audora.platform.config import Settings
from audora.platform.jobs.queue import enqueue
from audora.platform.jobs.worker import FUNCTIONS, worker_settings
from audora.platform.metrics.jobs import instrumented, read_queue
from audora.platform.runtime import Runtime

from audora_testing import run_jobs
from metrics_scraping import Scraper

seen_in_progress: list[int] = []


async def metrics_flaky_job(ctx: dict[str, Any]) -> str:
    """Asks for a retry on its first try, succeeds on the second."""
    seen_in_progress.append((await read_queue(ctx["redis"])).in_progress)
    if ctx["job_try"] == 1:
        raise Retry(defer=0)
    return "done"


async def metrics_broken_job(ctx: dict[str, Any]) -> None:
    raise ValueError("broken on purpose")


async def test_queue_depth_failures_and_retries_show_by_function(
    runtime: Runtime, clock: FrozenClock, scrape: Scraper
) -> None:
    before = await scrape()
    await enqueue(runtime.settings.redis_url, "metrics_flaky_job")
    await enqueue(runtime.settings.redis_url, "metrics_broken_job")
    queued = await scrape()
    assert queued.grew(before, "audora_job_queue_depth") == 2
    assert queued.grew(before, "audora_job_queue_due") == 2

    await run_jobs(runtime, instrumented([metrics_flaky_job, metrics_broken_job]))
    after = await scrape()
    runs = "audora_job_runs_total"
    assert after.grew(before, runs, function="metrics_flaky_job", outcome="retried") == 1
    assert after.grew(before, runs, function="metrics_flaky_job", outcome="succeeded") == 1
    assert after.grew(before, runs, function="metrics_broken_job", outcome="failed") == 1
    assert (
        after.value("audora_job_last_success_timestamp_seconds", function="metrics_flaky_job")
        == clock.now().timestamp()
    )
    # Both left the queue (and any job another test left there, which this worker
    # cannot run, with them).
    assert after.value("audora_job_queue_depth") <= queued.value("audora_job_queue_depth") - 2
    # While it ran, the job counted itself in progress; once done, it is not.
    assert seen_in_progress
    assert min(seen_in_progress) >= 1
    assert after.value("audora_jobs_in_progress") == 0


def test_every_job_the_worker_runs_is_counted(settings: Settings) -> None:
    with patch("audora.platform.jobs.worker.get_settings", return_value=settings):
        configured = worker_settings()
    names = {function.name for function in configured["functions"]}
    assert len(names) == len(FUNCTIONS)
    assert "unusual_activity_job" in names
    for job in [*configured["functions"], *configured["cron_jobs"]]:
        assert job.coroutine.__code__.co_qualname == "counted.<locals>.run", job.name
    crons = {job.name: job for job in configured["cron_jobs"]}
    assert crons["cron:unusual_activity_job"].minute == set(range(1, 60, 10))

"""Job metrics (I4): runs by function and outcome, jobs in progress, when each job last
succeeded, and the depth of arq's queue.

The worker is another process (often another host), so it counts in Redis like the
API. arq's `on_job_start`/`after_job_end` hooks are told neither the function nor the
outcome, so each registered function is wrapped instead (`instrumented`): arq still
knows it by its own name, timeouts and tries. A `Retry` counts as `retried`, any other
exception (a timeout's cancellation included) as `failed`, a return as `succeeded`. A
`Retry` on the function's last try counts as `failed` too: arq will not run it again.
Every failure is also an event of the `audora_jobs_given_up_last_hour` gauge (arq
retries only on `Retry`, so a job that raised anything else has had its last try).

Queue depth is read at scrape time from arq's own sorted set, which holds every job
from its enqueueing until it finishes (running and deferred ones included); `due` are
those whose time has come. Jobs in progress are kept in a sorted set of job ids scored
by start time: a worker killed mid-job leaves its entry, dropped once older than any
job may run (`STALE_SECONDS`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from arq.cron import CronJob
from arq.typing import WorkerCoroutine
from arq.worker import Function, Retry, func
from redis.asyncio import Redis
from redis.exceptions import RedisError

from audora.platform.jobs.queue import QUEUE
from audora.platform.metrics.counters import COUNTERS_KEY, JOB_RUNS
from audora.platform.metrics.gauges import JOBS_GIVEN_UP, note_event

log = logging.getLogger(__name__)

IN_PROGRESS_KEY = "audora:metrics:jobs:in_progress"
LAST_SUCCESS_KEY = "audora:metrics:jobs:last_success"
# Longer than the longest job timeout (an hour: transcription, backups).
STALE_SECONDS = 2 * 3600
# arq's own default, for functions that name no max_tries (the worker sets none).
DEFAULT_MAX_TRIES = 5


async def _pipeline(redis: Redis | None, *steps: Any) -> None:
    """Run `(command, *args)` steps in one pipeline; a Redis failure is only logged."""
    if redis is None:
        return
    try:
        pipe = redis.pipeline(transaction=False)
        for command, *args in steps:
            getattr(pipe, command)(*args)
        await pipe.execute()
    except RedisError:
        log.warning("could not record job metrics", exc_info=True)


def counted(name: str, job: WorkerCoroutine, max_tries: int = DEFAULT_MAX_TRIES) -> WorkerCoroutine:
    """`job`, counted under `name` as it starts and ends; `max_tries` as arq has it."""

    @functools.wraps(job)
    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        redis: Redis | None = ctx.get("redis")
        job_id = str(ctx.get("job_id") or f"{name}:{id(ctx)}")
        await _pipeline(redis, ("zadd", IN_PROGRESS_KEY, {job_id: time.time()}))
        outcome = "failed"
        try:
            result = await job(ctx, *args, **kwargs)
            outcome = "succeeded"
            return result
        except Retry:
            outcome = "retried" if int(ctx.get("job_try") or 1) < max_tries else "failed"
            raise
        finally:
            steps: list[tuple[Any, ...]] = [
                ("zrem", IN_PROGRESS_KEY, job_id),
                (
                    "hincrby",
                    COUNTERS_KEY,
                    JOB_RUNS.field({"function": name, "outcome": outcome}),
                    1,
                ),
            ]
            runtime = ctx.get("runtime")
            now = runtime.clock.now() if runtime is not None else datetime.now(UTC)
            if outcome == "succeeded":
                steps.append(("hset", LAST_SUCCESS_KEY, name, now.timestamp()))
            # Shielded: a job cancelled by its timeout still has its failure counted.
            await asyncio.shield(_pipeline(redis, *steps))
            if outcome == "failed" and redis is not None:
                await asyncio.shield(note_event(redis, JOBS_GIVEN_UP, now))

    return cast(WorkerCoroutine, run)


def instrumented(functions: Sequence[Any]) -> list[Function]:
    """The worker's functions, each counted (`counted`) under the name arq gives it."""
    made: list[Function] = []
    for entry in functions:
        function = func(entry)
        made.append(
            dataclasses.replace(
                function,
                coroutine=counted(
                    function.name, function.coroutine, function.max_tries or DEFAULT_MAX_TRIES
                ),
            )
        )
    return made


def instrumented_cron(jobs: Sequence[CronJob]) -> list[CronJob]:
    """The worker's cron jobs, each counted, their last success kept."""
    return [
        dataclasses.replace(
            job, coroutine=counted(job.name, job.coroutine, job.max_tries or DEFAULT_MAX_TRIES)
        )
        for job in jobs
    ]


@dataclass(frozen=True)
class QueueState:
    depth: int
    due: int
    in_progress: int
    last_success: dict[str, float]


async def read_queue(redis: Redis) -> QueueState:
    """The queue's depth and due jobs, jobs in progress and each job's last success."""
    now = time.time()
    pipe = redis.pipeline(transaction=False)
    pipe.zcard(QUEUE)
    # arq scores jobs by the Unix milliseconds they may start at.
    pipe.zcount(QUEUE, "-inf", int(now * 1000))
    pipe.zremrangebyscore(IN_PROGRESS_KEY, "-inf", now - STALE_SECONDS)
    pipe.zcard(IN_PROGRESS_KEY)
    pipe.hgetall(LAST_SUCCESS_KEY)
    depth, due, _, running, last = await pipe.execute()
    return QueueState(
        depth=int(depth),
        due=int(due),
        in_progress=int(running),
        last_success={k.decode(): float(v) for k, v in cast(dict[bytes, bytes], last).items()},
    )

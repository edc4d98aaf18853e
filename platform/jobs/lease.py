"""A running job's lease: a worker killed mid-job gives its job up within seconds, not
at the job's timeout.

arq marks a job it starts with `arq:in-progress:<job id>`, set to expire after the
longest job timeout of the worker (an hour for transcription), and skips any job so
marked. The job stays in the queue until it finishes, so a worker killed with SIGKILL
leaves its job queued but unclaimable for that hour. `job_lease` shortens the mark to
`lease_seconds` as soon as the job starts and renews it every third of that while the
job runs: a live worker keeps its job, a dead one stops renewing, the mark expires, and
the next worker polling the queue starts the job again (as its next try; jobs are
idempotent). Renewing is a `PEXPIRE` of a key that exists, never a `SET`: a lease never
recreates a mark that arq has already cleared.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any, TypeVar

from arq.constants import in_progress_key_prefix
from arq.typing import WorkerCoroutine

log = logging.getLogger(__name__)

R = TypeVar("R")


@asynccontextmanager
async def job_lease(ctx: dict[str, Any], lease_seconds: float) -> AsyncIterator[None]:
    """Hold the running job's in-progress mark for `lease_seconds` at a time while the
    block runs. Outside an arq worker (no `redis` or `job_id` in ctx) it does nothing."""
    redis, job_id = ctx.get("redis"), ctx.get("job_id")
    if redis is None or job_id is None:
        yield
        return
    key = in_progress_key_prefix + job_id
    lease_ms = max(1, int(lease_seconds * 1000))

    async def renew() -> None:
        while True:
            try:
                await redis.pexpire(key, lease_ms)
            except Exception:  # a blip in Redis must not kill the job; the next renewal retries
                log.warning("could not renew the lease of job %s", job_id, exc_info=True)
            await asyncio.sleep(lease_seconds / 3)

    renewing = asyncio.create_task(renew())
    try:
        yield
    finally:
        renewing.cancel()
        with suppress(asyncio.CancelledError):
            await renewing


def leased(job: Callable[..., Awaitable[R]]) -> WorkerCoroutine:
    """`job` holding a lease on itself for its whole run, from its first instruction
    (`AUDORA_JOB_LEASE_SECONDS` at a time; the runtime in ctx gives the setting). arq
    knows the job by the wrapped function's name, which `functools.wraps` keeps."""

    @functools.wraps(job)
    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> R:
        async with job_lease(ctx, ctx["runtime"].settings.job_lease_seconds):
            return await job(ctx, *args, **kwargs)

    return run

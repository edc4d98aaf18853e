"""Putting jobs on the worker's queue, from the API or the operator CLI."""

from __future__ import annotations

from typing import Any

from arq import create_pool
from arq.connections import RedisSettings

QUEUE = "audora:queue"


async def enqueue(
    redis_url: str,
    function: str,
    *args: Any,
    defer_seconds: float = 0,
    job_id: str | None = None,
) -> bool:
    """Queue `function(*args)`; False if a job with `job_id` is already queued, running
    or recently finished (arq keeps its id for an hour). Arguments are ids only: nothing
    a job needs to be told is secret, and nothing secret ever sits in Redis."""
    pool = await create_pool(RedisSettings.from_dsn(redis_url), default_queue_name=QUEUE)
    try:
        queued = await pool.enqueue_job(
            function, *args, _defer_by=defer_seconds or None, _job_id=job_id
        )
    finally:
        await pool.aclose()
    return queued is not None

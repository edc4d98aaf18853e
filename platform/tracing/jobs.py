"""One span per job run in the worker: named by the job function, with its try and
outcome (`ok`, `retry`, `cancelled`, `error`) and nothing else: never its arguments,
which carry tenant and object ids, nor its result or an exception's message."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import Sequence
from typing import Any

from arq.cron import CronJob
from arq.worker import Function, Retry, func
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

from audora.platform.tracing.names import JOB_FUNCTION, JOB_OUTCOME, JOB_TRY


def traced_coroutine(name: str, coroutine: Any, tracer: Tracer) -> Any:
    """`coroutine` (an arq job) running inside a span named after the job."""

    @functools.wraps(coroutine)
    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        attributes: dict[str, Any] = {JOB_FUNCTION: name}
        if isinstance(ctx.get("job_try"), int):
            attributes[JOB_TRY] = ctx["job_try"]
        with tracer.start_as_current_span(
            f"job {name}",
            context=Context(),
            kind=SpanKind.CONSUMER,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            outcome = "error"
            try:
                result = await coroutine(ctx, *args, **kwargs)
                outcome = "ok"
                return result
            except Retry:
                outcome = "retry"
                raise
            except asyncio.CancelledError:
                outcome = "cancelled"
                raise
            finally:
                span.set_attribute(JOB_OUTCOME, outcome)
                if outcome != "ok":
                    span.set_status(Status(StatusCode.ERROR))

    return run


def traced(jobs: Sequence[Any], tracer: Tracer) -> list[Any]:
    """The worker's functions or cron jobs, each wrapped in its span; arq options and
    names unchanged (a plain coroutine becomes `func(coroutine)`, as arq would make it)."""
    wrapped: list[Any] = []
    for job in jobs:
        entry = job if isinstance(job, Function | CronJob) else func(job)
        wrapped.append(
            dataclasses.replace(
                entry, coroutine=traced_coroutine(entry.name, entry.coroutine, tracer)
            )
        )
    return wrapped

"""Counters and histograms every process adds to and `/metrics` reads: kept in Redis.

Why Redis and not prometheus-client's own registry: the API runs as several processes
and the workers as others, possibly on other hosts. prometheus-client's multiprocess
mode needs a shared directory, wiped at each deployment, on one host; Redis is already
shared by every process (the gauges and the login throttle live there), so each
increment is an `HINCRBY` on one hash and every API process answers a scrape with the
same totals. prometheus-client only renders them (`exposition.py`).

Label values come from closed sets fixed in code (methods, route templates, status
classes, job function names, operation types): never a tenant id, a user id, an email
or a path parameter, so the number of series is bounded whatever the traffic.

Field layout in the hashes: `name|label=value|label=value`; a histogram's fields add
`#le=<bound>` (the count of observations in that bucket alone, made cumulative when
rendered), `#sum` and `#count`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

COUNTERS_KEY = "audora:metrics:counters"
HISTOGRAMS_KEY = "audora:metrics:histograms"


@dataclass(frozen=True)
class Metric:
    """A counter or histogram: its name (a counter's without `_total`), help and labels."""

    name: str
    help: str
    labels: tuple[str, ...] = ()
    # Histogram bucket upper bounds; empty for a counter.
    buckets: tuple[float, ...] = ()

    def field(self, labels: Mapping[str, str]) -> str:
        if set(labels) != set(self.labels):
            raise ValueError(f"{self.name} takes labels {self.labels}, not {sorted(labels)}")
        return "|".join([self.name, *(f"{k}={labels[k]}" for k in self.labels)])


LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Metric(
    "audora_http_requests",
    "HTTP requests answered, by method, route template and status class.",
    ("method", "route", "status"),
)
HTTP_LATENCY = Metric(
    "audora_http_request_duration_seconds",
    "Time from a request's arrival to the last byte of its answer, by method and route.",
    ("method", "route"),
    LATENCY_BUCKETS,
)
GRAPHQL_REQUESTS = Metric(
    "audora_graphql_requests",
    "POST /graphql requests by operation type (query, mutation, subscription, other: "
    "no operation could be told) and status class.",
    ("operation_type", "status"),
)
LOGIN_FAILURES = Metric(
    "audora_login_failures",
    "Failed logins by what was wrong (password, second_factor, malformed_email).",
    ("reason",),
)
LOGIN_LOCKOUTS = Metric("audora_login_lockouts", "Logins that locked their email out.")
LOGIN_THROTTLED = Metric(
    "audora_login_throttled",
    "Login attempts refused before any password check (locked, rate_limited).",
    ("reason",),
)
MFA_FAILURES = Metric(
    "audora_mfa_failures", "Logins with a correct password and a wrong second factor."
)
NEW_DEVICE_LOGINS = Metric(
    "audora_login_new_devices", "Logins from a device new to a user who had others."
)
JOB_RUNS = Metric(
    "audora_job_runs",
    "Job runs by function and outcome (succeeded, retried, failed).",
    ("function", "outcome"),
)

COUNTERS = (
    HTTP_REQUESTS,
    GRAPHQL_REQUESTS,
    LOGIN_FAILURES,
    LOGIN_LOCKOUTS,
    LOGIN_THROTTLED,
    MFA_FAILURES,
    NEW_DEVICE_LOGINS,
    JOB_RUNS,
)
HISTOGRAMS = (HTTP_LATENCY,)


def add_count(pipe: Pipeline, metric: Metric, amount: int = 1, **labels: str) -> None:
    """Queue `metric{labels} += amount` on a pipeline the caller executes."""
    pipe.hincrby(COUNTERS_KEY, metric.field(labels), amount)


def add_observation(pipe: Pipeline, metric: Metric, value: float, **labels: str) -> None:
    """Queue one observation of a histogram on a pipeline the caller executes."""
    base = metric.field(labels)
    bound = next((b for b in metric.buckets if value <= b), None)
    pipe.hincrby(HISTOGRAMS_KEY, f"{base}#le={'+Inf' if bound is None else repr(bound)}", 1)
    pipe.hincrbyfloat(HISTOGRAMS_KEY, f"{base}#sum", value)
    pipe.hincrby(HISTOGRAMS_KEY, f"{base}#count", 1)


async def count(redis: Redis, metric: Metric, amount: int = 1, **labels: str) -> None:
    """`metric{labels} += amount` now. A Redis failure is logged, never raised: a metric
    must not fail what it measures."""
    try:
        await cast(Awaitable[int], redis.hincrby(COUNTERS_KEY, metric.field(labels), amount))
    except RedisError:
        log.warning("could not count %s", metric.name, exc_info=True)


def _labels(parts: list[str]) -> dict[str, str]:
    return dict(part.split("=", 1) for part in parts)


async def read_counters(redis: Redis) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Every counter's samples: name -> [(labels, value)]."""
    raw = await cast(Awaitable[dict[bytes, bytes]], redis.hgetall(COUNTERS_KEY))
    known = {metric.name for metric in COUNTERS}
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for field, value in raw.items():
        name, *parts = field.decode().split("|")
        if name in known:
            samples.setdefault(name, []).append((_labels(parts), float(value)))
    return samples


@dataclass
class HistogramSeries:
    labels: dict[str, str]
    # Per-bucket (not yet cumulative) counts by upper bound text ("0.05", "+Inf").
    buckets: dict[str, float]
    sum: float = 0.0
    count: float = 0.0


async def read_histograms(redis: Redis) -> dict[str, list[HistogramSeries]]:
    """Every histogram's series: name -> [series]."""
    raw = await cast(Awaitable[dict[bytes, bytes]], redis.hgetall(HISTOGRAMS_KEY))
    known = {metric.name for metric in HISTOGRAMS}
    series: dict[tuple[str, str], HistogramSeries] = {}
    for field, value in raw.items():
        base, _, part = field.decode().partition("#")
        name, *labels = base.split("|")
        if name not in known:
            continue
        one = series.setdefault((name, base), HistogramSeries(_labels(labels), {}))
        if part == "sum":
            one.sum = float(value)
        elif part == "count":
            one.count = float(value)
        elif part.startswith("le="):
            one.buckets[part.removeprefix("le=")] = float(value)
    found: dict[str, list[HistogramSeries]] = {}
    for (name, _), one in sorted(series.items()):
        found.setdefault(name, []).append(one)
    return found

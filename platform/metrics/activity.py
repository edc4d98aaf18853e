"""Per-tenant activity in time buckets (R2): requests and bytes of customer data served,
and failed logins across every account; read by the anomaly job (`anomalies.py`).

Tenant ids appear here only as hash fields that the job reads; never as metric labels.
Two resolutions keep memory bounded whatever the number of tenants:
- five-minute slots (`SLOT_SECONDS`), enough to sum the last hour, kept two hours;
- day buckets, enough for the trailing week's baseline, kept nine days.
So a tenant costs at most 24 + 9 fields per measure, 10,000 tenants a few tens of MB.

Buckets are numbered by the application clock, so tests move time instead of waiting;
Redis TTLs (real time) only collect what no reading needs any more.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

SLOT_SECONDS = 300
DAY_SECONDS = 86400
SLOT_TTL_SECONDS = 2 * 3600 + SLOT_SECONDS
DAY_TTL_SECONDS = 9 * DAY_SECONDS
HOUR_SLOTS = 3600 // SLOT_SECONDS
BASELINE_DAYS = 7

PREFIX = "audora:activity:"


@dataclass(frozen=True)
class Measure:
    """One per-tenant measure: requests, or bytes of customer data served."""

    key: str


REQUESTS = Measure("requests")
EGRESS = Measure("egress")


def slot_of(at: datetime) -> int:
    return int(at.timestamp()) // SLOT_SECONDS


def day_of(at: datetime) -> int:
    return int(at.timestamp()) // DAY_SECONDS


def _slot_key(measure: Measure, slot: int) -> str:
    return f"{PREFIX}{measure.key}:slot:{slot}"


def _day_key(measure: Measure, day: int) -> str:
    return f"{PREFIX}{measure.key}:day:{day}"


def add_activity(pipe: Pipeline, measure: Measure, tenant: str, amount: int, at: datetime) -> None:
    """Queue `amount` of `measure` for `tenant` at `at` on the caller's pipeline."""
    for key, ttl in (
        (_slot_key(measure, slot_of(at)), SLOT_TTL_SECONDS),
        (_day_key(measure, day_of(at)), DAY_TTL_SECONDS),
    ):
        pipe.hincrby(key, tenant, amount)
        pipe.expire(key, ttl)


async def record_activity(
    redis: Redis, measure: Measure, tenant: str, amount: int, at: datetime
) -> None:
    """`add_activity` in a pipeline of its own."""
    pipe = redis.pipeline(transaction=False)
    add_activity(pipe, measure, tenant, amount, at)
    await pipe.execute()


@dataclass(frozen=True)
class Window:
    """Each tenant's amount in the last hour, and its total over the trailing week's
    days (the days before today's)."""

    last_hour: dict[str, int]
    baseline_total: dict[str, int]

    def baseline_per_hour(self, tenant: str) -> float:
        return self.baseline_total.get(tenant, 0) / (BASELINE_DAYS * 24)


async def read_window(redis: Redis, measure: Measure, now: datetime) -> Window:
    """The last hour (the current slot and the eleven before it) and the baseline."""
    current, today = slot_of(now), day_of(now)
    pipe = redis.pipeline(transaction=False)
    for slot in range(current - HOUR_SLOTS + 1, current + 1):
        pipe.hgetall(_slot_key(measure, slot))
    for day in range(today - BASELINE_DAYS, today):
        pipe.hgetall(_day_key(measure, day))
    answers: list[dict[bytes, bytes]] = await pipe.execute()
    last_hour: dict[str, int] = {}
    baseline: dict[str, int] = {}
    for index, answer in enumerate(answers):
        into = last_hour if index < HOUR_SLOTS else baseline
        for tenant, value in answer.items():
            name = tenant.decode()
            into[name] = into.get(name, 0) + int(value)
    return Window(last_hour, baseline)


# Failed logins across accounts (credential stuffing): per five-minute slot, a count and
# a HyperLogLog of the emails' SHA-256, so the distinct emails can be counted while no
# email, nor its hash, can be read back.
def _fail_count_key(slot: int) -> str:
    return f"{PREFIX}login_failures:slot:{slot}"


def _fail_emails_key(slot: int) -> str:
    return f"{PREFIX}login_failure_emails:slot:{slot}"


def add_login_failure(pipe: Pipeline, email: str | None, at: datetime) -> None:
    """Queue one failed login (of `email`, normalized, when it was a valid address)."""
    slot = slot_of(at)
    pipe.incr(_fail_count_key(slot))
    pipe.expire(_fail_count_key(slot), SLOT_TTL_SECONDS)
    if email is not None:
        pipe.pfadd(_fail_emails_key(slot), hashlib.sha256(email.encode()).hexdigest())
        pipe.expire(_fail_emails_key(slot), SLOT_TTL_SECONDS)


@dataclass(frozen=True)
class LoginFailures:
    failures: int
    distinct_emails: int


async def recent_login_failures(redis: Redis, now: datetime, window: timedelta) -> LoginFailures:
    """Failed logins, and the distinct emails they named, over the slots of `window`."""
    current = slot_of(now)
    slots = range(current - max(1, int(window.total_seconds()) // SLOT_SECONDS) + 1, current + 1)
    counts = await redis.mget([_fail_count_key(s) for s in slots])
    distinct = await cast(Awaitable[int], redis.pfcount(*[_fail_emails_key(s) for s in slots]))
    return LoginFailures(sum(int(c) for c in counts if c is not None), int(distinct))

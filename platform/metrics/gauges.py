"""Gauges the workers set and `/metrics` shows: the state a job last found, kept in one
Redis hash so any API process answers with the same figures. Counts only: a gauge never
carries a tenant's name, an id or any content.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis

# One hash for every gauge: field = gauge name, value = its number.
GAUGES_KEY = "audora:metrics:gauges"


@dataclass(frozen=True)
class Gauge:
    name: str
    help: str


RECORDINGS_PAST_DEADLINE = Gauge(
    "audora_recordings_past_deadline",
    "Recordings still holding their key an hour after their deletion deadline, "
    "at the last retention run.",
)
AUDIO_OBJECTS_LEFT = Gauge(
    "audora_audio_objects_not_deleted",
    "Audio object versions the last retention run could not confirm deleted.",
)
RETENTION_FAILED_TENANTS = Gauge(
    "audora_retention_failed_tenants",
    "Tenants whose retention actions failed at the last retention run.",
)
RETENTION_LAST_RUN = Gauge(
    "audora_retention_last_run_timestamp_seconds",
    "When the last retention run finished, by the application clock (Unix seconds).",
)

# Set by the unusual-activity job (platform/metrics/anomalies.py, R2): counts of
# tenants, never which ones.
TENANTS_UNUSUAL_ACCESS = Gauge(
    "audora_tenants_unusual_access",
    "Tenants whose requests in the last hour are far above their own trailing baseline.",
)
TENANTS_UNUSUAL_EGRESS = Gauge(
    "audora_tenants_unusual_egress",
    "Tenants whose customer data served in the last hour is far above their own trailing baseline.",
)
LOGIN_FAILED_ACCOUNTS = Gauge(
    "audora_login_failed_emails_15m",
    "Distinct emails with a failed login in the last 15 minutes, across all accounts.",
)
CREDENTIAL_STUFFING = Gauge(
    "audora_auth_credential_stuffing",
    "1 while failed logins across accounts are above AUDORA_CREDENTIAL_STUFFING_ACCOUNTS.",
)
UNUSUAL_ACTIVITY_LAST_RUN = Gauge(
    "audora_unusual_activity_last_run_timestamp_seconds",
    "When the unusual-activity check last finished, by the application clock.",
)

GAUGES = (
    RECORDINGS_PAST_DEADLINE,
    AUDIO_OBJECTS_LEFT,
    RETENTION_FAILED_TENANTS,
    RETENTION_LAST_RUN,
    TENANTS_UNUSUAL_ACCESS,
    TENANTS_UNUSUAL_EGRESS,
    LOGIN_FAILED_ACCOUNTS,
    CREDENTIAL_STUFFING,
    UNUSUAL_ACTIVITY_LAST_RUN,
)


async def set_gauges(redis: Redis, values: dict[Gauge, float]) -> None:
    mapping = {gauge.name: value for gauge, value in values.items()}
    # redis-py types its hash commands for the sync and async clients at once.
    await cast(Awaitable[int], redis.hset(GAUGES_KEY, mapping=mapping))


async def read_gauges(redis: Redis) -> dict[str, float]:
    raw = await cast(Awaitable[dict[bytes, bytes]], redis.hgetall(GAUGES_KEY))
    return {key.decode(): float(value) for key, value in raw.items()}


def render_prometheus(values: dict[str, float]) -> str:
    """The Prometheus text exposition of every gauge a job has set."""
    lines: list[str] = []
    for gauge in GAUGES:
        if gauge.name not in values:
            continue
        lines += [
            f"# HELP {gauge.name} {gauge.help}",
            f"# TYPE {gauge.name} gauge",
            f"{gauge.name} {values[gauge.name]:g}",
        ]
    return "\n".join(lines) + "\n"

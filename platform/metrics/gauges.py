"""Gauges the workers set and `/metrics` shows, kept in Redis so any API process answers
with the same figures. Counts only: a gauge never carries a tenant's name, an id or any
content. Three kinds (I4: every alert condition a job finds is one of them):

- a value: the state a job last found (`set_gauges`), one field of one Redis hash;
- a set: what is failing now (`mark_failing`): the job that fails adds the tenant or
  call, the one that succeeds later removes it, and the gauge is how many there are.
  The members stay in Redis, so an alert clears when the thing is handled, not when
  someone resets it;
- recent events (`note_event`): how many happened within the gauge's window, by the
  application clock (a call FAILED, a job given up), for conditions nothing "handles".

Redis failures are logged, never raised: a metric must not fail what it measures.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# One hash for every value gauge: field = gauge name, value = its number.
GAUGES_KEY = "audora:metrics:gauges"
# Set gauges' members and recent gauges' events, one key per gauge.
SET_PREFIX = "audora:metrics:failing:"
RECENT_PREFIX = "audora:metrics:recent:"

Kind = Literal["value", "set", "recent"]


@dataclass(frozen=True)
class Gauge:
    name: str
    help: str
    kind: Kind = "value"
    # A recent gauge counts the events of this many seconds.
    window_seconds: int = 0

    @property
    def key(self) -> str:
        return (SET_PREFIX if self.kind == "set" else RECENT_PREFIX) + self.name


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

# Vulnerability reports (V1), set by the hourly `vulnerability_report_alerts_job`.
VULN_ACK_OVERDUE = Gauge(
    "audora_vulnerability_reports_unacknowledged_overdue",
    "Open vulnerability reports not acknowledged by a person within 24 hours.",
)
VULN_RESOLUTION_OVERDUE = Gauge(
    "audora_vulnerability_reports_unresolved_overdue",
    "Vulnerability reports not resolved within 30 days.",
)
# Incident deadlines (R3, R4), set by the hourly `incident_alerts_job`.
INCIDENT_NOTICES_DUE_SOON = Gauge(
    "audora_incident_notifications_due_soon",
    "Affected accounts whose owners are not told and whose 72-hour deadline is within a day.",
)
INCIDENT_NOTICES_OVERDUE = Gauge(
    "audora_incident_notifications_overdue",
    "Affected accounts whose owners are not told and whose 72-hour deadline has passed.",
)
INCIDENT_REPORTS_DUE_SOON = Gauge(
    "audora_incident_reports_due_soon",
    "Resolved incidents whose report is not published and due within 3 days.",
)
INCIDENT_REPORTS_OVERDUE = Gauge(
    "audora_incident_reports_overdue",
    "Resolved incidents whose report is not published 30 days after resolution.",
)
# What is failing now (set gauges).
BOT_MEDIA_NOT_DELETED = Gauge(
    "audora_bot_media_deletions_failed",
    "Meeting-bot recordings the provider still may hold: deletion not verified after "
    "every try (S2). Cleared by a later verified deletion.",
    "set",
)
BACKUPS_FAILED = Gauge(
    "audora_backups_failed_tenants",
    "Tenants whose last backup failed on its last try. Cleared by their next backup.",
    "set",
)
RESTORE_DRILLS_FAILED = Gauge(
    "audora_restore_drills_failed_tenants",
    "Tenants whose last restore drill failed. Cleared by a drill of theirs that passes.",
    "set",
)
KEY_ROTATIONS_OVERDUE = Gauge(
    "audora_key_rotations_overdue_tenants",
    "Tenants whose KEK is past its rotation period and whose rotation failed at the last "
    "daily rotation run.",
)
# Events within the last hour (recent gauges).
CALLS_FAILED = Gauge(
    "audora_calls_failed_last_hour",
    "Calls marked FAILED (any stage) in the last hour.",
    "recent",
    3600,
)
JOBS_GIVEN_UP = Gauge(
    "audora_jobs_given_up_last_hour",
    "Jobs that failed on their last try (arq will not run them again) in the last hour.",
    "recent",
    3600,
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
    VULN_ACK_OVERDUE,
    VULN_RESOLUTION_OVERDUE,
    INCIDENT_NOTICES_DUE_SOON,
    INCIDENT_NOTICES_OVERDUE,
    INCIDENT_REPORTS_DUE_SOON,
    INCIDENT_REPORTS_OVERDUE,
    BOT_MEDIA_NOT_DELETED,
    BACKUPS_FAILED,
    RESTORE_DRILLS_FAILED,
    KEY_ROTATIONS_OVERDUE,
    CALLS_FAILED,
    JOBS_GIVEN_UP,
)


async def set_gauges(redis: Redis, values: dict[Gauge, float]) -> None:
    """Set value gauges to what a job found."""
    mapping = {gauge.name: value for gauge, value in values.items()}
    # redis-py types its hash commands for the sync and async clients at once.
    await cast(Awaitable[int], redis.hset(GAUGES_KEY, mapping=mapping))


async def mark_failing(redis: Redis, gauge: Gauge, member: object, failing: bool) -> None:
    """Count `member` (a tenant or call id, never shown) in a set gauge while it is
    failing; a later success takes it out."""
    if gauge.kind != "set":
        raise ValueError(f"{gauge.name} is not a set gauge")
    try:
        if failing:
            await cast(Awaitable[int], redis.sadd(gauge.key, str(member)))
        else:
            await cast(Awaitable[int], redis.srem(gauge.key, str(member)))
    except RedisError:
        log.warning("could not update %s", gauge.name, exc_info=True)


async def note_event(redis: Redis, gauge: Gauge, at: datetime) -> None:
    """One event now (`at`, by the application clock) for a recent gauge; events older
    than its window are dropped on the way."""
    if gauge.kind != "recent":
        raise ValueError(f"{gauge.name} is not a recent gauge")
    stamp = at.timestamp()
    try:
        pipe = redis.pipeline(transaction=False)
        pipe.zadd(gauge.key, {uuid.uuid4().hex: stamp})
        pipe.zremrangebyscore(gauge.key, "-inf", stamp - gauge.window_seconds)
        await pipe.execute()
    except RedisError:
        log.warning("could not count %s", gauge.name, exc_info=True)


async def read_gauges(redis: Redis, now: datetime | None = None) -> dict[str, float]:
    """Every gauge's figure: value gauges a job has set, set gauges' sizes, and recent
    gauges' events within their window before `now` (the application clock's)."""
    raw = await cast(Awaitable[dict[bytes, bytes]], redis.hgetall(GAUGES_KEY))
    values = {key.decode(): float(value) for key, value in raw.items()}
    at = now.timestamp() if now is not None else time.time()
    counted = [gauge for gauge in GAUGES if gauge.kind != "value"]
    pipe = redis.pipeline(transaction=False)
    for gauge in counted:
        if gauge.kind == "set":
            pipe.scard(gauge.key)
        else:
            # An event stamped after `now` (the clock set back) counts until it ages.
            pipe.zcount(gauge.key, at - gauge.window_seconds, "+inf")
    for gauge, size in zip(counted, await pipe.execute(), strict=True):
        values[gauge.name] = float(size)
    return values


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

"""R2: unusual access volume, unexpected data egress and credential stuffing, flagged.

Every ten minutes (the worker's cron) each tenant's last hour is compared with its own
trailing baseline: flagged when it is above `max(factor x the mean hour of the seven
days before today, an absolute floor)` (`AUDORA_UNUSUAL_ACTIVITY_FACTOR`,
`AUDORA_UNUSUAL_ACCESS_FLOOR_REQUESTS`, `AUDORA_UNUSUAL_EGRESS_FLOOR_BYTES`). The floor
keeps a new or quiet tenant's first busy afternoon from being an incident.

A flagged tenant gets a `security.unusual_access` or `security.unusual_egress` entry in
its own audit log (its owners read it through `auditLog`), at most one an hour for as
long as it lasts, and a warning in the logs; `/metrics` shows how many tenants are
flagged now (`audora_tenants_unusual_access`, `audora_tenants_unusual_egress`), never
which. One pass reads every tenant's buckets from Redis at once, so the job does not
fan out per tenant: only the few flagged tenants cost a database write.

Failed logins across accounts: when more distinct emails failed in the last fifteen
minutes than `AUDORA_CREDENTIAL_STUFFING_ACCOUNTS`, `audora_auth_credential_stuffing`
is 1 (and a warning is logged) until they fall below it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from redis.asyncio import Redis

from audora.platform.db.tenant_binding import TenantRef
from audora.platform.db.tenant_names import tenant_schema
from audora.platform.metrics import activity
from audora.platform.metrics.gauges import (
    CREDENTIAL_STUFFING,
    LOGIN_FAILED_ACCOUNTS,
    TENANTS_UNUSUAL_ACCESS,
    TENANTS_UNUSUAL_EGRESS,
    UNUSUAL_ACTIVITY_LAST_RUN,
    set_gauges,
)
from audora.platform.runtime import Runtime
from audora.tenants.audit.log import AuditEntry, append_alone

log = logging.getLogger(__name__)

ACTOR = "system:monitoring"
STUFFING_WINDOW = timedelta(minutes=15)
# A flag lasting hours is audited once an hour, not at every run.
REAUDIT_AFTER = timedelta(hours=1)
FLAGGED_PREFIX = "audora:activity:flagged:"


@dataclass(frozen=True)
class Finding:
    tenant: uuid.UUID
    action: str
    last_hour: int
    baseline_per_hour: float
    threshold: float


@dataclass(frozen=True)
class Findings:
    access: list[Finding]
    egress: list[Finding]
    failed_login_accounts: int
    credential_stuffing: bool


def over_baseline(
    window: activity.Window, *, factor: float, floor: float, action: str
) -> list[Finding]:
    """The tenants whose last hour is above max(factor x baseline hour, floor)."""
    found: list[Finding] = []
    for tenant, amount in window.last_hour.items():
        mean = window.baseline_per_hour(tenant)
        threshold = max(factor * mean, floor)
        if amount > threshold:
            try:
                tenant_id = uuid.UUID(tenant)
            except ValueError:
                continue
            found.append(Finding(tenant_id, action, amount, mean, threshold))
    return found


async def _newly_due(
    redis: Redis, key: str, findings: list[Finding], now: datetime
) -> list[Finding]:
    """The findings not audited within the last hour; marks them audited."""
    marks = await cast(Awaitable[dict[bytes, bytes]], redis.hgetall(key))
    t = now.timestamp()
    expired = [k.decode() for k, until in marks.items() if float(until) <= t]
    if expired:
        await cast(Awaitable[int], redis.hdel(key, *expired))
    live = {k.decode() for k, until in marks.items() if float(until) > t}
    due = [f for f in findings if str(f.tenant) not in live]
    if due:
        until = t + REAUDIT_AFTER.total_seconds()
        await cast(Awaitable[int], redis.hset(key, mapping={str(f.tenant): until for f in due}))
    return due


async def _audit(runtime: Runtime, finding: Finding, now: datetime, unit: str) -> None:
    details: dict[str, Any] = {
        "measure": unit,
        "window": "1h",
        "lastHour": finding.last_hour,
        "baselinePerHour": round(finding.baseline_per_hour, 2),
        "threshold": round(finding.threshold, 2),
    }
    log.warning(
        "%s: account %s had %s %s in the last hour (baseline %.1f an hour, threshold %.0f)",
        finding.action,
        finding.tenant,
        finding.last_hour,
        unit,
        finding.baseline_per_hour,
        finding.threshold,
    )
    try:
        await append_alone(
            runtime.tenant_engines,
            TenantRef(tenant_schema(finding.tenant)),
            now,
            AuditEntry(actor=ACTOR, action=finding.action, details=details),
        )
    except Exception:
        # A tenant gone since its requests (purged) has no log to write to.
        log.exception("could not audit %s for account %s", finding.action, finding.tenant)


async def detect_unusual_activity(runtime: Runtime) -> Findings:
    """One pass: flag, audit and publish the gauges."""
    settings, redis, now = runtime.settings, runtime.redis, runtime.clock.now()
    factor = settings.unusual_activity_factor
    access = over_baseline(
        await activity.read_window(redis, activity.REQUESTS, now),
        factor=factor,
        floor=settings.unusual_access_floor_requests,
        action="security.unusual_access",
    )
    egress = over_baseline(
        await activity.read_window(redis, activity.EGRESS, now),
        factor=factor,
        floor=settings.unusual_egress_floor_bytes,
        action="security.unusual_egress",
    )
    for findings, unit in ((access, "requests"), (egress, "bytes")):
        key = FLAGGED_PREFIX + unit
        for finding in await _newly_due(redis, key, findings, now):
            await _audit(runtime, finding, now, unit)

    failures = await activity.recent_login_failures(redis, now, STUFFING_WINDOW)
    stuffing = failures.distinct_emails >= settings.credential_stuffing_accounts
    if stuffing:
        log.warning(
            "possible credential stuffing: %s failed logins across %s emails in %s minutes",
            failures.failures,
            failures.distinct_emails,
            int(STUFFING_WINDOW.total_seconds() // 60),
        )
    await set_gauges(
        redis,
        {
            TENANTS_UNUSUAL_ACCESS: len(access),
            TENANTS_UNUSUAL_EGRESS: len(egress),
            LOGIN_FAILED_ACCOUNTS: failures.distinct_emails,
            CREDENTIAL_STUFFING: 1 if stuffing else 0,
            UNUSUAL_ACTIVITY_LAST_RUN: now.timestamp(),
        },
    )
    return Findings(access, egress, failures.distinct_emails, stuffing)


async def unusual_activity_job(ctx: dict[str, Any]) -> dict[str, int]:
    """The worker's cron entry: one detection pass."""
    found = await detect_unusual_activity(ctx["runtime"])
    return {
        "unusual_access": len(found.access),
        "unusual_egress": len(found.egress),
        "credential_stuffing": int(found.credential_stuffing),
    }

"""Authentication counters (I4, R2): failed logins, lockouts, throttled attempts, wrong
second factors and new-device sign-ins. Counts only: no user id, no email (the
credential-stuffing count keeps the emails' hashes in a HyperLogLog, which can count
distinct ones but give none back: `activity.py`). A Redis failure is logged, never
raised: the login's own answer does not depend on its metrics.
"""

from __future__ import annotations

import logging
from typing import Literal

from redis.exceptions import RedisError

from audora.platform.metrics import activity
from audora.platform.metrics.counters import (
    LOGIN_FAILURES,
    LOGIN_LOCKOUTS,
    LOGIN_THROTTLED,
    MFA_FAILURES,
    NEW_DEVICE_LOGINS,
    add_count,
    count,
)
from audora.platform.runtime import Runtime

log = logging.getLogger(__name__)

FailureReason = Literal["password", "second_factor", "malformed_email"]


async def login_failed(
    runtime: Runtime, reason: FailureReason, email: str | None, *, locked: bool
) -> None:
    """One failed login of `email` (normalized; None when it was not an address)."""
    try:
        pipe = runtime.redis.pipeline(transaction=False)
        add_count(pipe, LOGIN_FAILURES, reason=reason)
        if reason == "second_factor":
            add_count(pipe, MFA_FAILURES)
        if locked:
            add_count(pipe, LOGIN_LOCKOUTS)
        activity.add_login_failure(pipe, email, runtime.clock.now())
        await pipe.execute()
    except RedisError:
        log.warning("could not count a failed login", exc_info=True)


async def login_throttled(runtime: Runtime, code: str) -> None:
    """An attempt refused before any password check (LOCKED_OUT or RATE_LIMITED)."""
    reason = {"LOCKED_OUT": "locked", "RATE_LIMITED": "rate_limited"}.get(code, "other")
    await count(runtime.redis, LOGIN_THROTTLED, reason=reason)


async def new_device_login(runtime: Runtime) -> None:
    await count(runtime.redis, NEW_DEVICE_LOGINS)

"""Failed logins: a progressive delay and a lockout per email, a limit per address.

Counters live in Redis, so every API process sees the same ones, but time comes from the
application clock (tests move it; Redis TTLs only collect garbage). Emails are counted
by a hash of the normalized address whether or not a user has it, so an unknown email
is throttled exactly like a known one. If Redis does not answer, logins fail closed.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from dataclasses import dataclass
from datetime import datetime

from redis.asyncio import Redis
from redis.exceptions import RedisError

from audora.platform.config import Settings
from audora.platform.errors import AppError, ErrorCode

_GC_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Verdict:
    failures: int
    locked: bool


def _email_key(email: str) -> str:
    return "auth:fail:email:" + hashlib.sha256(email.encode()).hexdigest()


def _lock_key(email: str) -> str:
    return "auth:lock:email:" + hashlib.sha256(email.encode()).hexdigest()


def _ip_key(ip: str) -> str:
    return "auth:fail:ip:" + ip


def unavailable() -> AppError:
    return AppError(
        "sign-in is temporarily unavailable; try again in a minute",
        code=ErrorCode.INTERNAL,
        retryAfterSeconds=60,
    )


def _wait(message: str, code: ErrorCode, seconds: float) -> AppError:
    return AppError(message, code=code, retryAfterSeconds=max(1, math.ceil(seconds)))


class LoginThrottle:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.window = settings.login_window_minutes * 60
        self.free = settings.login_free_failures
        self.delay = settings.login_delay_seconds
        self.max_delay = settings.login_max_delay_seconds
        self.lockout_failures = settings.lockout_failures
        self.lockout = settings.lockout_minutes * 60
        self.ip_limit = settings.ip_failure_limit

    async def check_address(self, ip: str | None, now: datetime) -> None:
        """RATE_LIMITED if `ip` has too many recent failures (logins, or sign-ups that
        hit an existing email: each of those tells the caller an email exists)."""
        if ip is None:
            return
        t = now.timestamp()
        try:
            count = await self.redis.zcount(_ip_key(ip), t - self.window, "+inf")
            if count >= self.ip_limit:
                oldest = await self.redis.zrangebyscore(
                    _ip_key(ip), t - self.window, "+inf", withscores=True, start=0, num=1
                )
                raise _wait(
                    "too many failed attempts from this address",
                    ErrorCode.RATE_LIMITED,
                    (oldest[0][1] if oldest else t) + self.window - t,
                )
        except RedisError:
            raise unavailable() from None

    async def failed_address(self, ip: str | None, now: datetime) -> None:
        if ip is None:
            return
        t = now.timestamp()
        try:
            pipe = self.redis.pipeline()
            pipe.zadd(_ip_key(ip), {uuid.uuid4().hex: t})
            pipe.zremrangebyscore(_ip_key(ip), "-inf", t - self.window)
            pipe.expire(_ip_key(ip), _GC_SECONDS)
            await pipe.execute()
        except RedisError:
            raise unavailable() from None

    async def check(self, email: str, ip: str | None, now: datetime) -> None:
        """Raise LOCKED_OUT or RATE_LIMITED if this attempt may not be tried now."""
        t = now.timestamp()
        try:
            locked_until = await self.redis.get(_lock_key(email))
            if locked_until is not None and float(locked_until) > t:
                raise _wait(
                    "too many failed attempts: this sign-in is locked for a while",
                    ErrorCode.LOCKED_OUT,
                    float(locked_until) - t,
                )
            recent = await self.redis.zrangebyscore(
                _email_key(email), t - self.window, "+inf", withscores=True
            )
            if len(recent) >= self.free:
                delay = min(self.delay * 2 ** (len(recent) - self.free), self.max_delay)
                ready = recent[-1][1] + delay
                if ready > t:
                    raise _wait(
                        "too many failed attempts: wait before trying again",
                        ErrorCode.RATE_LIMITED,
                        ready - t,
                    )
        except RedisError:
            raise unavailable() from None
        await self.check_address(ip, now)

    async def failed(self, email: str, ip: str | None, now: datetime) -> Verdict:
        """Count a failure; lock the email when it reaches the limit."""
        t = now.timestamp()
        member = uuid.uuid4().hex
        try:
            pipe = self.redis.pipeline()
            for key in [_email_key(email)] + ([_ip_key(ip)] if ip else []):
                pipe.zadd(key, {member: t})
                pipe.zremrangebyscore(key, "-inf", t - self.window)
                pipe.expire(key, _GC_SECONDS)
            pipe.zcount(_email_key(email), t - self.window, "+inf")
            results = await pipe.execute()
            failures = int(results[-1])
            locked = failures >= self.lockout_failures
            if locked:
                await self.redis.set(_lock_key(email), t + self.lockout, ex=_GC_SECONDS)
                await self.redis.delete(_email_key(email))
        except RedisError:
            raise unavailable() from None
        return Verdict(failures, locked)

    async def succeeded(self, email: str) -> None:
        try:
            await self.redis.delete(_email_key(email))
        except RedisError:
            raise unavailable() from None

    def locked_out(self) -> AppError:
        return _wait(
            "too many failed attempts: this sign-in is locked for a while",
            ErrorCode.LOCKED_OUT,
            self.lockout,
        )

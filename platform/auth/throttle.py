"""Failed logins: a progressive delay and a lockout per email, a limit per address.

Every attempt reserves its place before any password is hashed: one atomic script
checks the lock, the delay and the address limit and, if the attempt may go ahead,
counts it as a failure at once. A success takes its entry back out. So a burst of
concurrent guesses is throttled exactly like the same guesses one after another.

Counters live in Redis, so every API process sees the same ones, but time comes from
the application clock (tests move it; Redis TTLs only collect garbage). Emails are
counted by a hash of the normalized address whether or not a user has it, so an unknown
email is throttled exactly like a known one. IPv6 clients are counted per /64, the
block one subscriber usually holds. If Redis does not answer, logins fail closed.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import uuid
from dataclasses import dataclass
from datetime import datetime

from redis.asyncio import Redis
from redis.exceptions import RedisError

from audora.platform.config import Settings
from audora.platform.errors import AppError, ErrorCode

_GC_SECONDS = 24 * 3600

# KEYS: email failures (zset), email lock (string), address failures (zset, or "").
# ARGV: now, window, free failures, first delay, max delay, address limit, member, gc.
_RESERVE = """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local free, delay, max_delay = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local ip_limit, member, gc = tonumber(ARGV[6]), ARGV[7], tonumber(ARGV[8])
local locked = redis.call('GET', KEYS[2])
if locked and tonumber(locked) > now then
  return {'LOCKED', tostring(tonumber(locked) - now)}
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local failures = redis.call('ZCARD', KEYS[1])
if failures >= free then
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  local ready = tonumber(last[2]) + math.min(delay * 2 ^ (failures - free), max_delay)
  if ready > now then
    return {'WAIT', tostring(ready - now)}
  end
end
if KEYS[3] ~= '' then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - window)
  if redis.call('ZCARD', KEYS[3]) >= ip_limit then
    local oldest = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
    return {'ADDRESS', tostring(tonumber(oldest[2]) + window - now)}
  end
  redis.call('ZADD', KEYS[3], now, member)
  redis.call('EXPIRE', KEYS[3], gc)
end
redis.call('ZADD', KEYS[1], now, member)
redis.call('EXPIRE', KEYS[1], gc)
return {'OK', '0'}
"""


@dataclass(frozen=True)
class Attempt:
    """A login attempt that was let through, already counted as a failure."""

    email: str
    ip: str | None
    member: str


@dataclass(frozen=True)
class Verdict:
    failures: int
    locked: bool


def _digest(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()


def _email_key(email: str) -> str:
    return "auth:fail:email:" + _digest(email)


def _lock_key(email: str) -> str:
    return "auth:lock:email:" + _digest(email)


def _ip_key(ip: str) -> str:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "auth:fail:ip:" + ip
    if address.version == 6:
        return "auth:fail:ip:" + str(ipaddress.ip_network(f"{address}/64", strict=False))
    return "auth:fail:ip:" + str(address)


def unavailable() -> AppError:
    return AppError(
        "sign-in is temporarily unavailable; try again in a minute",
        code=ErrorCode.INTERNAL,
        retryAfterSeconds=60,
    )


def _wait(message: str, code: ErrorCode, seconds: float) -> AppError:
    return AppError(message, code=code, retryAfterSeconds=max(1, math.ceil(seconds)))


_REFUSALS = {
    "LOCKED": (
        "too many failed attempts: this sign-in is locked for a while",
        ErrorCode.LOCKED_OUT,
    ),
    "WAIT": ("too many failed attempts: wait before trying again", ErrorCode.RATE_LIMITED),
    "ADDRESS": ("too many failed attempts from this address", ErrorCode.RATE_LIMITED),
}


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
        self._reserve = redis.register_script(_RESERVE)

    async def begin(self, email: str, ip: str | None, now: datetime) -> Attempt:
        """Let an attempt go ahead, counted as a failure until `succeeded`; or raise
        LOCKED_OUT or RATE_LIMITED with retryAfterSeconds."""
        member = uuid.uuid4().hex
        try:
            verdict, seconds = await self._reserve(
                keys=[_email_key(email), _lock_key(email), _ip_key(ip) if ip else ""],
                args=[
                    now.timestamp(),
                    self.window,
                    self.free,
                    self.delay,
                    self.max_delay,
                    self.ip_limit,
                    member,
                    _GC_SECONDS,
                ],
            )
        except RedisError:
            raise unavailable() from None
        verdict = verdict.decode() if isinstance(verdict, bytes) else str(verdict)
        if verdict != "OK":
            message, code = _REFUSALS[verdict]
            raise _wait(message, code, float(seconds))
        return Attempt(email, ip, member)

    async def failed(self, attempt: Attempt, now: datetime) -> Verdict:
        """The attempt failed (it is already counted): lock the email at the limit."""
        try:
            failures = int(
                await self.redis.zcount(
                    _email_key(attempt.email), now.timestamp() - self.window, "+inf"
                )
            )
            locked = failures >= self.lockout_failures
            if locked:
                await self.redis.set(
                    _lock_key(attempt.email), now.timestamp() + self.lockout, ex=_GC_SECONDS
                )
                await self.redis.delete(_email_key(attempt.email))
        except RedisError:
            raise unavailable() from None
        return Verdict(failures, locked)

    async def withdraw(self, attempt: Attempt) -> None:
        """Take the attempt back out (a correct password that still needs its second
        factor): it was no failure, and it proves nothing either."""
        try:
            await self.redis.zrem(_email_key(attempt.email), attempt.member)
            if attempt.ip:
                await self.redis.zrem(_ip_key(attempt.ip), attempt.member)
        except RedisError:
            raise unavailable() from None

    async def succeeded(self, attempt: Attempt) -> None:
        """A complete login: the email's failures are forgiven."""
        await self.withdraw(attempt)
        try:
            await self.redis.delete(_email_key(attempt.email))
        except RedisError:
            raise unavailable() from None

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

    def locked_out(self) -> AppError:
        return _wait(_REFUSALS["LOCKED"][0], ErrorCode.LOCKED_OUT, self.lockout)

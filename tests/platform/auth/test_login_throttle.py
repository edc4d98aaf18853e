"""A8: failed logins slow down progressively, lock the email after ten failures for a
while (LOCKED_OUT with retryAfterSeconds, then open again), rate-limit a noisy
address, and never tell an unknown email from a wrong password, down to the amount of
hashing done. Without Redis, logins fail closed."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from starlette.applications import Starlette

from audora.platform.auth.passwords import Passwords
from audora.platform.clock import FrozenClock
from audora.platform.config import Settings
from audora.platform.http.app import create_app

from audora_testing import PASSWORD, GraphQL, client_from, dead_url, error_codes, sign_up

LOG_IN = "mutation($input: LogInInput!) { logIn(input: $input) { token } }"


def _ip() -> str:
    """A fresh address per test: address counters must not leak between tests."""
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


async def _attempt(app: Starlette, ip: str, email: str, password: str) -> dict[str, Any]:
    async with client_from(app, ip, "throttle-tests/1.0") as client:
        return await GraphQL(client)(LOG_IN, {"input": {"email": email, "password": password}})


def _code(result: dict[str, Any]) -> str | None:
    codes = error_codes(result)
    return codes[0] if codes else None


async def test_ten_failures_lock_the_email_then_the_lock_expires(
    app: Starlette, gql: GraphQL, clock: FrozenClock, settings: Settings
) -> None:
    owner = await sign_up(gql, "Locked Out")
    ip = _ip()
    moved = timedelta()
    try:
        answers = []
        for _ in range(settings.lockout_failures):
            result = await _attempt(app, ip, owner["email"], "not the right password")
            while _code(result) == "RATE_LIMITED":  # the progressive delay: wait it out
                wait = result["errors"][0]["extensions"]["retryAfterSeconds"]
                clock.advance(timedelta(seconds=wait))
                moved += timedelta(seconds=wait)
                result = await _attempt(app, ip, owner["email"], "not the right password")
            answers.append(_code(result))
        assert answers == ["UNAUTHENTICATED"] * (settings.lockout_failures - 1) + ["LOCKED_OUT"]
        # Locked: even the right password is refused, with how long to wait.
        locked = await _attempt(app, ip, owner["email"], PASSWORD)
        assert _code(locked) == "LOCKED_OUT"
        retry = locked["errors"][0]["extensions"]["retryAfterSeconds"]
        assert 0 < retry <= settings.lockout_minutes * 60
        clock.advance(timedelta(seconds=retry - 5))
        moved += timedelta(seconds=retry - 5)
        assert _code(await _attempt(app, ip, owner["email"], PASSWORD)) == "LOCKED_OUT"
        clock.advance(timedelta(seconds=6))
        moved += timedelta(seconds=6)
        opened = await _attempt(app, ip, owner["email"], PASSWORD)
        assert "errors" not in opened, opened
    finally:
        clock.advance(-moved)


async def test_failures_slow_down_progressively(
    app: Starlette, gql: GraphQL, settings: Settings
) -> None:
    owner = await sign_up(gql, "Slowed Down")
    ip = _ip()
    for _ in range(settings.login_free_failures):
        assert (
            _code(await _attempt(app, ip, owner["email"], "wrong password!")) == "UNAUTHENTICATED"
        )
    slowed = await _attempt(app, ip, owner["email"], "wrong password!")
    assert _code(slowed) == "RATE_LIMITED"
    assert slowed["errors"][0]["extensions"]["retryAfterSeconds"] == settings.login_delay_seconds


async def test_an_unknown_email_gets_the_same_answer_after_the_same_hashing(
    app: Starlette, gql: GraphQL, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await sign_up(gql, "Enumeration")
    calls: list[str] = []
    original = Passwords.verify_sync

    def counted(self: Passwords, stored: str, password: str) -> bool:
        calls.append(stored[:10])
        return original(self, stored, password)

    monkeypatch.setattr(Passwords, "verify_sync", counted)
    ip = _ip()
    wrong = await _attempt(app, ip, owner["email"], "a wrong password")
    after_wrong = len(calls)
    unknown = await _attempt(app, ip, f"nobody-{uuid.uuid4().hex}@example.com", "a wrong password")
    after_unknown = len(calls) - after_wrong
    malformed = await _attempt(app, ip, "not an email", "a wrong password")
    after_malformed = len(calls) - after_wrong - after_unknown
    assert after_wrong == after_unknown == after_malformed == 1
    assert wrong["errors"] == unknown["errors"] == malformed["errors"]
    assert all(c.startswith("$argon2id") for c in calls)


async def test_a_noisy_address_is_rate_limited(
    app: Starlette, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ip = _ip()
    runtime = app.state.runtime
    monkeypatch.setattr(runtime.throttle, "ip_limit", 5)
    for _ in range(5):
        email = f"spray-{uuid.uuid4().hex}@example.com"
        assert _code(await _attempt(app, ip, email, "sprayed password")) == "UNAUTHENTICATED"
    limited = await _attempt(app, ip, f"spray-{uuid.uuid4().hex}@example.com", "sprayed password")
    assert _code(limited) == "RATE_LIMITED"
    assert limited["errors"][0]["extensions"]["retryAfterSeconds"] > 0
    assert _code(await _attempt(app, _ip(), "other@example.com", "x" * 12)) == "UNAUTHENTICATED"


async def test_without_redis_login_fails_closed(
    gql: GraphQL, settings: Settings, clock: FrozenClock
) -> None:
    owner = await sign_up(gql, "No Redis")
    broken = create_app(
        settings.model_copy(update={"redis_url": dead_url(settings.redis_url)}), clock=clock
    )
    async with broken.router.lifespan_context(broken):
        result = await _attempt(broken, _ip(), owner["email"], PASSWORD)
    assert _code(result) == "INTERNAL"
    assert result["errors"][0]["message"].startswith("sign-in is temporarily unavailable")
    assert result["data"] is None

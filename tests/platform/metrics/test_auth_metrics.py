"""I4, R2: failed logins, lockouts, refusals of a locked email, wrong second factors and
new-device sign-ins are counted (counts only, no email); failed logins across many
accounts in a short time flag credential stuffing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from starlette.applications import Starlette

from audora.platform.config import Settings
from audora.platform.metrics import activity
from audora.platform.metrics.anomalies import STUFFING_WINDOW, detect_unusual_activity
from audora.platform.runtime import Runtime

from audora_testing import PASSWORD, GraphQL, client_from, sign_up
from metrics_scraping import Scraper

LOG_IN = "mutation($input: LogInInput!) { logIn(input: $input) { token } }"


def _ip() -> str:
    """A fresh address per test: address counters must not leak between tests."""
    n = uuid.uuid4().int
    return f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250 + 1}"


async def _log_in(app: Starlette, ip: str, email: str, password: str) -> dict[str, Any]:
    async with client_from(app, ip, "metrics-tests/1.0") as client:
        return await GraphQL(client)(LOG_IN, {"input": {"email": email, "password": password}})


async def test_failed_logins_and_a_lockout_are_counted(
    app: Starlette, gql: GraphQL, scrape: Scraper, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await sign_up(gql, "Locked Metrics")
    throttle = app.state.runtime.throttle
    monkeypatch.setattr(throttle, "free", 10)  # no progressive delay in the way
    monkeypatch.setattr(throttle, "lockout_failures", 2)
    ip = _ip()
    before = await scrape()
    await _log_in(app, ip, owner["email"], "wrong password one")
    locked = await _log_in(app, ip, owner["email"], "wrong password two")
    assert locked["errors"][0]["extensions"]["code"] == "LOCKED_OUT"
    refused = await _log_in(app, ip, owner["email"], PASSWORD)
    assert refused["errors"][0]["extensions"]["code"] == "LOCKED_OUT"
    await _log_in(app, ip, "not an address", "whatever it is")
    after = await scrape()

    failures = "audora_login_failures_total"
    assert after.grew(before, failures, reason="password") == 2
    assert after.grew(before, failures, reason="malformed_email") == 1
    assert after.grew(before, "audora_login_lockouts_total") == 1
    assert after.grew(before, "audora_login_throttled_total", reason="locked") == 1
    assert owner["email"] not in after.text


async def test_a_new_device_sign_in_is_counted(
    app: Starlette, gql: GraphQL, scrape: Scraper
) -> None:
    owner = await sign_up(gql, "New Device Metrics")
    before = await scrape()
    # Signed up from the test client's device; this one is new.
    async with client_from(app, "198.51.100.77", "another-browser/2.0") as client:
        answer = await GraphQL(client)(
            LOG_IN, {"input": {"email": owner["email"], "password": PASSWORD}}
        )
    assert "errors" not in answer, answer
    after = await scrape()
    assert after.grew(before, "audora_login_new_devices_total") == 1


async def test_failed_logins_across_many_accounts_flag_credential_stuffing(
    app: Starlette,
    runtime: Runtime,
    settings: Settings,
    scrape: Scraper,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    already = await activity.recent_login_failures(
        runtime.redis, runtime.clock.now(), STUFFING_WINDOW
    )
    monkeypatch.setattr(settings, "credential_stuffing_accounts", already.distinct_emails + 6)
    calm = await detect_unusual_activity(runtime)
    assert not calm.credential_stuffing
    assert (await scrape()).value("audora_auth_credential_stuffing") == 0

    ip = _ip()
    for _ in range(8):  # one password tried against many accounts
        await _log_in(app, ip, f"victim-{uuid.uuid4().hex}@example.com", "Summer2026!")
    found = await detect_unusual_activity(runtime)
    assert found.credential_stuffing
    assert found.failed_login_accounts >= already.distinct_emails + 6
    scraped = await scrape()
    assert scraped.value("audora_auth_credential_stuffing") == 1
    assert scraped.value("audora_login_failed_emails_15m") == found.failed_login_accounts
    monkeypatch.undo()
    await detect_unusual_activity(runtime)  # the default threshold: the flag falls

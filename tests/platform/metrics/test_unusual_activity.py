"""R2: a tenant whose last hour of requests, or of customer data served, is far above
its own trailing week is flagged: a `security.unusual_access` / `security.unusual_egress`
entry its owner reads in `auditLog`, and a count of such tenants in /metrics (never
which). A tenant at its usual level is not. Time buckets follow the application clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from audora.platform.clock import FrozenClock
from audora.platform.config import Settings
from audora.platform.metrics import activity
from audora.platform.metrics.anomalies import detect_unusual_activity
from audora.platform.runtime import Runtime

from audora_testing import GraphQL, create_profile, raw_id, sign_up
from metrics_scraping import Scraper

AUDIT = """
query($action: String) {
  auditLog(first: 20, action: $action) { edges { node { actor action details } } }
}
"""
ME = "{ me { user { id } } }"


async def _seed_week(
    runtime: Runtime, account: str, measure: activity.Measure, per_day: int
) -> None:
    """The tenant's usual week: `per_day` on each of the seven days before today."""
    now = runtime.clock.now()
    for days in range(1, activity.BASELINE_DAYS + 1):
        await activity.record_activity(
            runtime.redis, measure, str(raw_id(account)), per_day, now - timedelta(days=days)
        )


async def _flags(gql: GraphQL, token: str, action: str) -> list[dict[str, Any]]:
    result = await gql(AUDIT, {"action": action}, token=token)
    assert "errors" not in result, result
    return [edge["node"] for edge in result["data"]["auditLog"]["edges"]]


async def test_a_tenant_far_above_its_usual_request_volume_is_flagged(
    gql: GraphQL,
    runtime: Runtime,
    clock: FrozenClock,
    settings: Settings,
    scrape: Scraper,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "unusual_activity_factor", 3.0)
    monkeypatch.setattr(settings, "unusual_access_floor_requests", 10)
    busy = await sign_up(gql, "Suddenly Busy")
    usual = await sign_up(gql, "Business As Usual")
    for owner in (busy, usual):  # two requests an hour, every hour of the week
        await _seed_week(runtime, owner["account"]["id"], activity.REQUESTS, 48)
    for _ in range(15):
        await gql(ME, token=busy["token"])
    for _ in range(3):
        await gql(ME, token=usual["token"])

    found = await detect_unusual_activity(runtime)

    flagged = {finding.tenant for finding in found.access}
    assert raw_id(busy["account"]["id"]) in flagged
    assert raw_id(usual["account"]["id"]) not in flagged
    (entry,) = await _flags(gql, busy["token"], "security.unusual_access")
    assert entry["actor"] == "system:monitoring"
    assert entry["details"]["measure"] == "requests"
    assert entry["details"]["lastHour"] >= 15
    assert entry["details"]["baselinePerHour"] == 2
    assert entry["details"]["threshold"] == 10
    assert await _flags(gql, usual["token"], "security.unusual_access") == []
    scraped = await scrape()
    assert scraped.value("audora_tenants_unusual_access") == len(found.access) >= 1

    # Still busy ten minutes later: still counted, but audited once an hour, not again.
    clock.advance(timedelta(minutes=10))
    try:
        again = await detect_unusual_activity(runtime)
        assert raw_id(busy["account"]["id"]) in {f.tenant for f in again.access}
        assert len(await _flags(gql, busy["token"], "security.unusual_access")) == 1
    finally:
        clock.advance(timedelta(minutes=-10))


async def test_a_tenant_served_far_more_data_than_usual_is_flagged(
    gql: GraphQL,
    runtime: Runtime,
    settings: Settings,
    scrape: Scraper,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "unusual_activity_factor", 3.0)
    monkeypatch.setattr(settings, "unusual_egress_floor_bytes", 10_000)
    draining = await sign_up(gql, "Draining Studio")
    usual = await sign_up(gql, "Quiet Studio")
    for owner in (draining, usual):  # about 1 kB an hour
        await _seed_week(runtime, owner["account"]["id"], activity.EGRESS, 24_000)
    await create_profile(gql, draining["token"], "Big Client", notes="roadmap " * 500)
    for _ in range(5):  # each answer carries the 4 kB of notes
        result = await gql("{ clientProfiles { notes } }", token=draining["token"])
        assert "errors" not in result
    await gql(ME, token=usual["token"])

    found = await detect_unusual_activity(runtime)

    flagged = {finding.tenant for finding in found.egress}
    assert raw_id(draining["account"]["id"]) in flagged
    assert raw_id(usual["account"]["id"]) not in flagged
    (entry,) = await _flags(gql, draining["token"], "security.unusual_egress")
    assert entry["details"]["measure"] == "bytes"
    assert entry["details"]["lastHour"] > 5 * 4000
    assert await _flags(gql, usual["token"], "security.unusual_egress") == []
    assert (await scrape()).value("audora_tenants_unusual_egress") == len(found.egress) >= 1


async def test_the_last_hour_moves_with_the_application_clock(runtime: Runtime) -> None:
    """Requests older than an hour no longer count towards the last hour; the day's
    bucket still has them for next week's baseline."""
    tenant = "00000000-0000-4000-8000-00000000c10c"
    now = runtime.clock.now()
    await activity.record_activity(runtime.redis, activity.REQUESTS, tenant, 7, now)
    window = await activity.read_window(runtime.redis, activity.REQUESTS, now)
    assert window.last_hour[tenant] >= 7
    later = await activity.read_window(
        runtime.redis, activity.REQUESTS, now + timedelta(minutes=65)
    )
    assert tenant not in later.last_hour
    tomorrow = await activity.read_window(runtime.redis, activity.REQUESTS, now + timedelta(days=1))
    assert tomorrow.baseline_total[tenant] >= 7

"""R2: a tenant whose last hour of requests, or of customer data served, is far above
its own trailing week is flagged: a `security.unusual_access` / `security.unusual_egress`
entry its owner reads in `auditLog`, and a count of such tenants in /metrics (never
which). A tenant at its usual level is not. Egress is the bytes of customer data served:
GraphQL answers, document exports and data exports (counted as they stream). Time
buckets follow the application clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from audora.platform import ids
from audora.platform.clock import FrozenClock
from audora.platform.config import Settings
from audora.platform.db.tenant_binding import TenantRef, tenant_transaction
from audora.platform.db.tenant_names import tenant_schema
from audora.platform.metrics import activity
from audora.platform.metrics.anomalies import detect_unusual_activity
from audora.platform.runtime import Runtime
from audora.tenants.calls.content import DocumentKind, store_document
from audora.tenants.lifecycle.export import build_export_job

from audora_testing import GraphQL, create_call, create_profile, raw_id, run_jobs, sign_up
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


async def _egress_last_hour(runtime: Runtime, account: str) -> int:
    window = await activity.read_window(runtime.redis, activity.EGRESS, runtime.clock.now())
    return window.last_hour.get(str(raw_id(account)), 0)


async def test_document_exports_and_streamed_data_exports_count_as_the_tenants_egress(
    gql: GraphQL, api: httpx.AsyncClient, runtime: Runtime
) -> None:
    owner = await sign_up(gql, "Exporting Studio")
    account = owner["account"]["id"]
    profile = await create_profile(gql, owner["token"], "Export Client")
    call_id = await create_call(gql, owner["token"], profile["id"])
    tenant_id = raw_id(account)
    async with tenant_transaction(
        runtime.tenant_engines, TenantRef(tenant_schema(tenant_id))
    ) as uow:
        document_id = await store_document(
            uow,
            runtime.keys,
            tenant_id,
            raw_id(call_id),
            DocumentKind.PRD,
            "Plan",
            "# Plan\n\n" + "Ship the loyalty app. " * 200,
            {},
        )
        await uow.commit()
    bearer = {"authorization": f"Bearer {owner['token']}"}

    before = await _egress_last_hour(runtime, account)
    exported = await api.get(
        f"/documents/{ids.encode(ids.Kind.DOCUMENT, document_id)}/export", headers=bearer
    )
    assert exported.status_code == 200
    assert await _egress_last_hour(runtime, account) - before == len(exported.content)

    requested = await gql("mutation { requestExport { id } }", token=owner["token"])
    assert "errors" not in requested, requested
    await run_jobs(runtime, [build_export_job])
    ready = await gql(
        "query($id: ID!) { dataExport(id: $id) { downloadUrl } }",
        {"id": requested["data"]["requestExport"]["id"]},
        token=owner["token"],
    )
    link = urlsplit(ready["data"]["dataExport"]["downloadUrl"]).path
    before = await _egress_last_hour(runtime, account)
    async with api.stream("GET", link) as download:
        assert download.status_code == 200
        size = sum([len(chunk) async for chunk in download.aiter_raw()])
    assert size > 0
    assert await _egress_last_hour(runtime, account) - before == size

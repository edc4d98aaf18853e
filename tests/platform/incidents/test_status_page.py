"""The public status page (PROMISES R5): `/status`, `/status.json` and `/status.atom`,
with no sign-in, show live incidents and the full history with public updates and
published reports, and never the affected accounts, the data affected, what was done,
staff notes or who did anything."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from incidents_testing import ONCALL, opened

from audora.platform.clock import FrozenClock
from audora.platform.incidents import service
from audora.platform.incidents.model import Incident
from audora.platform.runtime import Runtime

from audora_testing import GraphQL, moved, raw_id, sign_up

ATOM = "{http://www.w3.org/2005/Atom}"
PRIVATE_WHAT = "Transcripts of the Brightside Dental roadmap call were readable by a wrong seat."
PRIVATE_DONE = "Rotated the tenant's data keys and removed the seat at 14:02."
PRIVATE_NOTE = "Suspect the cache key omits the tenant: check PR 4411."
REPORT = "# Transcripts shown to the wrong seat\n\nOn the 3rd, a cache...\n\n## What we changed"


async def _breach(gql: GraphQL, runtime: Runtime, clock: FrozenClock) -> tuple[Incident, str]:
    """A SEV1 incident on uploads and processing, confirmed for one account, with a
    private note and a public update; still live. Its account's public id."""
    owner = await sign_up(gql, "Status Page Studio")
    incident = await opened(runtime, "Transcripts shown to the wrong seat", "SEV1", "processing")
    await service.add_note(runtime, ONCALL, incident.id, PRIVATE_NOTE)
    await service.confirm(
        runtime,
        ONCALL,
        incident.id,
        account_ids=[raw_id(owner["account"]["id"])],
        data_affected=PRIVATE_WHAT,
        actions_taken=PRIVATE_DONE,
    )
    with moved(clock, timedelta(minutes=30)):
        incident = await service.post_update(
            runtime,
            ONCALL,
            incident.id,
            message="We found the cause and are deploying a fix.",
            status="identified",
        )
    return incident, owner["account"]["id"]


def _never_private(body: str, account_id: str) -> None:
    for private in (
        PRIVATE_WHAT,
        PRIVATE_DONE,
        PRIVATE_NOTE,
        account_id,
        account_id.removeprefix("acc_"),
        ONCALL.label,
        "oncall-ola",
        str(ONCALL.staff_id),
        "SEV1",
        "detection",
        "data_affected",
    ):
        assert private not in body, private


def _by_id(listing: list[dict[str, Any]], incident: Incident) -> dict[str, Any]:
    (found,) = [i for i in listing if i["id"] == service.public_id(incident.id)]
    return found


async def test_r5_the_status_json_shows_live_incidents_and_never_private_fields(
    api: httpx.AsyncClient, gql: GraphQL, runtime: Runtime, clock: FrozenClock
) -> None:
    incident, account_id = await _breach(gql, runtime, clock)
    response = await api.get("/status.json")
    assert response.status_code == 200
    _never_private(response.text, account_id)
    status = response.json()

    live = _by_id(status["open_incidents"], incident)
    assert live["title"] == "Transcripts shown to the wrong seat"
    assert live["status"] == "identified"
    assert live["components"] == ["processing"]
    assert [u["message"] for u in live["updates"]] == [
        "We found the cause and are deploying a fix.",
        "We are investigating failed uploads.",
    ]
    assert [u["status"] for u in live["updates"]] == ["identified", "investigating"]
    assert live["report"] is None
    assert set(live) == {
        "id",
        "title",
        "status",
        "components",
        "started_at",
        "resolved_at",
        "updates",
        "report",
    }
    assert _by_id(status["incidents"], incident) == live
    components = {c["id"]: c["status"] for c in status["components"]}
    assert components["processing"] == "major_outage"  # a SEV1 names it
    assert status["status"] == "major_outage"


async def test_r5_resolved_incidents_stay_in_the_history_with_their_published_report(
    api: httpx.AsyncClient, gql: GraphQL, runtime: Runtime, clock: FrozenClock
) -> None:
    incident, account_id = await _breach(gql, runtime, clock)
    with moved(clock, timedelta(hours=2)):
        await service.post_update(
            runtime, ONCALL, incident.id, message="Fixed and verified.", status="resolved"
        )
        await service.save_report(runtime, ONCALL, incident.id, "draft: not for the public")
        draft = (await api.get("/status.json")).json()
        assert "draft: not for the public" not in str(draft)
        assert service.public_id(incident.id) not in {i["id"] for i in draft["open_incidents"]}
        await service.publish_report(runtime, ONCALL, incident.id, REPORT)

    response = await api.get("/status.json")
    _never_private(response.text, account_id)
    past = _by_id(response.json()["incidents"], incident)
    assert past["status"] == "resolved"
    assert past["resolved_at"] is not None
    assert past["report"]["markdown"] == REPORT
    datetime.fromisoformat(past["report"]["published_at"])
    assert past["updates"][0]["message"] == "The post-incident report has been published."
    assert past["updates"][1]["status"] == "resolved"

    page = await api.get("/status")
    assert "Transcripts shown to the wrong seat" in page.text
    # The report is shown as written, its Markdown never turned into markup.
    assert "<p># Transcripts shown to the wrong seat</p>" in page.text
    assert "What we changed" in page.text
    _never_private(page.text, account_id)


async def test_r5_the_status_page_is_public_html_under_a_strict_policy(
    api: httpx.AsyncClient, gql: GraphQL, runtime: Runtime, clock: FrozenClock
) -> None:
    incident, account_id = await _breach(gql, runtime, clock)
    hostile = await opened(runtime, "<script>alert(1)</script> in a title", "SEV3", "api")
    response = await api.get("/status")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "<script" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; in a title" in response.text
    assert f"id='{service.public_id(incident.id)}'" in response.text
    assert f"id='{service.public_id(hostile.id)}'" in response.text
    assert "We found the cause and are deploying a fix." in response.text
    _never_private(response.text, account_id)


async def test_r5_the_atom_feed_is_valid_and_carries_every_public_update(
    api: httpx.AsyncClient, gql: GraphQL, runtime: Runtime, clock: FrozenClock
) -> None:
    incident, account_id = await _breach(gql, runtime, clock)
    response = await api.get("/status.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    _never_private(response.text, account_id)

    # Our own feed from the in-process app, not untrusted input.
    feed = ET.fromstring(response.content)  # noqa: S314
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{required}") is not None, required
    entries = feed.findall(f"{ATOM}entry")
    mine = [
        e
        for e in entries
        if e.find(f"{ATOM}link").get("href", "").endswith(service.public_id(incident.id))  # type: ignore[union-attr]
    ]
    assert [e.findtext(f"{ATOM}content") for e in mine] == [
        "We found the cause and are deploying a fix.",
        "We are investigating failed uploads.",
    ]
    for entry in entries:
        assert (entry.findtext(f"{ATOM}id") or "").startswith("urn:uuid:")
        datetime.fromisoformat(entry.findtext(f"{ATOM}updated") or "")
        assert entry.findtext(f"{ATOM}title")
    stamps = [entry.findtext(f"{ATOM}updated") or "" for entry in entries]
    assert stamps == sorted(stamps, reverse=True)
    assert mine[0].findtext(f"{ATOM}title") == "Transcripts shown to the wrong seat: Identified"


@pytest.mark.parametrize("path", ["/status", "/status.json", "/status.atom"])
async def test_r5_no_sign_in_is_needed_and_nothing_is_cached_stale(
    api: httpx.AsyncClient, path: str
) -> None:
    response = await api.get(path, headers={"authorization": ""})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-frame-options"] == "DENY"

"""The console's Incidents section over HTTP (R1, R3, R5): only a signed-in staff
member with a security key sees it or acts; actions are JSON POSTs from the console's
origin; each lands in the incident's timeline and the staff audit log under that staff
member; the pages allow this origin's script only."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from soft_authenticator import SoftAuthenticator
from sqlalchemy import Engine, text

from audora.admin.http import COOKIE
from audora.platform.config import Settings
from audora.platform.incidents import notify, service
from audora.platform.runtime import Runtime
from audora.platform.stack.embedded import EmbeddedStack
from audora.platform.staff.accounts import create_staff

from audora_testing import GraphQL, mail_text, mail_to, raw_id, read_mail, sign_up

STAFF_PASSWORD = "incident commander 7 audora"  # pragma: allowlist secret


class Console:
    def __init__(self, api: httpx.AsyncClient, origin: str) -> None:
        self.api, self.origin = api, origin
        self.key = SoftAuthenticator()
        self.cookie = ""

    async def post(
        self, path: str, body: dict[str, Any] | None = None, *, origin: str | None = None
    ) -> httpx.Response:
        return await self.api.post(
            f"/admin/api/{path}",
            json=body or {},
            headers={"origin": origin or self.origin, "cookie": f"{COOKIE}={self.cookie}"},
        )

    async def get(self, path: str) -> httpx.Response:
        return await self.api.get(path, headers={"cookie": f"{COOKIE}={self.cookie}"})


@pytest.fixture
async def staff(runtime: Runtime, api: httpx.AsyncClient, settings: Settings) -> Console:
    email = f"ic-{uuid.uuid4().hex[:8]}@audora.example"
    _, link = await create_staff(runtime, email, "Ines Commander")
    made = Console(api, settings.webauthn_expected_origins[0])
    token = link.rsplit("/", 1)[1]
    options = (await made.post(f"enroll/{token}/options")).json()
    credential = made.key.create(options, made.origin)
    done = await made.post(
        f"enroll/{token}/finish", {"password": STAFF_PASSWORD, "credential": credential}
    )
    assert done.status_code == 200, done.text
    started = (
        await made.post("sign-in/start", {"email": email, "password": STAFF_PASSWORD})
    ).json()
    assertion = made.key.get(started["options"], made.origin)
    signed = await made.post(
        "sign-in/finish", {"pending": started["pending"], "assertion": assertion}
    )
    assert signed.status_code == 200, signed.text
    made.cookie = signed.cookies[COOKIE]
    return made


async def test_only_signed_in_staff_reach_the_incidents_section(
    api: httpx.AsyncClient, staff: Console
) -> None:
    page = await api.get("/admin/incidents", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/admin/login"
    anonymous = await api.post(
        "/admin/api/incidents",
        json={"title": "x", "severity": "SEV3", "components": ["api"]},
        headers={"origin": staff.origin},
    )
    assert anonymous.status_code == 401
    elsewhere = await staff.post(
        "incidents",
        {"title": "x", "severity": "SEV3", "components": ["api"]},
        origin="https://evil.example",
    )
    assert elsewhere.status_code == 403
    form = await api.post(
        "/admin/api/incidents",
        content=b"title=x",
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "cookie": f"{COOKIE}={staff.cookie}",
        },
    )
    assert form.status_code == 400

    listing = await staff.get("/admin/incidents")
    assert listing.status_code == 200
    csp = listing.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert listing.headers["cache-control"] == "no-store"
    assert '<script src="/admin/static/admin.js" defer></script>' in listing.text
    assert listing.text.count("<script") == 1
    assert "data-post='/admin/api/incidents'" in listing.text
    home = await staff.get("/admin/")
    assert "href='/admin/incidents'" in home.text


async def test_r1_r3_staff_run_an_incident_from_the_console(
    staff: Console, gql: GraphQL, runtime: Runtime, superuser: Engine, stack: EmbeddedStack
) -> None:
    owner = await sign_up(gql, "Console Incident Studio")
    opened = await staff.post(
        "incidents",
        {
            "title": "Uploads rejected",
            "severity": "SEV2",
            "components": ["uploads"],
            "message": "Some uploads fail with 500.",
        },
    )
    assert opened.status_code == 200, opened.text
    incident_id = opened.json()["id"]
    base = f"incidents/{incident_id}"

    skipped = await staff.post(f"{base}/phase", {"phase": "recovery"})
    assert skipped.status_code == 400
    assert skipped.json()["code"] == "BAD_USER_INPUT"
    assert (await staff.post(f"{base}/phase", {"phase": "containment"})).status_code == 200
    assert (await staff.post(f"{base}/note", {"note": "bad deploy 4411"})).status_code == 200
    updated = await staff.post(
        f"{base}/update", {"status": "identified", "message": "A bad deploy; rolling back."}
    )
    assert updated.json()["status"] == "identified"
    bad_tenant = await staff.post(
        f"{base}/confirm",
        {"tenants": ["not-an-id"], "dataAffected": "x", "actionsTaken": "y"},
    )
    assert bad_tenant.status_code == 400
    confirmed = await staff.post(
        f"{base}/confirm",
        {
            "tenants": [owner["account"]["id"]],
            "dataAffected": "Upload file names were written to a shared log.",
            "actionsTaken": "The log was destroyed and the deploy rolled back.",
        },
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["untold"] == 0
    (message,) = await read_mail(stack.data_dir / "mail", owner["email"], notify.SUBJECT)
    assert "Upload file names were written to a shared log." in mail_text(message)
    assert "The log was destroyed" in mail_text(message)
    assert (await staff.post(f"{base}/notify")).json() == {"told": 0}

    resolved = await staff.post(f"{base}/update", {"status": "resolved", "message": "Fixed."})
    assert resolved.json()["status"] == "resolved"
    saved = await staff.post(f"{base}/report", {"markdown": "# Uploads rejected\n\nWhy."})
    assert saved.status_code == 200
    assert (await staff.post(f"{base}/publish")).status_code == 200
    again = await staff.post(f"{base}/publish")
    assert again.status_code == 409

    page = await staff.get(f"/admin/incidents/{incident_id}")
    assert page.status_code == 200
    assert "Upload file names were written to a shared log." in page.text
    assert "bad deploy 4411" in page.text
    assert owner["account"]["id"] in page.text

    with superuser.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT action, staff_id, account_id FROM platform.staff_audit_events "
                "WHERE target = :t ORDER BY seq"
            ),
            {"t": incident_id},
        ).all()
    assert [r.action for r in rows] == [
        "incident.opened",
        "incident.phase_changed",
        "incident.noted",
        "incident.updated",
        "incident.confirmed",
        "incident.notified",
        "incident.updated",
        "incident.report_saved",
        "incident.report_published",
    ]
    assert len({r.staff_id for r in rows}) == 1
    assert None not in {r.staff_id for r in rows}
    notified = [r.account_id for r in rows if r.action == "incident.notified"]
    assert notified == [raw_id(owner["account"]["id"])]
    incident = await service.get_incident(runtime, service.parse_id(incident_id))
    (actor,) = {e.actor for e in incident.timeline}
    assert actor.startswith("staff:ic-")


async def test_r3_staff_add_accounts_found_later_and_only_their_owners_are_emailed(
    staff: Console, gql: GraphQL, stack: EmbeddedStack
) -> None:
    first = await sign_up(gql, "Console First Studio")
    later = await sign_up(gql, "Console Later Studio")
    opened = await staff.post(
        "incidents",
        {"title": "Shared links reachable", "severity": "SEV2", "components": ["api"]},
    )
    assert opened.status_code == 200, opened.text
    base = f"incidents/{opened.json()['id']}"
    what = {"dataAffected": "Call titles of shared links.", "actionsTaken": "Links revoked."}
    confirmed = await staff.post(f"{base}/confirm", {"tenants": [first["account"]["id"]], **what})
    assert confirmed.status_code == 200, confirmed.text
    mail = stack.data_dir / "mail"
    await read_mail(mail, first["email"], notify.SUBJECT)

    page = await staff.get(f"/admin/incidents/{opened.json()['id']}")
    assert "<h2>Add affected accounts</h2><form id=confirm" in page.text
    added = await staff.post(
        f"{base}/confirm",
        {"tenants": [first["account"]["id"], later["account"]["id"]], **what},
    )
    assert added.status_code == 200, added.text
    assert added.json()["untold"] == 0
    await read_mail(mail, later["email"], notify.SUBJECT)
    assert len(mail_to(mail, first["email"], notify.SUBJECT)) == 1

    nothing_new = await staff.post(f"{base}/confirm", {"tenants": [later["account"]["id"]], **what})
    assert nothing_new.status_code == 409

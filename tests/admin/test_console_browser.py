"""The staff console end to end, in a real headless Chromium with a DevTools virtual
authenticator (CTAP2, user verification on): A3, A4 and A13 as staff and customer live
them.

The API runs in this process (its clock is the test's) and is served over TLS by
uvicorn on a free port of localhost; the browser loads the console's own pages and
script from it. One browser launch, one flow: `audora staff create`, enrollment through
the one-time link, sign-in with password and key, a request, the customer's approval
over GraphQL, activation with a fresh assertion, a read in scope, NOT_FOUND outside
it, the grant's end at its expiry (the clock moved), and the audit on both sides.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from playwright.async_api import Page, expect
from sqlalchemy import Engine, text

from audora.platform.clock import FrozenClock
from audora.platform.stack.embedded import EmbeddedStack

from audora_testing import (
    GraphQL,
    create_call,
    create_profile,
    error_codes,
    read_mail,
    run_audora,
    schema_of,
    sign_up,
)
from browser_authenticator import browser_authenticator

STAFF_PASSWORD = "glass breaks only with a key 7"
APPROVE = 'mutation($id: ID!) { approveAccessRequest(id: $id, note: "go ahead") { status } }'
PENDING = "query { accessRequests(status: PENDING) { id staffName ticket scope status } }"


async def run_in_grant(page: Page, query: str) -> dict[str, Any]:
    await page.fill("#query", query)
    await page.evaluate("document.getElementById('result').textContent = ''")
    await page.click("#run-query")
    await expect(page.locator("#result")).not_to_have_text("")
    answer: dict[str, Any] = json.loads(await page.locator("#result").text_content() or "")
    return answer


async def test_a3_a4_a13_break_glass_end_to_end_in_a_real_browser(
    console: str,
    stack: EmbeddedStack,
    stack_env: dict[str, str],
    gql: GraphQL,
    clock: FrozenClock,
    superuser: Engine,
) -> None:
    owner = await sign_up(gql, "Glasshouse Studio")
    profile = await create_profile(gql, owner["token"], "Client Under Glass")
    call_id = await create_call(gql, owner["token"], profile["id"])
    account_id = owner["account"]["id"]

    created = run_audora(
        stack_env, "staff", "create", "--email", "ruth@audora.example", "--name", "Ruth Support"
    )
    token = re.search(r"/admin/enroll/(\S+)", created)
    assert token is not None, created

    async with browser_authenticator(pages_from=console) as browser:
        page = browser.page
        # Enrollment: a password and the security key, together, through the link.
        await page.goto(f"{console}/admin/enroll/{token.group(1)}")
        csp = await page.evaluate("document.contentType")  # the page loaded as HTML
        assert csp == "text/html"
        await page.fill("#password", STAFF_PASSWORD)
        await page.click("#enroll-button")
        await page.wait_for_url(f"{console}/admin/login")

        # Sign-in: password, then the key answers a fresh challenge.
        await page.fill("#email", "ruth@audora.example")
        await page.fill("#password", STAFF_PASSWORD)
        await page.click("#sign-in-button")
        await page.wait_for_url(f"{console}/admin/")
        # Metadata to file a request, nothing of the customer's content.
        await expect(page.locator("#tenants")).to_contain_text(account_id)
        assert "Client Under Glass" not in await page.content()

        # The request, for calls only, for 30 minutes.
        await page.fill("#account-id", account_id)
        await page.fill("#reason", "Call stuck in TRANSCRIBING, customer asked us to look")
        await page.fill("#ticket", "SUP-4242")
        await page.check("input[name=scope][value=CALLS]")
        await page.fill("#minutes", "30")
        await page.click("#request-access button[type=submit]")
        await expect(page.locator(".request-status")).to_have_text("PENDING")

        # The customer's owner is emailed and approves over GraphQL.
        mail_dir = Path(stack.data_dir) / "mail"
        (message,) = await read_mail(mail_dir, owner["email"], "Audora support asks for access")
        assert "SUP-4242" in message.get_content()
        (pending,) = (await gql(PENDING, token=owner["token"]))["data"]["accessRequests"]
        assert pending["staffName"] == "Ruth Support"
        assert pending["scope"] == ["CALLS"]
        approved = await gql(APPROVE, {"id": pending["id"]}, token=owner["token"])
        assert approved["data"]["approveAccessRequest"]["status"] == "APPROVED"

        # Activation with a fresh assertion, then reads under the grant.
        await page.reload()
        await page.click("button[data-action=activate]")
        await expect(page.locator("#grant")).to_be_visible()
        in_scope = await run_in_grant(
            page, f'query ReadCall {{ call(id: "{call_id}") {{ id title status }} }}'
        )
        assert in_scope == {
            "data": {"call": {"id": call_id, "title": "Kickoff", "status": "AWAITING_RECORDING"}}
        }
        outside = await run_in_grant(
            page, f'query ReadTranscript {{ call(id: "{call_id}") {{ transcript {{ text }} }} }}'
        )
        assert error_codes(outside) == ["NOT_FOUND"]
        profiles = await run_in_grant(page, "query Profiles { clientProfiles { name } }")
        assert error_codes(profiles) == ["NOT_FOUND"]

        # At its expiry the grant ends: the same read is refused.
        clock.advance(timedelta(minutes=31))
        try:
            ended = await run_in_grant(page, f'query ReadCall {{ call(id: "{call_id}") {{ id }} }}')
            assert error_codes(ended) == ["UNAUTHENTICATED"]
        finally:
            clock.advance(-timedelta(minutes=31))

    # The key's attestation was recorded at enrollment.
    with superuser.connect() as conn:
        key = conn.execute(
            text(
                "SELECT c.attestation_format, c.aaguid, c.sign_count FROM "
                "platform.staff_credentials c JOIN platform.staff_users u ON u.id = c.staff_id "
                "WHERE u.email = 'ruth@audora.example'"
            )
        ).one()
        assert key.attestation_format in {"packed", "none", "fido-u2f"}
        assert key.sign_count >= 2  # sign-in and activation each moved it
        customer_side = conn.execute(
            text(
                f"SELECT action, actor, target, details FROM {schema_of(account_id)}"
                ".audit_events WHERE action LIKE 'staff_access.%' ORDER BY seq"
            )
        ).all()
        staff_side = (
            conn.execute(
                text(
                    "SELECT action FROM platform.staff_audit_events WHERE account_id = "
                    f"'{account_id.split('_', 1)[1]}'::uuid ORDER BY seq"
                )
            )
            .scalars()
            .all()
        )
    actions = [row.action for row in customer_side]
    assert actions == [
        "staff_access.requested",
        "staff_access.approved",
        "staff_access.activated",
        "staff_access.operation",
        "staff_access.operation",
        "staff_access.operation",
        "staff_access.grant_expired",
    ]
    assert list(staff_side) == actions
    assert [row.target for row in customer_side if row.action == "staff_access.operation"] == [
        "ReadCall",
        "ReadTranscript",
        "Profiles",
    ]
    assert customer_side[0].details["ticket"] == "SUP-4242"

    listed = [json.loads(line) for line in run_audora(stack_env, "staff", "list").splitlines()]
    (ruth,) = [s for s in listed if s["email"] == "ruth@audora.example"]
    assert ruth["enrolled"] is True
    assert ruth["keys"] == [key.attestation_format]

    # The customer sees it all in auditLog.
    seen = await gql(
        'query { auditLog(action: "staff_access.") { edges { node { action actor } } } }',
        token=owner["token"],
    )
    shown = [e["node"]["action"] for e in seen["data"]["auditLog"]["edges"]]
    assert sorted(shown) == sorted(actions)

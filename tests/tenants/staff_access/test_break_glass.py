"""Staff break-glass access (A3, A4, A13), in-process with a software security key: the
clock moves, and database rows can be tampered with.

The end-to-end flow in a real browser is tests/admin/test_console_browser.py.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from soft_authenticator import SoftAuthenticator
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette

from audora.admin.http import COOKIE
from audora.platform.clock import FrozenClock
from audora.platform.config import Settings
from audora.platform.metrics import activity
from audora.platform.runtime import Runtime
from audora.platform.staff.accounts import create_staff

from audora_testing import (
    CONSENT,
    PASSWORD,
    GraphQL,
    client_from,
    create_call,
    create_profile,
    error_codes,
    schema_of,
    seat,
    sign_up,
)

STAFF_PASSWORD = "staff break glass 4 audora"
REQUESTS = """query($s: AccessRequestStatus) { accessRequests(status: $s) {
  id staffName reason ticket scope requestedMinutes status expiresAt note
  grant { id expiresAt endedAt endReason } } }"""
APPROVE = "mutation($id: ID!, $n: String) { approveAccessRequest(id: $id, note: $n) { id status } }"
DENY = "mutation($id: ID!, $n: String) { denyAccessRequest(id: $id, note: $n) { id status } }"
REVOKE = "mutation($id: ID!) { revokeAccessGrant(id: $id) { id grant { endReason } } }"
READ_CALL = "query Inspect($id: ID!) { call(id: $id) { id title status } }"
READ_TRANSCRIPT = "query($id: ID!) { call(id: $id) { id transcript { text } } }"


class Console:
    """The staff console's JSON actions, as its script sends them, with one key."""

    def __init__(self, api: httpx.AsyncClient, origin: str) -> None:
        self.api = api
        self.origin = origin
        self.key = SoftAuthenticator()
        self.cookie: str | None = None

    async def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        headers = {"origin": self.origin}
        if self.cookie:
            headers["cookie"] = f"{COOKIE}={self.cookie}"
        return await self.api.post(f"/admin/api/{path}", json=body or {}, headers=headers)

    async def enroll(self, link: str) -> None:
        token = link.rsplit("/", 1)[1]
        options = await self.post(f"enroll/{token}/options")
        assert options.status_code == 200, options.text
        made = self.key.create(options.json(), self.origin)
        done = await self.post(
            f"enroll/{token}/finish", {"password": STAFF_PASSWORD, "credential": made}
        )
        assert done.status_code == 200, done.text

    async def start(self, email: str, expect: int | None = 200) -> dict[str, Any]:
        started = await self.post("sign-in/start", {"email": email, "password": STAFF_PASSWORD})
        if expect is not None:
            assert started.status_code == expect, started.text
        body: dict[str, Any] = {**started.json(), "status": started.status_code}
        return body

    async def sign_in(self, email: str) -> str:
        started = await self.start(email)
        assertion = self.key.get(started["options"], self.origin)
        done = await self.post(
            "sign-in/finish", {"pending": started["pending"], "assertion": assertion}
        )
        assert done.status_code == 200, done.text
        self.cookie = done.cookies[COOKIE]
        return assertion

    async def request(self, account_id: str, scope: list[str], minutes: int = 60) -> str:
        made = await self.post(
            "requests",
            {
                "accountId": account_id,
                "reason": "Customer reports a stuck transcript",
                "ticket": "SUP-1234",
                "scope": scope,
                "minutes": minutes,
            },
        )
        assert made.status_code == 200, made.text
        request_id: str = made.json()["id"]
        return request_id

    async def activate(self, request_id: str) -> tuple[httpx.Response, str | None]:
        options = await self.post(f"requests/{request_id}/activate/options")
        if options.status_code != 200:
            return options, None
        assertion = self.key.get(options.json(), self.origin)
        return await self.post(f"requests/{request_id}/activate", {"assertion": assertion}), (
            assertion
        )


@pytest.fixture
def origin(settings: Settings) -> str:
    return settings.webauthn_expected_origins[0]


async def enrolled(runtime: Runtime, api: httpx.AsyncClient, origin: str) -> tuple[Console, str]:
    email = f"staff-{uuid.uuid4().hex[:10]}@audora.example"
    _, link = await create_staff(runtime, email, "Sam Support")
    console = Console(api, origin)
    await console.enroll(link)
    return console, email


async def customer_with_call(gql: GraphQL) -> tuple[dict[str, Any], str]:
    owner = await sign_up(gql, "Break Glass Studio")
    profile = await create_profile(gql, owner["token"], "Client Co")
    return owner, await create_call(gql, owner["token"], profile["id"])


async def approved_grant(
    runtime: Runtime, api: httpx.AsyncClient, gql: GraphQL, origin: str, scope: list[str]
) -> dict[str, Any]:
    console, _email = await enrolled(runtime, api, origin)
    await console.sign_in(_email)
    owner, call_id = await customer_with_call(gql)
    request_id = await console.request(owner["account"]["id"], scope)
    approved = await gql(APPROVE, {"id": request_id, "n": "ok for SUP-1234"}, token=owner["token"])
    assert approved["data"]["approveAccessRequest"]["status"] == "APPROVED", approved
    activated, _ = await console.activate(request_id)
    assert activated.status_code == 200, activated.text
    return {
        "console": console,
        "owner": owner,
        "call": call_id,
        "request": request_id,
        "token": activated.json()["token"],
        "grant": activated.json()["grantId"],
    }


def tenant_audit(superuser: Engine, account_id: str, prefix: str) -> list[dict[str, Any]]:
    with superuser.connect() as conn:
        rows = conn.execute(
            text(
                f"SELECT actor, action, target, details FROM {schema_of(account_id)}"
                ".audit_events WHERE action LIKE :p ORDER BY seq"
            ),
            {"p": prefix + "%"},
        ).mappings()
        return [dict(r) for r in rows]


def staff_audit(superuser: Engine, account_id: str) -> list[str]:
    with superuser.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT action FROM platform.staff_audit_events "
                    "WHERE account_id = :a ORDER BY seq"
                ),
                {"a": uuid.UUID(hex=account_id.split("_", 1)[1])},
            ).scalars()
        )


async def test_a3_a13_no_staff_session_without_a_security_key(
    runtime: Runtime,
    api: httpx.AsyncClient,
    origin: str,
    superuser: Engine,
    clock: FrozenClock,
) -> None:
    # Not yet enrolled: there is no password, so no sign-in at all.
    email = f"staff-{uuid.uuid4().hex[:10]}@audora.example"
    _, link = await create_staff(runtime, email, "Nora Newhire")
    console = Console(api, origin)
    refused = await console.post("sign-in/start", {"email": email, "password": STAFF_PASSWORD})
    assert refused.status_code == 401

    # Enrolled, but the key's answer is missing or forged: no session.
    await console.enroll(link)
    started = await console.start(email)
    forged = SoftAuthenticator().create(
        {"rp": {"id": "localhost"}, "user": {"id": "AA"}, "challenge": "AA"}, origin
    )
    for assertion in ("", forged):
        done = await console.post(
            "sign-in/finish", {"pending": started["pending"], "assertion": assertion}
        )
        assert done.status_code == 401
        started = await console.start(email, expect=None)

    # Failures are throttled as customers' logins are; past the wait, a key the user
    # did not verify (no PIN or biometric) is refused too.
    assert started["status"] == 429
    clock.advance(timedelta(seconds=61))
    try:
        started = await console.start(email)
        unverified = console.key.get(started["options"], origin, user_verified=False)
        done = await console.post(
            "sign-in/finish", {"pending": started["pending"], "assertion": unverified}
        )
        assert done.status_code == 401
    finally:
        clock.advance(-timedelta(seconds=61))

    # Without a session cookie the console shows nothing and does nothing.
    page = await api.get("/admin/", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/admin/login"
    assert (await console.post("requests", {"accountId": "acc_" + "0" * 32})).status_code == 401

    # A key removed from the account: the password alone opens nothing.
    with superuser.begin() as conn:
        conn.execute(
            text(
                "DELETE FROM platform.staff_credentials WHERE staff_id = "
                "(SELECT id FROM platform.staff_users WHERE email = :e)"
            ),
            {"e": email},
        )
    clock.advance(timedelta(seconds=122))  # past the throttle's wait again
    try:
        refused = await console.post("sign-in/start", {"email": email, "password": STAFF_PASSWORD})
        assert refused.status_code == 401
        assert refused.json()["error"].startswith("no security key")
    finally:
        clock.advance(-timedelta(seconds=122))


async def test_a13_a_replayed_assertion_is_refused(
    runtime: Runtime, api: httpx.AsyncClient, gql: GraphQL, origin: str
) -> None:
    console, email = await enrolled(runtime, api, origin)
    first = await console.sign_in(email)
    started = await console.start(email)
    replayed = await console.post(
        "sign-in/finish", {"pending": started["pending"], "assertion": first}
    )
    assert replayed.status_code == 401

    owner, _ = await customer_with_call(gql)
    request_id = await console.request(owner["account"]["id"], ["CALLS"])
    await gql(APPROVE, {"id": request_id}, token=owner["token"])
    # The sign-in's assertion cannot activate a grant either.
    await console.post(f"requests/{request_id}/activate/options")
    again = await console.post(f"requests/{request_id}/activate", {"assertion": first})
    assert again.status_code == 401
    activated, assertion = await console.activate(request_id)
    assert activated.status_code == 200
    # Nor can the activation's own, once spent.
    await console.post(f"requests/{request_id}/activate/options")
    assert (
        await console.post(f"requests/{request_id}/activate", {"assertion": assertion})
    ).status_code in (401, 409)


async def test_a4_a_denied_request_opens_nothing_and_is_audited(
    runtime: Runtime, api: httpx.AsyncClient, gql: GraphQL, origin: str, superuser: Engine
) -> None:
    console, email = await enrolled(runtime, api, origin)
    await console.sign_in(email)
    owner, _ = await customer_with_call(gql)
    request_id = await console.request(owner["account"]["id"], ["CALLS", "TRANSCRIPTS"], 90)

    listed = await gql(REQUESTS, {"s": "PENDING"}, token=owner["token"])
    (shown,) = listed["data"]["accessRequests"]
    assert shown["staffName"] == "Sam Support"
    assert shown["ticket"] == "SUP-1234"
    assert shown["scope"] == ["CALLS", "TRANSCRIPTS"]
    assert shown["requestedMinutes"] == 90

    denied = await gql(DENY, {"id": request_id, "n": "not today"}, token=owner["token"])
    assert denied["data"]["denyAccessRequest"]["status"] == "DENIED"
    again = await gql(APPROVE, {"id": request_id}, token=owner["token"])
    assert error_codes(again) == ["CONFLICT"]
    activated, _ = await console.activate(request_id)
    assert activated.status_code == 409

    # Another account's owner does not even see it.
    other = await sign_up(gql, "Other Studio")
    assert error_codes(await gql(APPROVE, {"id": request_id}, token=other["token"])) == [
        "NOT_FOUND"
    ]
    actions = [e["action"] for e in tenant_audit(superuser, owner["account"]["id"], "staff_")]
    assert actions == ["staff_access.requested", "staff_access.denied"]
    assert staff_audit(superuser, owner["account"]["id"]) == actions


async def test_a4_a_request_unanswered_for_12_hours_expires(
    runtime: Runtime,
    api: httpx.AsyncClient,
    gql: GraphQL,
    origin: str,
    clock: FrozenClock,
    superuser: Engine,
) -> None:
    console, email = await enrolled(runtime, api, origin)
    await console.sign_in(email)
    owner, _ = await customer_with_call(gql)
    request_id = await console.request(owner["account"]["id"], ["CALLS"])
    clock.advance(timedelta(hours=12, minutes=1))
    try:
        listed = await gql(REQUESTS, {}, token=owner["token"])
        assert listed["data"]["accessRequests"][0]["status"] == "EXPIRED"
        late = await gql(APPROVE, {"id": request_id}, token=owner["token"])
        assert error_codes(late) == ["CONFLICT"]
    finally:
        clock.advance(-timedelta(hours=12, minutes=1))
    actions = [e["action"] for e in tenant_audit(superuser, owner["account"]["id"], "staff_")]
    assert actions == ["staff_access.requested", "staff_access.request_expired"]


async def test_a4_staff_read_in_scope_only_and_every_operation_is_audited(
    runtime: Runtime, api: httpx.AsyncClient, gql: GraphQL, origin: str, superuser: Engine
) -> None:
    made = await approved_grant(runtime, api, gql, origin, ["CALLS"])
    token, call_id, owner = made["token"], made["call"], made["owner"]

    read = await gql(READ_CALL, {"id": call_id}, token=token)
    assert read["data"]["call"]["title"] == "Kickoff", read
    outside = await gql(READ_TRANSCRIPT, {"id": call_id}, token=token)
    assert error_codes(outside) == ["NOT_FOUND"]
    assert outside["errors"][0]["path"] == ["call", "transcript"]
    profiles = await gql("query { clientProfiles { id name } }", token=token)
    assert error_codes(profiles) == ["NOT_FOUND"]

    # Another tenant's call is as absent as one that does not exist.
    other = await sign_up(gql, "Elsewhere Studio")
    other_profile = await create_profile(gql, other["token"], "Elsewhere Client")
    elsewhere = await create_call(gql, other["token"], other_profile["id"])
    assert error_codes(await gql(READ_CALL, {"id": elsewhere}, token=token)) == ["NOT_FOUND"]

    # Read-only, and only client profiles and calls: nothing else runs at all.
    write = await gql(
        "mutation($i: CreateCallInput!) { createCall(input: $i) { id } }",
        {"i": {"clientProfileId": "cli_" + "0" * 32, "title": "x", "consent": CONSENT}},
        token=token,
    )
    assert error_codes(write) == ["FORBIDDEN"]
    for query in ("query { me { user { id } } }", "query { auditLog { edges { node { id } } } }"):
        assert error_codes(await gql(query, token=token)) == ["FORBIDDEN"]

    events = tenant_audit(superuser, owner["account"]["id"], "staff_access.operation%")
    events = [e for e in events if e["action"] == "staff_access.operation"]
    assert events[0]["actor"].startswith("staff:")
    assert events[0]["target"] == "Inspect"
    assert events[0]["details"]["variables"] == {"id": call_id}
    assert len(events) == 4
    refused = tenant_audit(superuser, owner["account"]["id"], "staff_access.operation_refused")
    assert [e["details"]["refused"] for e in refused] == [
        "staff access is read-only",
        "staff access reads client profiles and calls only",
        "staff access reads client profiles and calls only",
    ]
    seen = await gql(
        'query { auditLog(action: "staff_access.") { edges { node { action actor } } } }',
        token=owner["token"],
    )
    shown = [e["node"]["action"] for e in seen["data"]["auditLog"]["edges"]]
    assert "staff_access.operation" in shown
    assert "staff_access.approved" in shown
    assert "staff_access.activated" in shown


async def test_a4_the_customer_revokes_a_grant_mid_session(
    runtime: Runtime,
    api: httpx.AsyncClient,
    app: Starlette,
    gql: GraphQL,
    origin: str,
    superuser: Engine,
) -> None:
    made = await approved_grant(runtime, api, gql, origin, ["CALLS"])
    assert "errors" not in await gql(READ_CALL, {"id": made["call"]}, token=made["token"])
    # Only owners and admins see and answer requests.
    viewer = await seat(gql, runtime, superuser, made["owner"], "MEMBER")
    assert error_codes(await gql(REQUESTS, {}, token=viewer.token)) == ["FORBIDDEN"]
    assert error_codes(await gql(REVOKE, {"id": made["grant"]}, token=viewer.token)) == [
        "FORBIDDEN"
    ]
    # The grant's token works only where the staff member signed in.
    async with client_from(app, "198.51.100.23", "elsewhere/1.0") as stolen:
        taken = await GraphQL(stolen)(READ_CALL, {"id": made["call"]}, token=made["token"])
    assert error_codes(taken) == ["UNAUTHENTICATED"]
    revoked = await gql(REVOKE, {"id": made["grant"]}, token=made["owner"]["token"])
    assert revoked["data"]["revokeAccessGrant"]["grant"]["endReason"] == "REVOKED"
    after = await gql(READ_CALL, {"id": made["call"]}, token=made["token"])
    assert error_codes(after) == ["UNAUTHENTICATED"]
    assert (
        tenant_audit(superuser, made["owner"]["account"]["id"], "staff_access.grant_")[0]["action"]
        == "staff_access.grant_revoked"
    )


async def test_a13_a_grant_ends_at_its_expiry(
    runtime: Runtime,
    api: httpx.AsyncClient,
    gql: GraphQL,
    origin: str,
    clock: FrozenClock,
    superuser: Engine,
) -> None:
    made = await approved_grant(runtime, api, gql, origin, ["CALLS"])
    clock.advance(timedelta(minutes=61))
    try:
        after = await gql(READ_CALL, {"id": made["call"]}, token=made["token"])
        assert error_codes(after) == ["UNAUTHENTICATED"]
    finally:
        clock.advance(-timedelta(minutes=61))
    # Ended for good, even with the clock back.
    assert error_codes(await gql(READ_CALL, {"id": made["call"]}, token=made["token"])) == [
        "UNAUTHENTICATED"
    ]
    ended = tenant_audit(superuser, made["owner"]["account"]["id"], "staff_access.grant_")
    assert [e["action"] for e in ended] == ["staff_access.grant_expired"]


async def test_a4_a_tampered_approval_row_is_refused(
    runtime: Runtime, api: httpx.AsyncClient, gql: GraphQL, origin: str, superuser: Engine
) -> None:
    made = await approved_grant(runtime, api, gql, origin, ["CALLS"])
    request_uuid = uuid.UUID(hex=made["request"].split("_", 1)[1])
    # Someone with the database widens the scope: the signature no longer verifies.
    with superuser.begin() as conn:
        conn.execute(
            text("UPDATE platform.access_requests SET scope = '{CALLS,TRANSCRIPTS}' WHERE id = :i"),
            {"i": request_uuid},
        )
    refused = await gql(READ_TRANSCRIPT, {"id": made["call"]}, token=made["token"])
    assert error_codes(refused) == ["FORBIDDEN"]
    assert "data" not in refused or refused["data"] is None

    # Or flips a denial into an approval: activation refuses it.
    console = made["console"]
    owner = made["owner"]
    second = await console.request(owner["account"]["id"], ["CALLS"])
    await gql(DENY, {"id": second}, token=owner["token"])
    with superuser.begin() as conn:
        conn.execute(
            text("UPDATE platform.access_requests SET status = 'APPROVED' WHERE id = :i"),
            {"i": uuid.UUID(hex=second.split("_", 1)[1])},
        )
    activated, _ = await console.activate(second)
    assert activated.status_code == 403
    invalid = tenant_audit(superuser, owner["account"]["id"], "security.staff_approval_invalid")
    assert len(invalid) == 2


async def test_a13_staff_end_their_grant_and_signing_out_ends_the_rest(
    runtime: Runtime, api: httpx.AsyncClient, gql: GraphQL, origin: str, superuser: Engine
) -> None:
    made = await approved_grant(runtime, api, gql, origin, ["CALLS"])
    console, owner = made["console"], made["owner"]
    ended = await console.post(f"grants/{made['grant']}/end")
    assert ended.status_code == 200, ended.text
    after = await gql(READ_CALL, {"id": made["call"]}, token=made["token"])
    assert error_codes(after) == ["UNAUTHENTICATED"]
    # An approval opens one grant, once.
    again, _ = await console.activate(made["request"])
    assert again.status_code == 409

    second = await console.request(owner["account"]["id"], ["CALLS"])
    await gql(APPROVE, {"id": second}, token=owner["token"])
    activated, _ = await console.activate(second)
    token = activated.json()["token"]
    assert "errors" not in await gql(READ_CALL, {"id": made["call"]}, token=token)
    assert (await console.post("sign-out")).status_code == 200
    assert error_codes(await gql(READ_CALL, {"id": made["call"]}, token=token)) == [
        "UNAUTHENTICATED"
    ]
    # Signed out, the console does nothing more.
    assert (
        await console.post("requests", {"accountId": owner["account"]["id"]})
    ).status_code == 401
    endings = tenant_audit(superuser, owner["account"]["id"], "staff_access.grant_")
    assert [e["action"] for e in endings] == ["staff_access.grant_ended"] * 2


async def test_a4_the_staff_audit_log_is_append_only(
    runtime: Runtime, api: httpx.AsyncClient, origin: str, superuser: Engine
) -> None:
    await enrolled(runtime, api, origin)
    for statement in (
        "UPDATE platform.staff_audit_events SET action = 'x'",
        "DELETE FROM platform.staff_audit_events",
        "TRUNCATE platform.staff_audit_events",
    ):
        with superuser.begin() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(statement))


async def test_a3_the_console_shows_metadata_only_and_forbids_framing(
    runtime: Runtime, api: httpx.AsyncClient, gql: GraphQL, origin: str
) -> None:
    console, email = await enrolled(runtime, api, origin)
    await console.sign_in(email)
    owner, _ = await customer_with_call(gql)
    page = await api.get("/admin/", headers={"cookie": f"{COOKIE}={console.cookie}"})
    assert page.status_code == 200
    assert owner["account"]["id"] in page.text
    assert "Client Co" not in page.text  # a client profile's name is customer content
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "<script>" not in page.text
    assert PASSWORD not in page.text


async def test_r2_staff_reads_count_towards_the_tenants_access_volume(
    runtime: Runtime, api: httpx.AsyncClient, gql: GraphQL, origin: str
) -> None:
    made = await approved_grant(runtime, api, gql, origin, ["CALLS"])
    tenant = str(uuid.UUID(hex=made["owner"]["account"]["id"].removeprefix("acc_")))

    async def last_hour() -> int:
        window = await activity.read_window(runtime.redis, activity.REQUESTS, runtime.clock.now())
        return window.last_hour.get(tenant, 0)

    before = await last_hour()
    for _ in range(3):
        read = await gql(READ_CALL, {"id": made["call"]}, token=made["token"])
        assert read["data"]["call"]["title"] == "Kickoff", read
    assert await last_hour() - before == 3

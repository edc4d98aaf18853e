"""Passkeys and security keys as a second factor, with a real browser's authenticator.

Most tests run against the API served over TLS in its own process, with the browser's
page on that API's origin (https://localhost:PORT, the relying party's default origin);
the expiry test runs in-process, where the application clock can be moved.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pyotp
import pytest
from sqlalchemy import Engine, text

from audora.platform.clock import FrozenClock
from audora.platform.config import Settings

from audora_testing import PASSWORD, GraphQL, Served, error_codes, schema_of, sign_up
from browser_authenticator import BrowserAuthenticator, browser_authenticator

BEGIN = "mutation { beginWebAuthnRegistration }"
FINISH = """
mutation($credential: String!, $name: String!) {
  finishWebAuthnRegistration(credential: $credential, name: $name) {
    id name createdAt lastUsedAt
  }
}
"""
REMOVE = "mutation($id: ID!) { removeWebAuthnCredential(id: $id) }"
CREDENTIALS = "query { me { webAuthnCredentials { id name createdAt lastUsedAt } } }"
LOG_IN = "mutation($i: LogInInput!) { logIn(input: $i) { token } }"


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[BrowserAuthenticator]:
    async with browser_authenticator() as made:
        yield made


@pytest.fixture(scope="module")
async def over_tls(served: Served) -> AsyncIterator[GraphQL]:
    """GraphQL to the served API, as a frontend on its origin would send it."""
    async with httpx.AsyncClient(
        base_url=served.url,
        verify=ssl.create_default_context(cafile=str(served.ca)),
        headers={"user-agent": "audora-webauthn-tests/1.0"},
        timeout=30,
    ) as client:
        yield GraphQL(client)


async def register(
    gql: GraphQL, browser: BrowserAuthenticator, origin: str, token: str, name: str = "Laptop"
) -> tuple[dict[str, Any], str]:
    """Register a passkey in the browser for the signed-in user: the new credential's
    GraphQL object and its WebAuthn id."""
    begun = await gql(BEGIN, token=token)
    assert "errors" not in begun, begun
    made = await browser.create(origin, begun["data"]["beginWebAuthnRegistration"])
    finished = await gql(FINISH, {"credential": made, "name": name}, token=token)
    assert "errors" not in finished, finished
    return finished["data"]["finishWebAuthnRegistration"], json.loads(made)["id"]


async def log_in(gql: GraphQL, email: str, **factor: str) -> dict[str, Any]:
    return await gql(LOG_IN, {"i": {"email": email, "password": PASSWORD, **factor}})


async def mfa_required(gql: GraphQL, email: str) -> dict[str, Any]:
    """The extensions of the MFA_REQUIRED a login with the right password gets."""
    answer = await log_in(gql, email)
    assert error_codes(answer) == ["MFA_REQUIRED"], answer
    extensions: dict[str, Any] = answer["errors"][0]["extensions"]
    return extensions


async def audited_eventually(
    superuser: Engine, owner: dict[str, Any], action: str, count: int
) -> list[dict[str, Any]]:
    """Failed logins are audited just after their answer (so that they answer as fast
    as an unknown email's): wait, briefly, for the server process to write them."""
    deadline = time.monotonic() + 10
    while len(found := audited(superuser, owner, action)) < count:
        assert time.monotonic() < deadline, found
        await asyncio.sleep(0.05)
    return found


def audited(superuser: Engine, owner: dict[str, Any], action: str) -> list[dict[str, Any]]:
    with superuser.connect() as conn:
        rows = conn.execute(
            text(
                f"SELECT target, details FROM {schema_of(owner['account']['id'])}"
                ".audit_events WHERE action = :a ORDER BY seq"
            ),
            {"a": action},
        ).mappings()
        return [dict(r) for r in rows]


async def test_a_passkey_registered_in_a_real_browser_is_then_required_at_login(
    over_tls: GraphQL, browser: BrowserAuthenticator, served: Served, superuser: Engine
) -> None:
    owner = await sign_up(over_tls)
    begun = await over_tls(BEGIN, token=owner["token"])
    options = json.loads(begun["data"]["beginWebAuthnRegistration"])
    assert options["rp"]["id"] == "localhost"
    assert options["attestation"] == "none"
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    assert options["excludeCredentials"] == []

    made = await browser.create(served.url, begun["data"]["beginWebAuthnRegistration"])
    finished = await over_tls(
        FINISH, {"credential": made, "name": " Laptop "}, token=owner["token"]
    )
    credential = finished["data"]["finishWebAuthnRegistration"]
    assert credential["name"] == "Laptop"
    assert credential["lastUsedAt"] is None
    listed = await over_tls(CREDENTIALS, token=owner["token"])
    assert listed["data"]["me"]["webAuthnCredentials"] == [credential]
    assert audited(superuser, owner, "mfa.webauthn_added") == [
        {"target": credential["id"], "details": {"name": "Laptop"}}
    ]

    extensions = await mfa_required(over_tls, owner["email"])
    assert extensions["methods"] == ["WEBAUTHN"]
    request = json.loads(extensions["webauthnOptions"])
    assert request["rpId"] == "localhost"
    assert [c["id"] for c in request["allowCredentials"]] == [json.loads(made)["id"]]
    assert request["challenge"] != options["challenge"]

    # A second registration would not make a second credential on the same authenticator.
    again = await over_tls(BEGIN, token=owner["token"])
    again = json.loads(again["data"]["beginWebAuthnRegistration"])
    assert [c["id"] for c in again["excludeCredentials"]] == [json.loads(made)["id"]]


async def test_a_login_with_the_browsers_assertion_succeeds(
    over_tls: GraphQL, browser: BrowserAuthenticator, served: Served, superuser: Engine
) -> None:
    owner = await sign_up(over_tls)
    await register(over_tls, browser, served.url, owner["token"])
    extensions = await mfa_required(over_tls, owner["email"])
    assertion = await browser.get(served.url, extensions["webauthnOptions"])

    answer = await log_in(over_tls, owner["email"], webauthnAssertion=assertion)
    assert "errors" not in answer, answer
    listed = await over_tls(CREDENTIALS, token=answer["data"]["logIn"]["token"])
    assert listed["data"]["me"]["webAuthnCredentials"][0]["lastUsedAt"] is not None
    assert audited(superuser, owner, "login.succeeded")[-1]["details"]["secondFactor"] == (
        "webauthn"
    )


async def test_a_replayed_assertion_is_refused_as_a_failed_login(
    over_tls: GraphQL, browser: BrowserAuthenticator, served: Served, superuser: Engine
) -> None:
    owner = await sign_up(over_tls)
    await register(over_tls, browser, served.url, owner["token"])
    assertion = await browser.get(
        served.url, (await mfa_required(over_tls, owner["email"]))["webauthnOptions"]
    )
    assert "errors" not in await log_in(over_tls, owner["email"], webauthnAssertion=assertion)

    # Replayed with no challenge pending, then against a fresh challenge: both refused.
    replayed = await log_in(over_tls, owner["email"], webauthnAssertion=assertion)
    assert error_codes(replayed) == ["UNAUTHENTICATED"]
    await mfa_required(over_tls, owner["email"])
    replayed = await log_in(over_tls, owner["email"], webauthnAssertion=assertion)
    assert error_codes(replayed) == ["UNAUTHENTICATED"]
    failures = await audited_eventually(superuser, owner, "login.failed", 2)
    assert [f["details"]["reason"] for f in failures] == ["wrong second factor"] * 2

    # The passkey itself still works.
    fresh = await browser.get(
        served.url, (await mfa_required(over_tls, owner["email"]))["webauthnOptions"]
    )
    assert "errors" not in await log_in(over_tls, owner["email"], webauthnAssertion=fresh)


async def test_an_assertion_from_another_users_passkey_is_refused(
    over_tls: GraphQL, browser: BrowserAuthenticator, served: Served, superuser: Engine
) -> None:
    alice = await sign_up(over_tls, "Alice Studio")
    bob = await sign_up(over_tls, "Bob Studio")
    _, alices_key = await register(over_tls, browser, served.url, alice["token"])
    await register(over_tls, browser, served.url, bob["token"])

    # Bob's challenge, signed by Alice's passkey (the browser holds both).
    options = json.loads((await mfa_required(over_tls, bob["email"]))["webauthnOptions"])
    options["allowCredentials"] = [{"type": "public-key", "id": alices_key}]
    signed_by_alice = await browser.get(served.url, json.dumps(options))
    assert json.loads(signed_by_alice)["id"] == alices_key
    refused = await log_in(over_tls, bob["email"], webauthnAssertion=signed_by_alice)
    assert error_codes(refused) == ["UNAUTHENTICATED"]
    assert len(await audited_eventually(superuser, bob, "login.failed", 1)) == 1

    # Nor does an assertion Alice made for her own login open Bob's.
    alices_own = await browser.get(
        served.url, (await mfa_required(over_tls, alice["email"]))["webauthnOptions"]
    )
    await mfa_required(over_tls, bob["email"])
    refused = await log_in(over_tls, bob["email"], webauthnAssertion=alices_own)
    assert error_codes(refused) == ["UNAUTHENTICATED"]


async def test_removing_a_passkey_removes_it_as_a_second_factor(
    over_tls: GraphQL, browser: BrowserAuthenticator, served: Served, superuser: Engine
) -> None:
    owner = await sign_up(over_tls)
    stranger = await sign_up(over_tls)
    credential, _ = await register(over_tls, browser, served.url, owner["token"])

    # Someone else's credential is not found, exactly as one that does not exist.
    theirs = await over_tls(REMOVE, {"id": credential["id"]}, token=stranger["token"])
    assert error_codes(theirs) == ["NOT_FOUND"]
    await mfa_required(over_tls, owner["email"])

    removed = await over_tls(REMOVE, {"id": credential["id"]}, token=owner["token"])
    assert removed["data"] == {"removeWebAuthnCredential": True}
    listed = await over_tls(CREDENTIALS, token=owner["token"])
    assert listed["data"]["me"]["webAuthnCredentials"] == []
    assert audited(superuser, owner, "mfa.webauthn_removed") == [
        {"target": credential["id"], "details": {"name": "Laptop"}}
    ]
    assert "errors" not in await log_in(over_tls, owner["email"])


async def test_a_wrong_password_gets_no_webauthn_options(
    over_tls: GraphQL, browser: BrowserAuthenticator, served: Served
) -> None:
    owner = await sign_up(over_tls)
    await register(over_tls, browser, served.url, owner["token"])
    wrong = await over_tls(LOG_IN, {"i": {"email": owner["email"], "password": "x" * 20}})
    unknown = await over_tls(LOG_IN, {"i": {"email": "nobody@example.com", "password": "x" * 20}})
    assert wrong["errors"] == unknown["errors"]
    assert wrong["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}


async def test_webauthn_challenges_expire_after_five_minutes_of_application_time(
    gql: GraphQL, browser: BrowserAuthenticator, settings: Settings, clock: FrozenClock
) -> None:
    origin = settings.webauthn_expected_origins[0]
    owner = await sign_up(gql)
    begun = await gql(BEGIN, token=owner["token"])
    made = await browser.create(origin, begun["data"]["beginWebAuthnRegistration"])
    clock.advance(timedelta(minutes=5, seconds=1))
    late = await gql(FINISH, {"credential": made, "name": "Late"}, token=owner["token"])
    assert error_codes(late) == ["BAD_USER_INPUT"]
    assert "expired" in late["errors"][0]["message"]

    await register(gql, browser, origin, owner["token"])
    assertion = await browser.get(
        origin, (await mfa_required(gql, owner["email"]))["webauthnOptions"]
    )
    clock.advance(timedelta(minutes=5, seconds=1))
    assert error_codes(await log_in(gql, owner["email"], webauthnAssertion=assertion)) == [
        "UNAUTHENTICATED"
    ]
    clock.advance(timedelta(minutes=4))
    assertion = await browser.get(
        origin, (await mfa_required(gql, owner["email"]))["webauthnOptions"]
    )
    clock.advance(timedelta(minutes=4, seconds=59))
    assert "errors" not in await log_in(gql, owner["email"], webauthnAssertion=assertion)


async def test_a_user_with_totp_and_a_passkey_is_offered_both(
    gql: GraphQL, browser: BrowserAuthenticator, settings: Settings, clock: FrozenClock
) -> None:
    owner = await sign_up(gql)
    enrolled = await gql("mutation { enrollTotp { secret } }", token=owner["token"])
    code = pyotp.TOTP(enrolled["data"]["enrollTotp"]["secret"]).at(clock.now())
    confirmed = await gql(
        "mutation($c: String!) { confirmTotp(code: $c) { recoveryCodes } }",
        {"c": code},
        token=owner["token"],
    )
    assert "errors" not in confirmed, confirmed
    totp_only = await mfa_required(gql, owner["email"])
    assert totp_only["methods"] == ["TOTP"]
    assert "webauthnOptions" not in totp_only

    await register(gql, browser, settings.webauthn_expected_origins[0], owner["token"])
    both = await mfa_required(gql, owner["email"])
    assert both["methods"] == ["TOTP", "WEBAUTHN"]
    assert json.loads(both["webauthnOptions"])["allowCredentials"]

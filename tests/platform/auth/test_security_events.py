"""Every identity security event lands in the tenant's audit log; and signUp, which by
contract answers CONFLICT for a taken email, cannot be used to probe emails in bulk."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, text
from starlette.applications import Starlette

from audora.tenants.audit.security_events import settled

from audora_testing import PASSWORD, SIGN_UP, GraphQL, client_from, error_codes, schema_of, sign_up

LOG_IN = "mutation($input: LogInInput!) { logIn(input: $input) { token } }"


def _actions(superuser: Engine, owner: dict[str, Any]) -> list[tuple[str, str | None]]:
    with superuser.connect() as conn:
        rows = conn.execute(
            text(
                f"SELECT action, ip FROM {schema_of(owner['account']['id'])}.audit_events "
                "ORDER BY seq"
            )
        ).all()
    return [(r.action, r.ip) for r in rows]


async def test_logins_failures_mfa_and_password_changes_are_audited(
    app: Starlette, gql: GraphQL, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Audited Identity")
    async with client_from(app, "192.0.2.44", "audit-tests/1.0") as client:
        other = GraphQL(client)
        await other(LOG_IN, {"input": {"email": owner["email"], "password": "zebra-guess-42x"}})
        ok = await other(LOG_IN, {"input": {"email": owner["email"], "password": PASSWORD}})
        token = ok["data"]["logIn"]["token"]
        await other("mutation { enrollTotp { secret } }", token=token)
        await other(
            "mutation($i: ChangePasswordInput!) { changePassword(input: $i) }",
            {"i": {"currentPassword": PASSWORD, "newPassword": "another long passphrase"}},
            token=token,
        )
    await settled()  # failed logins are audited just after their answer
    assert _actions(superuser, owner) == [
        ("account.created", "203.0.113.7"),
        ("login.failed", "192.0.2.44"),
        ("login.succeeded", "192.0.2.44"),
        ("login.new_device", "192.0.2.44"),  # not the device the owner signed up from
        ("mfa.totp_enrollment_started", "192.0.2.44"),
        ("password.changed", "192.0.2.44"),
        ("session.revoked", "192.0.2.44"),  # the sign-up session, ended by the change
    ]
    with superuser.connect() as conn:
        details = (
            conn.execute(
                text(f"SELECT details::text FROM {schema_of(owner['account']['id'])}.audit_events")
            )
            .scalars()
            .all()
        )
    assert not any(PASSWORD in d or "zebra-guess" in d for d in details)


async def test_probing_emails_through_sign_up_is_rate_limited(
    app: Starlette, gql: GraphQL, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await sign_up(gql, "Probed")
    monkeypatch.setattr(app.state.runtime.throttle, "ip_limit", 3)
    ip = f"192.0.2.{uuid.uuid4().int % 200 + 20}"
    answers = []
    async with client_from(app, ip, "prober/1.0") as client:
        probe = GraphQL(client)
        for _ in range(4):
            result = await probe(
                SIGN_UP,
                {
                    "input": {
                        "accountName": "Probe",
                        "email": owner["email"],
                        "password": "a long enough passphrase",
                        "fullName": "P",
                    }
                },
            )
            answers.append(error_codes(result))
    assert answers == [["CONFLICT"]] * 3 + [["RATE_LIMITED"]]

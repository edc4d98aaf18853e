"""A10: a login from a device new to a user who had others emails that user and the
account's owners (when, from where, which device, and a link that ends the session); a
known device, and sign-up, send nothing."""

from __future__ import annotations

import re
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from arq import Retry
from sqlalchemy import Engine, text
from starlette.applications import Starlette

from audora.platform.auth.devices import fingerprint, network
from audora.platform.auth.service import ClientInfo
from audora.platform.clock import FrozenClock
from audora.platform.jobs.worker import FUNCTIONS
from audora.platform.mail.sender import MailSender
from audora.platform.runtime import Runtime
from audora.platform.stack.embedded import EmbeddedStack
from audora.tenants.identity.device_alerts import SUBJECT, new_device_alert_job

from audora_testing import (
    PASSWORD,
    GraphQL,
    client_from,
    dead_url,
    error_codes,
    invite_and_accept,
    mail_text,
    mail_to,
    read_mail,
    run_jobs,
    schema_of,
    sign_up,
)

LOG_IN = "mutation($i: LogInInput!) { logIn(input: $i) { token } }"
ME = "{ me { user { email } } }"
NEW_AGENT = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"


@pytest.fixture
def mail_dir(stack: EmbeddedStack) -> Path:
    return stack.data_dir / "mail"


async def _run_jobs(runtime: Runtime) -> None:
    """Everything queued, run now by an in-process worker."""
    await run_jobs(runtime, FUNCTIONS)


async def _log_in(client: httpx.AsyncClient, email: str) -> str:
    result = await GraphQL(client)(LOG_IN, {"i": {"email": email, "password": PASSWORD}})
    assert "errors" not in result, result
    token: str = result["data"]["logIn"]["token"]
    return token


def _actions(superuser: Engine, account_id: str, action: str) -> list[dict[str, Any]]:
    with superuser.connect() as conn:
        rows = conn.execute(
            text(
                f"SELECT details FROM {schema_of(account_id)}.audit_events "
                "WHERE action = :a ORDER BY seq"
            ),
            {"a": action},
        ).scalars()
        return list(rows)


def _link(message: EmailMessage) -> str:
    match = re.search(r"https://\S+/sessions/revoke/aur_[A-Za-z0-9_-]{43}", mail_text(message))
    assert match is not None, mail_text(message)
    return urlsplit(match.group(0)).path


async def test_a_login_from_a_new_device_emails_the_user_and_the_owners(
    gql: GraphQL,
    app: Starlette,
    runtime: Runtime,
    mail_dir: Path,
    superuser: Engine,
    clock: FrozenClock,
) -> None:
    owner = await sign_up(gql, "Alerted Studio")
    member = await invite_and_accept(gql, mail_dir, owner["token"])
    async with client_from(app, "198.51.100.23", NEW_AGENT) as laptop:
        session = await _log_in(laptop, member["email"])
    await _run_jobs(runtime)

    (alert,) = await read_mail(mail_dir, member["email"], SUBJECT)
    # One message to both: the member who signed in and the owner.
    (to_owner,) = mail_to(mail_dir, owner["email"], SUBJECT)
    assert to_owner["Message-ID"] == alert["Message-ID"]
    assert alert["From"] == "Audora <security@audora.local>"
    assert alert["Auto-Submitted"] == "auto-generated"
    body = mail_text(alert)
    assert f"When:     {clock.now():%Y-%m-%d %H:%M} UTC" in body
    assert "From:     198.51.100.23" in body
    assert f'Device:   "{NEW_AGENT}"' in body
    assert "Alerted Studio" in body
    assert _link(alert).startswith("/sessions/revoke/aur_")
    # The link's token is kept only hashed; the session token is not in the mail.
    assert session not in body

    (event,) = _actions(superuser, owner["account"]["id"], "login.new_device")
    assert event["alerted"] is True
    assert event["userAgent"] == NEW_AGENT


async def test_the_alert_job_sends_once_however_often_it_runs(
    gql: GraphQL, app: Starlette, runtime: Runtime, mail_dir: Path
) -> None:
    owner = await sign_up(gql, "Twice Studio")
    async with client_from(app, "198.51.100.24", NEW_AGENT) as laptop:
        await _log_in(laptop, owner["email"])
    await _run_jobs(runtime)
    await read_mail(mail_dir, owner["email"], SUBJECT)
    async with runtime.platform_engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT s.id, s.user_id, s.account_id FROM platform.sessions s "
                    "JOIN platform.users u ON u.id = s.user_id "
                    "WHERE u.email = :e AND s.revoke_token_hash IS NOT NULL"
                ),
                {"e": owner["email"]},
            )
        ).one()
    again = await new_device_alert_job(
        {"runtime": runtime, "job_try": 2}, str(row.user_id), str(row.account_id), str(row.id)
    )
    assert again == "already alerted"
    assert len(mail_to(mail_dir, owner["email"], SUBJECT)) == 1


async def test_a_known_device_and_sign_up_send_nothing(
    gql: GraphQL, app: Starlette, runtime: Runtime, mail_dir: Path, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Quiet Studio")
    await _run_jobs(runtime)
    assert mail_to(mail_dir, owner["email"]) == []
    # The same browser on the same network: the address's last byte does not count.
    await _log_in(gql.client, owner["email"])
    async with client_from(app, "203.0.113.200", "audora-tests/1.0") as same_network:
        await _log_in(same_network, owner["email"])
    await _run_jobs(runtime)
    assert mail_to(mail_dir, owner["email"]) == []
    assert _actions(superuser, owner["account"]["id"], "login.new_device") == []


async def test_the_revoke_link_ends_the_session_without_signing_in(
    gql: GraphQL, app: Starlette, runtime: Runtime, mail_dir: Path, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Revoking Studio")
    async with client_from(app, "2001:db8:77::5", NEW_AGENT) as stranger:
        stolen = await _log_in(stranger, owner["email"])
        assert "errors" not in await GraphQL(stranger)(ME, token=stolen)
        await _run_jobs(runtime)
        (alert,) = await read_mail(mail_dir, owner["email"], SUBJECT)
        path = _link(alert)

        # Fetching the link (as a mail scanner would) changes nothing.
        page = await gql.client.get(path)
        assert page.status_code == 200
        assert '<form method="post">' in page.text
        assert page.headers["referrer-policy"] == "no-referrer"
        assert page.headers["cache-control"] == "no-store"
        assert "errors" not in await GraphQL(stranger)(ME, token=stolen)

        ended = await gql.client.post(path, headers={"accept": "application/json"})
        assert ended.json() == {"session": {"state": "ENDED"}}
        assert error_codes(await GraphQL(stranger)(ME, token=stolen)) == ["UNAUTHENTICATED"]

    again = await gql.client.post(path)
    assert again.status_code == 200
    assert "already ended" in again.text
    unknown = await gql.client.post(
        "/sessions/revoke/aur_" + "x" * 43, headers={"accept": "application/json"}
    )
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # The owner's own session is untouched, and the revocation is audited.
    assert "errors" not in await gql(ME, token=owner["token"])
    (revoked,) = _actions(superuser, owner["account"]["id"], "session.revoked")
    assert revoked["reason"] == "ended from the link in a new-device alert"


async def test_new_device_alerts_can_be_switched_off(
    gql: GraphQL, app: Starlette, runtime: Runtime, mail_dir: Path, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Unalerted Studio")
    runtime.settings.new_device_alerts = False
    try:
        async with client_from(app, "198.51.100.99", NEW_AGENT) as laptop:
            await _log_in(laptop, owner["email"])
    finally:
        runtime.settings.new_device_alerts = True
    await _run_jobs(runtime)
    assert mail_to(mail_dir, owner["email"]) == []
    (event,) = _actions(superuser, owner["account"]["id"], "login.new_device")
    assert event["alerted"] is False


def test_a_device_is_its_user_agent_and_its_network() -> None:
    assert network("203.0.113.7") == "203.0.113.0/24"
    assert network("::ffff:203.0.113.7") == "203.0.113.0/24"
    assert network("2001:db8:77:1::5") == "2001:db8:77::/48"
    here = fingerprint(ClientInfo("203.0.113.7", "A"))
    assert fingerprint(ClientInfo("203.0.113.250", "A")) == here
    assert fingerprint(ClientInfo("203.0.114.7", "A")) != here
    assert fingerprint(ClientInfo("203.0.113.7", "B")) != here
    assert len(here) == 32


async def test_an_alert_that_cannot_be_sent_is_retried_with_a_fresh_link(
    gql: GraphQL, app: Starlette, runtime: Runtime, superuser: Engine, mail_dir: Path
) -> None:
    owner = await sign_up(gql, "Undelivered Studio")
    async with client_from(app, "198.51.100.31", NEW_AGENT) as laptop:
        await _log_in(laptop, owner["email"])
    with superuser.connect() as conn:
        session = conn.execute(
            text(
                "SELECT s.id, s.user_id, s.account_id FROM platform.sessions s "
                "JOIN platform.users u ON u.id = s.user_id "
                "WHERE u.email = :e AND s.ip = '198.51.100.31'"
            ),
            {"e": owner["email"]},
        ).one()
    down = replace(
        runtime, mail=MailSender(dead_url(runtime.settings.smtp_url), runtime.settings.mail_from)
    )
    with pytest.raises(Retry):
        await new_device_alert_job(
            {"runtime": down, "job_try": 1},
            str(session.user_id),
            str(session.account_id),
            str(session.id),
        )
    with superuser.connect() as conn:
        link = conn.execute(
            text("SELECT revoke_token_hash FROM platform.sessions WHERE id = :i"),
            {"i": session.id},
        ).scalar_one()
    assert link is None  # withdrawn: a later try makes its own
    assert mail_to(mail_dir, owner["email"]) == []
    await _run_jobs(runtime)  # the queued job, now with a working SMTP server
    (alert,) = await read_mail(mail_dir, owner["email"], SUBJECT)
    assert _link(alert).startswith("/sessions/revoke/aur_")

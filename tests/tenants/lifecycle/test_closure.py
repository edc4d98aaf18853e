"""L3: on account closure or subscription lapse, a 30-day grace period during which the
data can be read and exported but not changed; the owner may reopen within it. Closing
takes the owner and the account's name as confirmation; a refusal changes nothing and is
audited."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from audora.platform.clock import FrozenClock
from audora.platform.runtime import Runtime
from audora.platform.stack.embedded import EmbeddedStack

from audora_testing import (
    LOG_IN,
    PASSWORD,
    GraphQL,
    create_profile,
    error_codes,
    mail_text,
    moved,
    read_mail,
    run_audora,
    seat,
    sign_up,
)

CLOSE = "mutation($c: String!) { closeAccount(confirm: $c) { status purgeAfter } }"
REOPEN = "mutation { reopenAccount { status purgeAfter } }"
ME = "query { me { account { status purgeAfter } } clientProfiles { name } }"
EVENTS = """
query { auditLog(first: 20, action: "account.") { edges { node { actor action details } } } }
"""
GRACE = timedelta(days=30)


@pytest.fixture
def mail_dir(stack: EmbeddedStack) -> Path:
    return stack.data_dir / "mail"


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def _log_in(gql: GraphQL, email: str) -> str:
    result = await gql(LOG_IN, {"input": {"email": email, "password": PASSWORD}})
    assert "errors" not in result, result
    token: str = result["data"]["logIn"]["token"]
    return token


async def _actions(gql: GraphQL, token: str) -> list[str]:
    result = await gql(EVENTS, token=token)
    assert "errors" not in result, result
    return [e["node"]["action"] for e in result["data"]["auditLog"]["edges"]]


async def test_an_owner_closes_the_account_and_it_is_read_only_for_a_30_day_grace(
    gql: GraphQL, clock: FrozenClock, mail_dir: Path
) -> None:
    owner = await sign_up(gql, "Closing Studio")
    await create_profile(gql, owner["token"], "Kept Client")
    closed = await gql(CLOSE, {"c": "Closing Studio"}, token=owner["token"])
    assert "errors" not in closed, closed
    assert closed["data"]["closeAccount"]["status"] == "CLOSED"
    assert _at(closed["data"]["closeAccount"]["purgeAfter"]) == clock.now() + GRACE

    # Read-only: reads answer, writes are refused, and members still sign in.
    me = await gql(ME, token=owner["token"])
    assert me["data"]["me"]["account"]["status"] == "CLOSED"
    assert me["data"]["clientProfiles"] == [{"name": "Kept Client"}]
    refused = await gql(
        'mutation { createClientProfile(input: {name: "New"}) { id } }', token=owner["token"]
    )
    assert error_codes(refused) == ["FORBIDDEN"]
    logged_in = await gql(LOG_IN, {"input": {"email": owner["email"], "password": PASSWORD}})
    assert "errors" not in logged_in, logged_in

    (mail,) = await read_mail(mail_dir, owner["email"], "Audora: your account was closed")
    assert "30 days" in mail_text(mail)
    assert "account.closed" in await _actions(gql, owner["token"])


async def test_closing_without_the_name_or_as_a_non_owner_is_refused_and_audited(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Careful Agency")
    wrong = await gql(CLOSE, {"c": "yes please"}, token=owner["token"])
    assert error_codes(wrong) == ["BAD_USER_INPUT"]
    assert '"Careful Agency"' in wrong["errors"][0]["message"]
    admin = await seat(gql, runtime, superuser, owner, "ADMIN")
    by_admin = await gql(CLOSE, {"c": "Careful Agency"}, token=admin.token)
    assert error_codes(by_admin) == ["FORBIDDEN"]
    member = await seat(gql, runtime, superuser, owner, "MEMBER")
    by_member = await gql(CLOSE, {"c": "Careful Agency"}, token=member.token)
    assert error_codes(by_member) == ["FORBIDDEN"]

    me = await gql(ME, token=owner["token"])
    assert me["data"]["me"]["account"] == {"status": "ACTIVE", "purgeAfter": None}
    assert (await _actions(gql, owner["token"])).count("account.close_refused") == 3


async def test_the_owner_reopens_within_the_grace_but_not_after_it(
    gql: GraphQL, clock: FrozenClock, mail_dir: Path
) -> None:
    owner = await sign_up(gql, "Second Thoughts")
    assert "errors" not in await gql(CLOSE, {"c": "Second Thoughts"}, token=owner["token"])
    with moved(clock, GRACE - timedelta(minutes=1)):
        # Sessions idle out after 24 hours: sign in again at the later time.
        token = await _log_in(gql, owner["email"])
        reopened = await gql(REOPEN, token=token)
        assert reopened["data"]["reopenAccount"] == {"status": "ACTIVE", "purgeAfter": None}
        writable = await gql(
            'mutation { createClientProfile(input: {name: "Back"}) { id } }', token=token
        )
    await read_mail(mail_dir, owner["email"], "Audora: your account was reopened")
    assert "errors" not in writable, writable

    assert "errors" not in await gql(CLOSE, {"c": "Second Thoughts"}, token=owner["token"])
    with moved(clock, GRACE + timedelta(minutes=1)):
        token = await _log_in(gql, owner["email"])
        too_late = await gql(REOPEN, token=token)
        assert error_codes(too_late) == ["CONFLICT"]
        assert "grace period ended" in too_late["errors"][0]["message"]
        me = await gql(ME, token=token)
        actions = await _actions(gql, token)
    assert me["data"]["me"]["account"]["status"] == "CLOSED"
    assert actions.count("account.closed") == 2
    assert actions.count("account.reopened") == 1


async def test_a_lapsed_subscription_takes_the_same_path_and_only_billing_renews_it(
    gql: GraphQL, clock: FrozenClock, stack_env: dict[str, str], mail_dir: Path
) -> None:
    owner = await sign_up(gql, "Unpaid Ltd")
    tenant = owner["account"]["id"]
    run_audora(stack_env, "tenants", "lapse", "--tenant", tenant, "--reason", "card declined")
    me: dict[str, Any] = await gql(ME, token=owner["token"])
    assert me["data"]["me"]["account"]["status"] == "LAPSED"
    # The CLI runs on the real clock, the API here on the test's: a day's slack.
    assert abs(_at(me["data"]["me"]["account"]["purgeAfter"]) - (clock.now() + GRACE)) < (
        timedelta(days=1)
    )
    refused = await gql(
        'mutation { createClientProfile(input: {name: "X"}) { id } }', token=owner["token"]
    )
    assert error_codes(refused) == ["FORBIDDEN"]
    (mail,) = await read_mail(mail_dir, owner["email"], "Audora: your subscription lapsed")
    assert "Renewing it" in mail_text(mail)
    # The owner's reopenAccount is for closures; a lapse ends by renewal.
    assert error_codes(await gql(REOPEN, token=owner["token"])) == ["CONFLICT"]
    run_audora(stack_env, "tenants", "renew", "--tenant", tenant)
    me = await gql(ME, token=owner["token"])
    assert me["data"]["me"]["account"] == {"status": "ACTIVE", "purgeAfter": None}
    actions = await _actions(gql, owner["token"])
    assert {"account.lapsed", "account.renewed"} <= set(actions)

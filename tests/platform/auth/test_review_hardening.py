"""Holes a review found, closed: concurrent guesses, a password change that left other
accounts' sessions alive, an unthrottled current-password check, TOTP replaced by a
stolen session, a standalone mutation hidden in a fragment."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import Engine, text
from starlette.applications import Starlette

from audora.platform.auth.service import ClientInfo, open_session
from audora.platform.clock import FrozenClock
from audora.platform.runtime import Runtime

from audora_testing import (
    PASSWORD,
    TEST_AGENT,
    TEST_IP,
    GraphQL,
    client_from,
    error_codes,
    raw_id,
    sign_up,
)

LOG_IN = "mutation($input: LogInInput!) { logIn(input: $input) { token } }"
CHANGE = "mutation($i: ChangePasswordInput!) { changePassword(input: $i) }"
ME = "{ me { user { email } } }"


async def test_a_burst_of_concurrent_guesses_is_throttled_like_sequential_ones(
    app: Starlette, gql: GraphQL
) -> None:
    owner = await sign_up(gql, "Burst")
    ip = f"10.77.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"

    async def guess(n: int) -> list[str]:
        async with client_from(app, ip, "burst/1.0") as client:
            result = await GraphQL(client)(
                LOG_IN, {"input": {"email": owner["email"], "password": f"guess number {n}"}}
            )
        return error_codes(result)

    answers = await asyncio.gather(*(guess(n) for n in range(20)))
    free = app.state.runtime.settings.login_free_failures
    assert (
        sorted(a[0] for a in answers) == ["RATE_LIMITED"] * (20 - free) + ["UNAUTHENTICATED"] * free
    )


async def test_a_password_change_ends_the_users_sessions_in_every_account(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner = await sign_up(gql, "First Account")
    other = await sign_up(gql, "Second Account")
    with superuser.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO platform.memberships (account_id, user_id, role) "
                "VALUES (:a, :u, 'MEMBER')"
            ),
            {"a": raw_id(other["account"]["id"]), "u": raw_id(owner["user"]["id"])},
        )
    elsewhere = await open_session(
        runtime.platform_engine,
        runtime.clock,
        user_id=raw_id(owner["user"]["id"]),
        account_id=raw_id(other["account"]["id"]),
        client=ClientInfo(TEST_IP, TEST_AGENT),
        limit=5,
        idle=runtime.settings.session_idle,
    )
    assert "errors" not in await gql(ME, token=elsewhere.token)
    changed = await gql(
        CHANGE,
        {"i": {"currentPassword": PASSWORD, "newPassword": "a different long passphrase"}},
        token=owner["token"],
    )
    assert changed["data"] == {"changePassword": True}
    assert error_codes(await gql(ME, token=elsewhere.token)) == ["UNAUTHENTICATED"]


async def test_guessing_the_current_password_through_a_session_is_throttled(
    gql: GraphQL, runtime: Runtime
) -> None:
    owner = await sign_up(gql, "Guessing Current")
    answers: list[Any] = []
    for n in range(runtime.settings.login_free_failures + 1):
        result = await gql(
            CHANGE,
            {"i": {"currentPassword": f"guess {n} of it", "newPassword": "a fresh passphrase 9"}},
            token=owner["token"],
        )
        answers.append(error_codes(result))
    free = runtime.settings.login_free_failures
    assert answers == [["BAD_USER_INPUT"]] * free + [["RATE_LIMITED"]]


async def test_a_session_alone_cannot_replace_an_active_totp(
    gql: GraphQL, clock: FrozenClock
) -> None:
    import pyotp

    owner = await sign_up(gql, "Keep My TOTP")
    secret = (await gql("mutation { enrollTotp { secret } }", token=owner["token"]))["data"][
        "enrollTotp"
    ]["secret"]
    confirmed = await gql(
        "mutation($c: String!) { confirmTotp(code: $c) { recoveryCodes } }",
        # The application's clock, not the wall's: the server checks codes against it.
        {"c": pyotp.TOTP(secret).at(clock.now())},
        token=owner["token"],
    )
    assert "errors" not in confirmed, confirmed
    again = await gql("mutation { enrollTotp { secret } }", token=owner["token"])
    assert error_codes(again) == ["CONFLICT"]


async def test_a_standalone_mutation_cannot_hide_in_a_fragment(gql: GraphQL) -> None:
    owner = await sign_up(gql, "Fragments")
    hidden = await gql(
        'mutation { ... on Mutation { logOut createClientProfile(input: {name: "x"}) { id } } }',
        token=owner["token"],
    )
    assert error_codes(hidden) == ["BAD_USER_INPUT"]
    assert "errors" not in await gql(ME, token=owner["token"])  # logOut did not run

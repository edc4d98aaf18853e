"""A5: passwords of 12 characters or more, not guessable, at sign-up and at every
change; argon2id with the deployment's parameters, redone at login when they change;
and a huge password costs nothing."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, text

from audora.platform.auth.passwords import MAX_LENGTH, Passwords, check_policy
from audora.platform.config import Settings
from audora.platform.errors import AppError

from audora_testing import PASSWORD, SIGN_UP, GraphQL, error_codes, sign_up

LOG_IN = "mutation($input: LogInInput!) { logIn(input: $input) { token } }"
CHANGE = """
mutation($input: ChangePasswordInput!) { changePassword(input: $input) }
"""


async def _sign_up_with(gql: GraphQL, password: str, email: str | None = None) -> dict[str, Any]:
    return await gql(
        SIGN_UP,
        {
            "input": {
                "accountName": "Policy Studio",
                "email": email or f"p-{uuid.uuid4().hex[:10]}@example.com",
                "password": password,
                "fullName": "Pat Policy",
            }
        },
    )


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short pass", "at least 12 characters"),
        ("password1234", "less guessable"),
        ("qwertyuiop12", "less guessable"),
        ("aaaaaaaaaaaaaaaa", "less guessable"),
        ("x" * (MAX_LENGTH + 1), "at most 256 characters"),
    ],
)
async def test_weak_or_oversized_passwords_are_refused_at_sign_up(
    gql: GraphQL, password: str, why: str
) -> None:
    result = await _sign_up_with(gql, password)
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert why in result["errors"][0]["message"]
    assert result["errors"][0]["extensions"]["field"] == "password"


def test_a_password_made_of_the_users_own_details_is_refused() -> None:
    with pytest.raises(AppError, match="less guessable"):
        check_policy("pat.policy@acme.io", user_inputs=("pat.policy@acme.io", "Pat Policy"))


def test_a_huge_password_is_refused_before_any_work() -> None:
    started = time.perf_counter()
    with pytest.raises(AppError, match="at most"):
        check_policy("y" * 10_000_000)
    assert time.perf_counter() - started < 0.5


async def test_a_changed_password_follows_the_policy_and_ends_other_sessions(
    gql: GraphQL,
) -> None:
    owner = await sign_up(gql, "Changing")
    weak = await gql(
        CHANGE,
        {"input": {"currentPassword": PASSWORD, "newPassword": "password1234"}},
        token=owner["token"],
    )
    assert error_codes(weak) == ["BAD_USER_INPUT"]
    wrong = await gql(
        CHANGE,
        {"input": {"currentPassword": "not my password", "newPassword": "a brand new passphrase"}},
        token=owner["token"],
    )
    assert error_codes(wrong) == ["BAD_USER_INPUT"]
    other = await gql(LOG_IN, {"input": {"email": owner["email"], "password": PASSWORD}})
    changed = await gql(
        CHANGE,
        {"input": {"currentPassword": PASSWORD, "newPassword": "a brand new passphrase"}},
        token=owner["token"],
    )
    assert changed["data"] == {"changePassword": True}
    ended = await gql("{ me { user { email } } }", token=other["data"]["logIn"]["token"])
    assert error_codes(ended) == ["UNAUTHENTICATED"]
    assert "errors" not in await gql("{ me { user { email } } }", token=owner["token"])
    old = await gql(LOG_IN, {"input": {"email": owner["email"], "password": PASSWORD}})
    assert error_codes(old) == ["UNAUTHENTICATED"]
    new = await gql(
        LOG_IN, {"input": {"email": owner["email"], "password": "a brand new passphrase"}}
    )
    assert "errors" not in new


async def test_a_hash_made_with_old_parameters_is_redone_at_login(
    gql: GraphQL, superuser: Engine, settings: Settings
) -> None:
    owner = await sign_up(gql, "Rehash")
    cheap = Passwords(
        settings.model_copy(update={"argon2_time_cost": 1, "argon2_memory_kib": 8192})
    )
    old_hash = await cheap.hash(PASSWORD)
    with superuser.begin() as conn:
        conn.execute(
            text("UPDATE platform.users SET password_hash = :h WHERE email = :e"),
            {"h": old_hash, "e": owner["email"]},
        )
    assert "errors" not in await gql(
        LOG_IN, {"input": {"email": owner["email"], "password": PASSWORD}}
    )
    with superuser.connect() as conn:
        stored = conn.execute(
            text("SELECT password_hash FROM platform.users WHERE email = :e"), {"e": owner["email"]}
        ).scalar_one()
    memory, time_cost = settings.argon2_memory_kib, settings.argon2_time_cost
    assert f"m={memory},t={time_cost},p={settings.argon2_parallelism}" in stored
    assert stored != old_hash

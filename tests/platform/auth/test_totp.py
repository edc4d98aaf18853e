"""A7: TOTP as a second factor. Once confirmed, logIn needs a code (MFA_REQUIRED
without one); a code works once; recovery codes work once each; the secret is stored
sealed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pyotp
from sqlalchemy import Engine, text

from audora.platform.clock import FrozenClock

from audora_testing import PASSWORD, GraphQL, error_codes, sign_up

LOG_IN = "mutation($input: LogInInput!) { logIn(input: $input) { token } }"


async def _with_totp(
    gql: GraphQL, clock: FrozenClock, name: str
) -> tuple[dict[str, Any], pyotp.TOTP, list[str]]:
    owner = await sign_up(gql, name)
    enrolled = await gql("mutation { enrollTotp { secret otpauthUri } }", token=owner["token"])
    secret = enrolled["data"]["enrollTotp"]["secret"]
    assert enrolled["data"]["enrollTotp"]["otpauthUri"].startswith("otpauth://totp/Audora:")
    totp = pyotp.TOTP(secret)
    wrong = await gql(
        'mutation { confirmTotp(code: "000000") { recoveryCodes } }', token=owner["token"]
    )
    if totp.at(clock.now()) != "000000":
        assert error_codes(wrong) == ["BAD_USER_INPUT"]
    confirmed = await gql(
        "mutation($c: String!) { confirmTotp(code: $c) { recoveryCodes } }",
        {"c": totp.at(clock.now())},
        token=owner["token"],
    )
    codes: list[str] = confirmed["data"]["confirmTotp"]["recoveryCodes"]
    assert len(codes) == 10
    return owner, totp, codes


async def _log_in(gql: GraphQL, email: str, code: str | None) -> dict[str, Any]:
    return await gql(LOG_IN, {"input": {"email": email, "password": PASSWORD, "totpCode": code}})


async def test_after_enrolling_totp_a_login_needs_a_code(gql: GraphQL, clock: FrozenClock) -> None:
    owner, totp, _ = await _with_totp(gql, clock, "Needs A Code")
    missing = await _log_in(gql, owner["email"], None)
    assert error_codes(missing) == ["MFA_REQUIRED"]
    assert missing["errors"][0]["extensions"]["methods"] == ["TOTP"]
    clock.advance(timedelta(seconds=30))  # the confirming code's step is spent
    try:
        ok = await _log_in(gql, owner["email"], totp.at(clock.now()))
        assert "errors" not in ok, ok
    finally:
        clock.advance(-timedelta(seconds=30))


async def test_a_totp_code_cannot_be_replayed(gql: GraphQL, clock: FrozenClock) -> None:
    owner, totp, _ = await _with_totp(gql, clock, "No Replay")
    clock.advance(timedelta(seconds=60))
    try:
        code = totp.at(clock.now())
        assert "errors" not in await _log_in(gql, owner["email"], code)
        replayed = await _log_in(gql, owner["email"], code)
        assert error_codes(replayed) == ["UNAUTHENTICATED"]
        # An older step (still inside the drift window) is refused too.
        older = await _log_in(gql, owner["email"], totp.at(clock.now() - timedelta(seconds=30)))
        assert error_codes(older) == ["UNAUTHENTICATED"]
    finally:
        clock.advance(-timedelta(seconds=60))


async def test_recovery_codes_work_once_each(gql: GraphQL, clock: FrozenClock) -> None:
    owner, _, codes = await _with_totp(gql, clock, "Recovery")
    assert "errors" not in await _log_in(gql, owner["email"], codes[0])
    assert error_codes(await _log_in(gql, owner["email"], codes[0])) == ["UNAUTHENTICATED"]
    assert "errors" not in await _log_in(gql, owner["email"], codes[1].upper())


async def test_the_totp_secret_is_stored_sealed(
    gql: GraphQL, clock: FrozenClock, superuser: Engine
) -> None:
    owner, totp, _ = await _with_totp(gql, clock, "Sealed Secret")
    with superuser.connect() as conn:
        row = conn.execute(
            text("SELECT u::text FROM platform.users u WHERE email = :e"), {"e": owner["email"]}
        ).scalar_one()
        hashes = conn.execute(
            text(
                "SELECT count(*) FROM platform.recovery_codes r JOIN platform.users u "
                "ON u.id = r.user_id WHERE u.email = :e"
            ),
            {"e": owner["email"]},
        ).scalar_one()
    assert totp.secret not in row
    assert totp.secret.encode().hex() not in row
    assert hashes == 10

"""A5/A6: sessions expire after 24 hours idle (sliding), are bound to the address and
user agent they were opened from, and a seat holds at most five at once."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette

from audora.platform.clock import FrozenClock

from audora_testing import (
    PASSWORD,
    TEST_AGENT,
    TEST_IP,
    GraphQL,
    client_from,
    error_codes,
    sign_up,
)

ME = "{ me { user { email } sessions { id current ip userAgent } } }"
LOG_IN = """
mutation($input: LogInInput!) { logIn(input: $input) { token } }
"""


async def _log_in(app: Starlette, email: str, ip: str, agent: str = TEST_AGENT) -> str:
    async with client_from(app, ip, agent) as client:
        result = await GraphQL(client)(LOG_IN, {"input": {"email": email, "password": PASSWORD}})
    assert "errors" not in result, result
    token: str = result["data"]["logIn"]["token"]
    return token


async def _me(app: Starlette, token: str, ip: str = TEST_IP, agent: str = TEST_AGENT) -> Any:
    async with client_from(app, ip, agent) as client:
        return await GraphQL(client)(ME, token=token)


async def test_a_session_lives_23h59m_idle_and_dies_at_24h01m(
    gql: GraphQL, clock: FrozenClock
) -> None:
    owner = await sign_up(gql, "Idle Sessions")
    moved = timedelta()
    try:
        clock.advance(timedelta(hours=23, minutes=59))
        moved += timedelta(hours=23, minutes=59)
        alive = await gql(ME, token=owner["token"])
        assert alive["data"]["me"]["user"]["email"] == owner["email"]
        # Use slides the window: another 23h59m later it still lives...
        clock.advance(timedelta(hours=23, minutes=59))
        moved += timedelta(hours=23, minutes=59)
        assert "errors" not in await gql(ME, token=owner["token"])
        # ...and 24h01m without use ends it.
        clock.advance(timedelta(hours=24, minutes=1))
        moved += timedelta(hours=24, minutes=1)
        dead = await gql(ME, token=owner["token"])
        assert error_codes(dead) == ["UNAUTHENTICATED"]
    finally:
        clock.advance(-moved)


async def test_a_token_replayed_from_another_address_is_refused_and_the_session_ended(
    app: Starlette, gql: GraphQL
) -> None:
    owner = await sign_up(gql, "Replayed Address")
    stolen = await _me(app, owner["token"], ip="198.51.100.23")
    assert error_codes(stolen) == ["UNAUTHENTICATED"]
    # The session is revoked: even its rightful client is now signed out.
    assert error_codes(await gql(ME, token=owner["token"])) == ["UNAUTHENTICATED"]


async def test_a_token_replayed_from_another_user_agent_is_refused_and_the_session_ended(
    app: Starlette, gql: GraphQL, superuser: Any
) -> None:
    owner = await sign_up(gql, "Replayed Agent")
    stolen = await _me(app, owner["token"], agent="curl/8.0")
    assert error_codes(stolen) == ["UNAUTHENTICATED"]
    assert error_codes(await gql(ME, token=owner["token"])) == ["UNAUTHENTICATED"]
    from sqlalchemy import text

    schema = "t_" + owner["account"]["id"][4:]
    with superuser.connect() as conn:
        reasons = (
            conn.execute(
                text(
                    f"SELECT details->>'reason' FROM {schema}.audit_events "
                    "WHERE action = 'session.revoked'"
                )
            )
            .scalars()
            .all()
        )
    assert reasons == ["token replayed from another address or user agent"]


async def test_the_sixth_concurrent_session_ends_the_first(
    app: Starlette, gql: GraphQL, clock: FrozenClock
) -> None:
    owner = await sign_up(gql, "Six Sessions")  # the first session
    tokens = [owner["token"]]
    try:
        for _ in range(5):
            clock.advance(timedelta(seconds=1))  # the frozen clock would tie them all
            tokens.append(await _log_in(app, owner["email"], TEST_IP))
    finally:
        clock.advance(-timedelta(seconds=5))
    assert error_codes(await gql(ME, token=tokens[0])) == ["UNAUTHENTICATED"]
    listed = (await gql(ME, token=tokens[-1]))["data"]["me"]["sessions"]
    assert len(listed) == 5
    assert sum(s["current"] for s in listed) == 1
    for token in tokens[1:]:
        assert "errors" not in await gql(ME, token=token)


async def test_revoke_session_and_revoke_other_sessions(app: Starlette, gql: GraphQL) -> None:
    owner = await sign_up(gql, "Revoking")
    second = await _log_in(app, owner["email"], TEST_IP)
    third = await _log_in(app, owner["email"], TEST_IP)
    sessions = (await gql(ME, token=third))["data"]["me"]["sessions"]
    first_id = next(s["id"] for s in sessions if not s["current"] and s["id"])
    other = await sign_up(gql, "Someone Else")
    foreign = await gql(
        "mutation($id: ID!) { revokeSession(id: $id) }", {"id": first_id}, token=other["token"]
    )
    assert error_codes(foreign) == ["NOT_FOUND"]
    mine = await gql("mutation($id: ID!) { revokeSession(id: $id) }", {"id": first_id}, token=third)
    assert mine["data"] == {"revokeSession": True}
    ended = await gql("mutation { revokeOtherSessions }", token=third)
    assert ended["data"]["revokeOtherSessions"] == 1
    for token in (owner["token"], second):
        assert error_codes(await gql(ME, token=token)) == ["UNAUTHENTICATED"]
    assert "errors" not in await gql(ME, token=third)
    missing = await gql(
        "mutation($id: ID!) { revokeSession(id: $id) }",
        {"id": "ses_" + uuid.uuid4().hex},
        token=third,
    )
    assert error_codes(missing) == ["NOT_FOUND"]


def _last_seen(superuser: Any, token: str) -> Any:
    from sqlalchemy import text

    from audora.platform.auth.tokens import token_hash

    with superuser.connect() as conn:
        return conn.execute(
            text("SELECT last_seen_at FROM platform.sessions WHERE token_hash = :h"),
            {"h": token_hash(token)},
        ).scalar_one()


async def test_a_request_slides_the_idle_window_only_once_a_minute_and_only_for_its_client(
    app: Starlette, gql: GraphQL, clock: FrozenClock, superuser: Any
) -> None:
    owner = await sign_up(gql, "Sliding Window")
    opened = _last_seen(superuser, owner["token"])
    moved = timedelta()
    try:
        # Within the minute a read stays a read: nothing is written.
        clock.advance(timedelta(seconds=50))
        moved += timedelta(seconds=50)
        assert "errors" not in await gql(ME, token=owner["token"])
        assert _last_seen(superuser, owner["token"]) == opened
        # Past it, the same lookup moves the last use to now.
        clock.advance(timedelta(seconds=20))
        moved += timedelta(seconds=20)
        assert "errors" not in await gql(ME, token=owner["token"])
        slid = _last_seen(superuser, owner["token"])
        assert slid == opened + moved
        # A replay from elsewhere does not slide it: it ends it, as it was.
        clock.advance(timedelta(minutes=5))
        moved += timedelta(minutes=5)
        stolen = await _me(app, owner["token"], ip="198.51.100.23")
        assert error_codes(stolen) == ["UNAUTHENTICATED"]
        assert _last_seen(superuser, owner["token"]) == slid
    finally:
        clock.advance(-moved)

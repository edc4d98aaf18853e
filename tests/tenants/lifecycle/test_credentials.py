"""Expired credentials leave the platform schema at their schedule's boundary: a day
after an upload ticket expires, 30 days after an invitation expires, 30 days after a
session has ended (idle 24 hours). Just before: kept. Just after: gone."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import Engine, text

from audora.platform.clock import FrozenClock
from audora.platform.runtime import Runtime
from audora.tenants.lifecycle.credentials import delete_expired_credentials

from audora_testing import (
    INVITE,
    GraphQL,
    create_call,
    create_profile,
    raw_id,
    sign_up,
    upload_path,
)

SECOND = timedelta(seconds=1)


def _count(superuser: Engine, table: str, column: str, value: uuid.UUID) -> int:
    with superuser.connect() as conn:
        return int(
            conn.execute(
                text(f"SELECT count(*) FROM platform.{table} WHERE {column} = :v"),
                {"v": value},
            ).scalar_one()
        )


async def _sweep_at(runtime: Runtime, clock: FrozenClock, delta: timedelta) -> None:
    clock.advance(delta)
    try:
        await delete_expired_credentials(
            runtime.platform_engine, clock.now(), runtime.settings.session_idle
        )
    finally:
        clock.advance(-delta)


async def test_expired_credentials_are_deleted_at_their_boundary_and_not_before(
    gql: GraphQL, runtime: Runtime, superuser: Engine, clock: FrozenClock
) -> None:
    owner = await sign_up(gql, "Credentials Studio")
    user = raw_id(owner["user"]["id"])
    profile = await create_profile(gql, owner["token"], "Client")
    await upload_path(gql, owner["token"], await create_call(gql, owner["token"], profile["id"]))
    invited = await gql(
        INVITE,
        {"input": {"email": f"x-{uuid.uuid4().hex[:8]}@example.com", "role": "MEMBER"}},
        token=owner["token"],
    )
    assert "errors" not in invited, invited
    invitation = raw_id(invited["data"]["inviteMember"]["id"])
    account = raw_id(owner["account"]["id"])

    ticket_gone = timedelta(minutes=runtime.settings.upload_ticket_minutes) + timedelta(days=1)
    await _sweep_at(runtime, clock, ticket_gone - SECOND)
    assert _count(superuser, "upload_tickets", "account_id", account) == 1
    await _sweep_at(runtime, clock, ticket_gone + SECOND)
    assert _count(superuser, "upload_tickets", "account_id", account) == 0

    # The owner's session was last seen at sign-up (and at the requests above, at the
    # same frozen instant): it ends 24 hours later and its row goes 30 days after that.
    session_gone = runtime.settings.session_idle + timedelta(days=30)
    await _sweep_at(runtime, clock, session_gone - SECOND)
    assert _count(superuser, "sessions", "user_id", user) == 1
    await _sweep_at(runtime, clock, session_gone + SECOND)
    assert _count(superuser, "sessions", "user_id", user) == 0

    invitation_gone = timedelta(hours=runtime.settings.invitation_hours) + timedelta(days=30)
    await _sweep_at(runtime, clock, invitation_gone - SECOND)
    assert _count(superuser, "invitations", "id", invitation) == 1
    await _sweep_at(runtime, clock, invitation_gone + SECOND)
    assert _count(superuser, "invitations", "id", invitation) == 0

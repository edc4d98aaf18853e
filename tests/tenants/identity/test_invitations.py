"""Invitations: owners and admins offer a seat with a role and a scope; the token travels
by email only, is good once and for `invitation_hours`; accepting writes the user, the
seat and the session together or not at all."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import Engine, text
from starlette.applications import Starlette

from audora.platform.clock import FrozenClock
from audora.platform.mail.sender import MailSender
from audora.platform.stack.embedded import EmbeddedStack

from audora_testing import (
    ACCEPT,
    INVITE,
    PASSWORD,
    GraphQL,
    client_from,
    create_profile,
    dead_url,
    error_codes,
    invitation_token,
    invitation_tokens,
    invite_and_accept,
    schema_of,
    sign_up,
)

PROFILES = "{ clientProfiles { id name } }"


@pytest.fixture
def mail_dir(stack: EmbeddedStack) -> Path:
    return stack.data_dir / "mail"


def _address() -> str:
    return f"invitee-{uuid.uuid4().hex[:12]}@example.com"


def _actions(superuser: Engine, account_id: str) -> list[str]:
    with superuser.connect() as conn:
        return list(
            conn.execute(
                text(f"SELECT action FROM {schema_of(account_id)}.audit_events ORDER BY seq")
            ).scalars()
        )


def _users_with(superuser: Engine, address: str) -> int:
    with superuser.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM platform.users WHERE email = :e"), {"e": address}
            ).scalar_one()
        )


async def test_an_emailed_invitation_yields_a_seat_with_its_role_and_scope(
    gql: GraphQL, mail_dir: Path, superuser: Engine, clock: FrozenClock
) -> None:
    owner = await sign_up(gql, "Inviting Studio")
    seen = await create_profile(gql, owner["token"], "Seen Client")
    await create_profile(gql, owner["token"], "Unseen Client")
    address = _address()
    invited = await gql(
        INVITE,
        {"input": {"email": address.upper(), "role": "MEMBER", "clientProfileIds": [seen["id"]]}},
        token=owner["token"],
    )
    assert "errors" not in invited, invited
    invitation = invited["data"]["inviteMember"]
    assert invitation["id"].startswith("inv_")
    assert (invitation["email"], invitation["role"]) == (address, "MEMBER")
    assert invitation["clientProfileIds"] == [seen["id"]]
    expires = clock.now() + timedelta(hours=72)
    assert invitation["expiresAt"].startswith(expires.isoformat()[:16])

    token = await invitation_token(mail_dir, address)
    # The token is in the email only: not in the answer, not stored in the clear.
    assert token not in str(invited)
    with superuser.connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM platform.invitations")).scalars()
        assert all(token.encode() not in bytes(h) for h in stored)

    accepted = await gql(
        ACCEPT, {"input": {"token": token, "password": PASSWORD, "fullName": "Ivy Invitee"}}
    )
    assert "errors" not in accepted, accepted
    seat = accepted["data"]["acceptInvitation"]
    assert seat["account"]["id"] == owner["account"]["id"]
    assert seat["user"] == {**seat["user"], "email": address, "role": "MEMBER"}
    visible = await gql(PROFILES, token=seat["token"])
    assert visible["data"]["clientProfiles"] == [{"id": seen["id"], "name": "Seen Client"}]
    actions = _actions(superuser, owner["account"]["id"])
    assert "invitation.sent" in actions
    assert "invitation.accepted" in actions


async def test_an_invitation_token_is_good_once(gql: GraphQL, mail_dir: Path) -> None:
    owner = await sign_up(gql, "Once Studio")
    await invite_and_accept(gql, mail_dir, owner["token"])
    address = _address()
    await gql(INVITE, {"input": {"email": address, "role": "VIEWER"}}, token=owner["token"])
    token = await invitation_token(mail_dir, address)
    first = await gql(ACCEPT, {"input": {"token": token, "password": PASSWORD, "fullName": "A"}})
    assert "errors" not in first, first
    again = await gql(ACCEPT, {"input": {"token": token, "password": PASSWORD, "fullName": "A"}})
    assert error_codes(again) == ["BAD_USER_INPUT"]
    assert "already been used" in again["errors"][0]["message"]


async def test_an_expired_invitation_is_refused_and_nothing_is_written(
    gql: GraphQL, mail_dir: Path, superuser: Engine, clock: FrozenClock
) -> None:
    owner = await sign_up(gql, "Expiring Studio")
    address = _address()
    await gql(INVITE, {"input": {"email": address, "role": "MEMBER"}}, token=owner["token"])
    token = await invitation_token(mail_dir, address)
    clock.advance(timedelta(hours=72, minutes=1))
    try:
        late = await gql(
            ACCEPT, {"input": {"token": token, "password": PASSWORD, "fullName": "Late"}}
        )
    finally:
        clock.advance(-timedelta(hours=72, minutes=1))
    assert error_codes(late) == ["BAD_USER_INPUT"]
    assert "expired" in late["errors"][0]["message"]
    assert _users_with(superuser, address) == 0


async def test_unknown_and_withdrawn_tokens_are_refused(gql: GraphQL, mail_dir: Path) -> None:
    unknown = await gql(
        ACCEPT, {"input": {"token": "aui_" + "x" * 43, "password": PASSWORD, "fullName": "U"}}
    )
    assert error_codes(unknown) == ["NOT_FOUND"]
    owner = await sign_up(gql, "Reinviting Studio")
    address = _address()
    for _ in range(2):
        await gql(INVITE, {"input": {"email": address, "role": "MEMBER"}}, token=owner["token"])
    older, newer = await invitation_tokens(mail_dir, address, count=2)
    # The second invitation replaced the first: the older token no longer works.
    withdrawn = await gql(
        ACCEPT, {"input": {"token": older, "password": PASSWORD, "fullName": "W"}}
    )
    assert error_codes(withdrawn) == ["BAD_USER_INPUT"]
    assert "withdrawn" in withdrawn["errors"][0]["message"]
    latest = await gql(ACCEPT, {"input": {"token": newer, "password": PASSWORD, "fullName": "W"}})
    assert "errors" not in latest, latest


async def test_a_refused_acceptance_writes_nothing_and_the_token_still_works(
    gql: GraphQL, mail_dir: Path, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Careful Studio")
    address = _address()
    await gql(INVITE, {"input": {"email": address, "role": "MEMBER"}}, token=owner["token"])
    token = await invitation_token(mail_dir, address)
    weak = await gql(
        ACCEPT, {"input": {"token": token, "password": "password1234", "fullName": "W"}}
    )
    assert error_codes(weak) == ["BAD_USER_INPUT"]
    nameless = await gql(ACCEPT, {"input": {"token": token, "password": PASSWORD}})
    assert error_codes(nameless) == ["BAD_USER_INPUT"]
    assert _users_with(superuser, address) == 0
    good = await gql(ACCEPT, {"input": {"token": token, "password": PASSWORD, "fullName": "W"}})
    assert "errors" not in good, good


async def test_only_owners_and_admins_invite_and_never_an_owner(
    gql: GraphQL, mail_dir: Path
) -> None:
    owner = await sign_up(gql, "Guarded Studio")
    member = await invite_and_accept(gql, mail_dir, owner["token"], role="MEMBER")
    by_member = await gql(
        INVITE, {"input": {"email": _address(), "role": "VIEWER"}}, token=member["token"]
    )
    assert error_codes(by_member) == ["FORBIDDEN"]
    as_owner = await gql(
        INVITE, {"input": {"email": _address(), "role": "OWNER"}}, token=owner["token"]
    )
    assert error_codes(as_owner) == ["BAD_USER_INPUT"]

    admin = await invite_and_accept(gql, mail_dir, owner["token"], role="ADMIN")
    by_admin = await gql(
        INVITE, {"input": {"email": _address(), "role": "ADMIN"}}, token=admin["token"]
    )
    assert "errors" not in by_admin, by_admin
    unauthenticated = await gql(INVITE, {"input": {"email": _address(), "role": "VIEWER"}})
    assert error_codes(unauthenticated) == ["UNAUTHENTICATED"]


async def test_client_profiles_of_an_invitation_must_exist_in_the_tenant(
    gql: GraphQL, mail_dir: Path
) -> None:
    owner = await sign_up(gql, "Scoped Studio")
    other = await sign_up(gql, "Other Studio")
    theirs = await create_profile(gql, other["token"], "Not Yours")
    missing = "cli_" + uuid.uuid4().hex
    for profile_id in (theirs["id"], missing):
        refused = await gql(
            INVITE,
            {"input": {"email": _address(), "role": "MEMBER", "clientProfileIds": [profile_id]}},
            token=owner["token"],
        )
        assert error_codes(refused) == ["NOT_FOUND"]
    # A seat limited to one profile invites only into it, never into everything.
    mine = await create_profile(gql, owner["token"], "Mine")
    hidden = await create_profile(gql, owner["token"], "Hidden")
    admin = await invite_and_accept(
        gql, mail_dir, owner["token"], role="ADMIN", client_profile_ids=[mine["id"]]
    )
    unscoped = await gql(
        INVITE, {"input": {"email": _address(), "role": "MEMBER"}}, token=admin["token"]
    )
    assert error_codes(unscoped) == ["FORBIDDEN"]
    beyond = await gql(
        INVITE,
        {"input": {"email": _address(), "role": "MEMBER", "clientProfileIds": [hidden["id"]]}},
        token=admin["token"],
    )
    assert error_codes(beyond) == ["NOT_FOUND"]


async def test_an_existing_user_accepts_with_their_own_password(
    gql: GraphQL, app: Starlette, mail_dir: Path
) -> None:
    host = await sign_up(gql, "Host Studio")
    elsewhere = await sign_up(gql, "Home Studio")
    await gql(
        INVITE, {"input": {"email": elsewhere["email"], "role": "ADMIN"}}, token=host["token"]
    )
    token = await invitation_token(mail_dir, elsewhere["email"])
    # A wrong password from an address of its own (failures are counted per address).
    async with client_from(app, "192.0.2.41", "audora-tests/1.0") as client:
        wrong = await GraphQL(client)(
            ACCEPT, {"input": {"token": token, "password": "not the right one", "fullName": "X"}}
        )
    assert error_codes(wrong) == ["UNAUTHENTICATED"]
    joined = await gql(ACCEPT, {"input": {"token": token, "password": PASSWORD}})
    assert "errors" not in joined, joined
    seat = joined["data"]["acceptInvitation"]
    assert seat["account"]["id"] == host["account"]["id"]
    # The user keeps their name and password, and their first account.
    assert (seat["user"]["fullName"], seat["user"]["role"]) == ("Olive Owner", "ADMIN")
    still = await gql(
        "mutation($i: LogInInput!) { logIn(input: $i) { account { id } } }",
        {"i": {"email": elsewhere["email"], "password": PASSWORD}},
    )
    assert still["data"]["logIn"]["account"]["id"] == elsewhere["account"]["id"]


async def test_an_existing_user_with_a_second_factor_accepts_only_while_signed_in(
    gql: GraphQL, mail_dir: Path, clock: FrozenClock
) -> None:
    host = await sign_up(gql, "Second Factor Host")
    guarded = await sign_up(gql, "Guarded Home")
    enrolled = await gql("mutation { enrollTotp { secret } }", token=guarded["token"])
    secret = enrolled["data"]["enrollTotp"]["secret"]
    code = pyotp.TOTP(secret).at(clock.now())
    confirmed = await gql(
        "mutation($c: String!) { confirmTotp(code: $c) { recoveryCodes } }",
        {"c": code},
        token=guarded["token"],
    )
    assert "errors" not in confirmed, confirmed
    await gql(INVITE, {"input": {"email": guarded["email"], "role": "MEMBER"}}, token=host["token"])
    token = await invitation_token(mail_dir, guarded["email"])
    bare = await gql(ACCEPT, {"input": {"token": token, "password": PASSWORD}})
    assert error_codes(bare) == ["MFA_REQUIRED"]
    signed_in = await gql(
        ACCEPT, {"input": {"token": token, "password": PASSWORD}}, token=guarded["token"]
    )
    assert "errors" not in signed_in, signed_in
    assert signed_in["data"]["acceptInvitation"]["account"]["id"] == host["account"]["id"]


async def test_invitations_must_be_alone_in_their_mutation(gql: GraphQL) -> None:
    owner = await sign_up(gql, "Alone Studio")
    both = await gql(
        'mutation { a: inviteMember(input: {email: "a@example.com", role: MEMBER}) { id } logOut }',
        token=owner["token"],
    )
    assert error_codes(both) == ["BAD_USER_INPUT"]
    assert "only field" in both["errors"][0]["message"]


async def test_an_invitation_that_cannot_be_emailed_is_not_kept(
    gql: GraphQL, app: Starlette, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Offline Studio")
    runtime = app.state.runtime
    working = runtime.mail
    runtime.mail = MailSender(dead_url(runtime.settings.smtp_url), runtime.settings.mail_from)
    address = _address()
    try:
        failed = await gql(
            INVITE, {"input": {"email": address, "role": "MEMBER"}}, token=owner["token"]
        )
    finally:
        runtime.mail = working
    assert error_codes(failed) == ["INTERNAL"]
    with superuser.connect() as conn:
        kept = conn.execute(
            text("SELECT count(*) FROM platform.invitations WHERE email = :e"), {"e": address}
        ).scalar_one()
    assert kept == 0

"""Members: owners and admins change and remove seats under the rules of
tenants/identity/members.py; each change is audited with who, whom, before and after."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from audora.platform.runtime import Runtime
from audora.platform.stack.embedded import EmbeddedStack
from audora.tenants.identity import members as members_service

from audora_testing import (
    INVITE,
    GraphQL,
    create_profile,
    error_codes,
    invite_and_accept,
    schema_of,
    seat,
    sign_up,
)

MEMBERS = "{ members { user { id email fullName } role clientProfileIds joinedAt } }"
UPDATE = """
mutation($input: UpdateMemberInput!) {
  updateMember(input: $input) { user { id } role clientProfileIds }
}
"""
REMOVE = "mutation($id: ID!) { removeMember(userId: $id) }"


@pytest.fixture
def mail_dir(stack: EmbeddedStack) -> Path:
    return stack.data_dir / "mail"


def _member_events(superuser: Engine, account_id: str) -> list[dict[str, Any]]:
    with superuser.connect() as conn:
        rows = conn.execute(
            text(
                f"SELECT actor, action, target, ip, details FROM {schema_of(account_id)}"
                ".audit_events WHERE action LIKE 'member.%' ORDER BY seq"
            )
        ).mappings()
        return [dict(row) for row in rows]


def _hex(public_id: str) -> str:
    return str(uuid.UUID(hex=public_id.split("_", 1)[1]))


async def _update(gql: GraphQL, token: str, **input: Any) -> dict[str, Any]:
    return await gql(UPDATE, {"input": input}, token=token)


async def test_members_lists_every_seat_with_its_role_scope_and_join_date(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Listing Studio")
    profile = await create_profile(gql, owner["token"], "Client")
    viewer = await seat(gql, runtime, superuser, owner, "VIEWER", [profile["id"]])
    listed = await gql(MEMBERS, token=viewer.token)
    assert "errors" not in listed, listed
    members = listed["data"]["members"]
    assert [(m["user"]["id"], m["role"], m["clientProfileIds"]) for m in members] == [
        (owner["user"]["id"], "OWNER", None),
        (viewer.user_id, "VIEWER", [profile["id"]]),
    ]
    assert members[0]["user"]["email"] == owner["email"]
    assert members[0]["user"]["fullName"] == "Olive Owner"
    assert members[0]["joinedAt"] <= members[1]["joinedAt"]
    other = await sign_up(gql, "Other Studio")
    assert viewer.user_id not in str(await gql(MEMBERS, token=other["token"]))


async def test_an_owner_changes_a_seat_and_the_change_is_audited_with_before_and_after(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Auditing Studio")
    p1 = await create_profile(gql, owner["token"], "One")
    p2 = await create_profile(gql, owner["token"], "Two")
    member = await seat(gql, runtime, superuser, owner, "MEMBER", [p1["id"]])

    changed = await _update(
        gql, owner["token"], userId=member.user_id, role="VIEWER", clientProfileIds=[p2["id"]]
    )
    assert changed == {
        "data": {
            "updateMember": {
                "user": {"id": member.user_id},
                "role": "VIEWER",
                "clientProfileIds": [p2["id"]],
            }
        }
    }
    (event,) = _member_events(superuser, owner["account"]["id"])
    assert event["action"] == "member.updated"
    assert event["actor"] == f"user:{_hex(owner['user']['id'])}"
    assert event["target"] == f"user:{_hex(member.user_id)}"
    assert event["ip"] is not None
    assert event["details"]["email"] == member.email
    assert event["details"]["before"] == {"role": "MEMBER", "clientProfileIds": [_hex(p1["id"])]}
    assert event["details"]["after"] == {"role": "VIEWER", "clientProfileIds": [_hex(p2["id"])]}
    chain = await gql("{ me { user { id } } }", token=owner["token"])
    assert "errors" not in chain

    # A change that changes nothing writes nothing.
    again = await _update(gql, owner["token"], userId=member.user_id, role="VIEWER")
    assert again["data"]["updateMember"]["clientProfileIds"] == [p2["id"]]
    assert len(_member_events(superuser, owner["account"]["id"])) == 1


async def test_leaving_client_profile_ids_out_keeps_the_scope_and_null_opens_it(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Keeping Studio")
    profile = await create_profile(gql, owner["token"], "One")
    member = await seat(gql, runtime, superuser, owner, "MEMBER", [profile["id"]])
    kept = await _update(gql, owner["token"], userId=member.user_id, role="VIEWER")
    assert kept["data"]["updateMember"]["clientProfileIds"] == [profile["id"]]
    opened = await _update(gql, owner["token"], userId=member.user_id, clientProfileIds=None)
    assert opened["data"]["updateMember"] == {
        "user": {"id": member.user_id},
        "role": "VIEWER",
        "clientProfileIds": None,
    }
    emptied = await _update(gql, owner["token"], userId=member.user_id, clientProfileIds=[])
    assert emptied["data"]["updateMember"]["clientProfileIds"] == []
    assert (await gql("{ clientProfiles { id } }", token=member.token))["data"] == {
        "clientProfiles": []
    }


async def test_owners_and_admins_are_never_scoped(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Unscoped Studio")
    profile = await create_profile(gql, owner["token"], "One")
    member = await seat(gql, runtime, superuser, owner, "MEMBER", [profile["id"]])
    refused = await _update(
        gql, owner["token"], userId=member.user_id, role="ADMIN", clientProfileIds=[profile["id"]]
    )
    assert error_codes(refused) == ["BAD_USER_INPUT"]
    assert refused["errors"][0]["extensions"]["field"] == "clientProfileIds"
    promoted = await _update(gql, owner["token"], userId=member.user_id, role="ADMIN")
    assert promoted["data"]["updateMember"]["clientProfileIds"] is None
    scoping = await _update(
        gql, owner["token"], userId=member.user_id, clientProfileIds=[profile["id"]]
    )
    assert error_codes(scoping) == ["BAD_USER_INPUT"]
    assert len(_member_events(superuser, owner["account"]["id"])) == 1


async def test_only_owners_and_admins_manage_members(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Managing Studio")
    member = await seat(gql, runtime, superuser, owner, "MEMBER")
    viewer = await seat(gql, runtime, superuser, owner, "VIEWER")
    for actor in (member, viewer):
        update = await _update(gql, actor.token, userId=viewer.user_id, role="MEMBER")
        assert error_codes(update) == ["FORBIDDEN"]
        assert error_codes(await gql(REMOVE, {"id": viewer.user_id}, token=actor.token)) == [
            "FORBIDDEN"
        ]
    admin = await seat(gql, runtime, superuser, owner, "ADMIN")
    assert "errors" not in await _update(gql, admin.token, userId=viewer.user_id, role="MEMBER")
    assert await gql(REMOVE, {"id": member.user_id}, token=admin.token) == {
        "data": {"removeMember": True}
    }


async def test_an_admin_can_neither_change_nor_remove_an_owner_nor_make_one(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Admin Limits Studio")
    admin = await seat(gql, runtime, superuser, owner, "ADMIN")
    member = await seat(gql, runtime, superuser, owner, "MEMBER")
    demote = await _update(gql, admin.token, userId=owner["user"]["id"], role="ADMIN")
    assert error_codes(demote) == ["FORBIDDEN"]
    assert error_codes(await gql(REMOVE, {"id": owner["user"]["id"]}, token=admin.token)) == [
        "FORBIDDEN"
    ]
    crown = await _update(gql, admin.token, userId=member.user_id, role="OWNER")
    assert error_codes(crown) == ["FORBIDDEN"]
    assert _member_events(superuser, owner["account"]["id"]) == []
    # An owner may make another owner, and change that one afterwards.
    made = await _update(gql, owner["token"], userId=member.user_id, role="OWNER")
    assert made["data"]["updateMember"]["role"] == "OWNER"
    back = await _update(gql, owner["token"], userId=member.user_id, role="MEMBER")
    assert back["data"]["updateMember"]["role"] == "MEMBER"


async def test_nobody_changes_their_own_role_or_removes_themselves(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Self Studio")
    admin = await seat(gql, runtime, superuser, owner, "ADMIN")
    for who, role in ((owner["user"]["id"], "ADMIN"), (admin.user_id, "OWNER")):
        token = owner["token"] if who == owner["user"]["id"] else admin.token
        assert error_codes(await _update(gql, token, userId=who, role=role)) == ["FORBIDDEN"]
        assert error_codes(await gql(REMOVE, {"id": who}, token=token)) == ["FORBIDDEN"]
    roles = [m["role"] for m in (await gql(MEMBERS, token=owner["token"]))["data"]["members"]]
    assert roles == ["OWNER", "ADMIN"]


async def test_the_last_owner_stays_an_owner_even_when_two_owners_demote_each_other_at_once(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Two Owners Studio")
    second = await seat(gql, runtime, superuser, owner, "OWNER")
    results = await asyncio.gather(
        _update(gql, owner["token"], userId=second.user_id, role="ADMIN"),
        _update(gql, second.token, userId=owner["user"]["id"], role="ADMIN"),
    )
    assert sorted(str(error_codes(r)) for r in results) == ["['FORBIDDEN']", "[]"]
    roles = [m["role"] for m in (await gql(MEMBERS, token=owner["token"]))["data"]["members"]]
    assert sorted(roles) == ["ADMIN", "OWNER"]
    assert len(_member_events(superuser, owner["account"]["id"])) == 1


async def test_another_tenants_user_is_not_found_like_a_missing_one(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Home Studio")
    stranger = await sign_up(gql, "Stranger Studio")
    missing = f"usr_{uuid.uuid4().hex}"

    def attempts(user_id: str) -> list[tuple[str, dict[str, Any]]]:
        return [
            (UPDATE, {"input": {"userId": user_id, "role": "VIEWER"}}),
            (REMOVE, {"id": user_id}),
        ]

    for (query, theirs), (_, absent) in zip(
        attempts(stranger["user"]["id"]), attempts(missing), strict=True
    ):
        answer = await gql(query, theirs, token=owner["token"])
        assert error_codes(answer) == ["NOT_FOUND"]
        assert answer["errors"][0]["message"] == "member not found"
        assert answer == await gql(query, absent, token=owner["token"])
    assert error_codes(await gql(REMOVE, {"id": "usr_nope"}, token=owner["token"])) == [
        "BAD_USER_INPUT"
    ]
    me = await gql("{ me { user { role } } }", token=stranger["token"])
    assert me["data"]["me"]["user"]["role"] == "OWNER"


async def test_a_seats_client_profiles_must_exist_in_the_tenant(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Profiles Studio")
    stranger = await sign_up(gql, "Profiles Stranger")
    theirs = await create_profile(gql, stranger["token"], "Theirs")
    member = await seat(gql, runtime, superuser, owner, "MEMBER")
    for ids in ([theirs["id"]], [f"cli_{uuid.uuid4().hex}"]):
        result = await _update(gql, owner["token"], userId=member.user_id, clientProfileIds=ids)
        assert error_codes(result) == ["NOT_FOUND"]
        assert result["errors"][0]["message"] == "client profile not found"
    malformed = await _update(gql, owner["token"], userId=member.user_id, clientProfileIds=["x"])
    assert error_codes(malformed) == ["BAD_USER_INPUT"]
    assert _member_events(superuser, owner["account"]["id"]) == []


async def test_removing_a_member_ends_their_sessions_and_invitations_and_is_audited(
    gql: GraphQL, runtime: Runtime, superuser: Engine, mail_dir: Path
) -> None:
    owner = await sign_up(gql, "Removal Studio")
    admin = await invite_and_accept(gql, mail_dir, owner["token"], role="ADMIN")
    invited = await gql(
        INVITE,
        {"input": {"email": f"pending-{uuid.uuid4().hex[:8]}@example.com", "role": "VIEWER"}},
        token=admin["token"],
    )
    assert "errors" not in invited, invited
    assert await gql(REMOVE, {"id": admin["user"]["id"]}, token=owner["token"]) == {
        "data": {"removeMember": True}
    }
    assert error_codes(await gql(MEMBERS, token=admin["token"])) == ["UNAUTHENTICATED"]
    with superuser.connect() as conn:
        live = conn.execute(
            text(
                "SELECT count(*) FROM platform.sessions WHERE user_id = :u AND revoked_at IS NULL"
            ),
            {"u": _hex(admin["user"]["id"])},
        ).scalar_one()
        pending = conn.execute(
            text("SELECT revoked_at FROM platform.invitations WHERE id = :i"),
            {"i": _hex(invited["data"]["inviteMember"]["id"])},
        ).scalar_one()
    assert live == 0
    assert pending is not None
    (event,) = _member_events(superuser, owner["account"]["id"])
    assert event["action"] == "member.removed"
    assert event["actor"] == f"user:{_hex(owner['user']['id'])}"
    assert event["target"] == f"user:{_hex(admin['user']['id'])}"
    assert event["details"]["before"] == {"role": "ADMIN", "clientProfileIds": None}
    assert event["details"]["after"] is None
    assert len(event["details"]["sessionsEnded"]) == 1
    assert event["details"]["invitationsWithdrawn"] == [_hex(invited["data"]["inviteMember"]["id"])]
    members = (await gql(MEMBERS, token=owner["token"]))["data"]["members"]
    assert [m["user"]["id"] for m in members] == [owner["user"]["id"]]
    again = await gql(REMOVE, {"id": admin["user"]["id"]}, token=owner["token"])
    assert error_codes(again) == ["NOT_FOUND"]


async def test_member_changes_must_be_alone_in_their_mutation(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Alone Studio")
    member = await seat(gql, runtime, superuser, owner, "MEMBER")
    result = await gql(
        'mutation($id: ID!) { removeMember(userId: $id) createClientProfile(input: {name: "x"}) '
        "{ id } }",
        {"id": member.user_id},
        token=owner["token"],
    )
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert "only field" in result["errors"][0]["message"]
    assert len((await gql(MEMBERS, token=owner["token"]))["data"]["members"]) == 2


async def test_a_change_whose_audit_entry_cannot_be_written_is_not_kept(
    gql: GraphQL, runtime: Runtime, superuser: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await sign_up(gql, "Unaudited Studio")
    member = await seat(gql, runtime, superuser, owner, "MEMBER")

    async def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(members_service, "append_alone", broken)
    changed = await _update(gql, owner["token"], userId=member.user_id, role="ADMIN")
    removed = await gql(REMOVE, {"id": member.user_id}, token=owner["token"])
    monkeypatch.undo()
    assert error_codes(changed) == ["INTERNAL"]
    assert error_codes(removed) == ["INTERNAL"]
    listed = (await gql(MEMBERS, token=member.token))["data"]["members"]
    assert [m["role"] for m in listed] == ["OWNER", "MEMBER"]

"""A12: a seat scoped to some client profiles sees only those and what hangs under them,
by every path; outside its scope is NOT_FOUND exactly like a missing object. A change
of the seat (scope, role, removal) applies from its very next request."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from audora.platform.db.tenant_binding import TenantRef, tenant_transaction
from audora.platform.db.tenant_names import validate_tenant_schema
from audora.platform.runtime import Runtime
from audora.tenants.calls.content import (
    DocumentKind,
    Segment,
    Transcript,
    store_document,
    store_transcript,
)

from audora_testing import (
    CONSENT,
    CREATE_UPLOAD,
    GraphQL,
    Seat,
    create_call,
    create_profile,
    error_codes,
    raw_id,
    schema_of,
    seat,
    sign_up,
    upload_path,
    wav_bytes,
)

PROFILE = "query($id: ID!) { clientProfile(id: $id) { id name } }"
PROFILES = "{ clientProfiles { id } }"
CALLS = "query($id: ID!) { calls(clientProfileId: $id) { id } }"
CALL = "query($id: ID!) { call(id: $id) { id title } }"
CALL_CONTENT = """
query($id: ID!) { call(id: $id) { transcript { text } documents { kind markdown } } }
"""
CREATE_CALL = """
mutation($input: CreateCallInput!) { createCall(input: $input) { id } }
"""
UPDATE_PROFILE = """
mutation($id: ID!) { updateClientProfile(input: {id: $id, name: "Mine now"}) { id } }
"""
UPDATE_MEMBER = """
mutation($input: UpdateMemberInput!) { updateMember(input: $input) { role clientProfileIds } }
"""
REMOVE_MEMBER = "mutation($id: ID!) { removeMember(userId: $id) }"
BUDGET = "query($id: ID!) { clientProfile(id: $id) { name budget } }"


def _missing(kind: str) -> str:
    return f"{kind}_{uuid.uuid4().hex}"


async def _with_content(runtime: Runtime, account_id: str, call_id: str, marker: str) -> None:
    tenant = TenantRef(validate_tenant_schema(schema_of(account_id)))
    async with tenant_transaction(runtime.tenant_engines, tenant) as uow:
        await store_transcript(
            uow,
            runtime.keys,
            raw_id(account_id),
            raw_id(call_id),
            Transcript(f"transcript {marker}", (Segment(0.0, 1.0, "Client", marker),)),
        )
        await store_document(
            uow,
            runtime.keys,
            raw_id(account_id),
            raw_id(call_id),
            DocumentKind.SOW,
            "SOW",
            f"# SOW {marker}",
        )
        await uow.commit()


@pytest.fixture(scope="module")
async def agency(gql: GraphQL, runtime: Runtime, superuser: Engine) -> dict[str, Any]:
    """An owner, profiles P1 and P2 with a call each (with a transcript and a document),
    and a MEMBER seat scoped to P1."""
    owner = await sign_up(gql, "Scoped Agency")
    p1 = await create_profile(gql, owner["token"], "Client One", budget="10k EUR")
    p2 = await create_profile(gql, owner["token"], "Client Two", budget="99k EUR")
    c1 = await create_call(gql, owner["token"], p1["id"], "P1 kickoff")
    c2 = await create_call(gql, owner["token"], p2["id"], "P2 kickoff")
    await _with_content(runtime, owner["account"]["id"], c1, "P1-CONTENT")
    await _with_content(runtime, owner["account"]["id"], c2, "P2-SECRET")
    scoped = await seat(gql, runtime, superuser, owner, "MEMBER", [p1["id"]])
    return {"owner": owner, "p1": p1["id"], "p2": p2["id"], "c1": c1, "c2": c2, "seat": scoped}


async def _same_as_missing(
    gql: GraphQL, token: str, query: str, variables: dict[str, Any], missing: dict[str, Any]
) -> dict[str, Any]:
    """The answer to `variables`, asserted identical to the answer for a missing id."""
    result = await gql(query, variables, token=token)
    assert error_codes(result) == ["NOT_FOUND"], result
    assert result == await gql(query, missing, token=token)
    return result


async def test_a_scoped_seat_reaches_its_own_profile_call_and_content(
    gql: GraphQL, agency: dict[str, Any]
) -> None:
    token = agency["seat"].token
    assert (await gql(PROFILE, {"id": agency["p1"]}, token=token))["data"]["clientProfile"]
    assert (await gql(CALLS, {"id": agency["p1"]}, token=token))["data"]["calls"] == [
        {"id": agency["c1"]}
    ]
    content = await gql(CALL_CONTENT, {"id": agency["c1"]}, token=token)
    assert "errors" not in content, content
    assert content["data"]["call"]["transcript"]["text"] == "transcript P1-CONTENT"


async def test_a_scoped_seat_gets_not_found_for_another_profile_exactly_like_a_missing_one(
    gql: GraphQL, agency: dict[str, Any]
) -> None:
    result = await _same_as_missing(
        gql,
        agency["seat"].token,
        PROFILE,
        {"id": agency["p2"]},
        {"id": _missing("cli")},
    )
    assert result["errors"][0]["message"] == "client profile not found"
    assert "Client Two" not in str(result)


async def test_a_scoped_seat_lists_only_its_profiles(gql: GraphQL, agency: dict[str, Any]) -> None:
    listed = await gql(PROFILES, token=agency["seat"].token)
    assert listed == {"data": {"clientProfiles": [{"id": agency["p1"]}]}}
    everything = await gql(PROFILES, token=agency["owner"]["token"])
    assert len(everything["data"]["clientProfiles"]) == 2


async def test_a_scoped_seat_cannot_list_the_calls_of_another_profile(
    gql: GraphQL, agency: dict[str, Any]
) -> None:
    result = await _same_as_missing(
        gql, agency["seat"].token, CALLS, {"id": agency["p2"]}, {"id": _missing("cli")}
    )
    assert agency["c2"] not in str(result)


async def test_a_scoped_seat_cannot_read_a_call_its_transcript_or_documents_out_of_scope(
    gql: GraphQL, agency: dict[str, Any]
) -> None:
    token = agency["seat"].token
    result = await _same_as_missing(gql, token, CALL, {"id": agency["c2"]}, {"id": _missing("cal")})
    assert result["errors"][0]["message"] == "call not found"
    content = await _same_as_missing(
        gql, token, CALL_CONTENT, {"id": agency["c2"]}, {"id": _missing("cal")}
    )
    assert "P2-SECRET" not in str(content)


async def test_a_scoped_seat_cannot_create_a_call_under_another_profile(
    gql: GraphQL, agency: dict[str, Any], superuser: Engine
) -> None:
    def variables(profile_id: str) -> dict[str, Any]:
        return {"input": {"clientProfileId": profile_id, "title": "Sneaky", "consent": CONSENT}}

    await _same_as_missing(
        gql, agency["seat"].token, CREATE_CALL, variables(agency["p2"]), variables(_missing("cli"))
    )
    listed = await gql(CALLS, {"id": agency["p2"]}, token=agency["owner"]["token"])
    assert listed["data"]["calls"] == [{"id": agency["c2"]}]


async def test_a_scoped_seat_gets_no_upload_url_for_a_call_out_of_scope(
    gql: GraphQL, agency: dict[str, Any]
) -> None:
    await _same_as_missing(
        gql,
        agency["seat"].token,
        CREATE_UPLOAD,
        {"callId": agency["c2"]},
        {"callId": _missing("cal")},
    )


async def test_a_scoped_seat_cannot_change_another_profile(
    gql: GraphQL, agency: dict[str, Any]
) -> None:
    await _same_as_missing(
        gql, agency["seat"].token, UPDATE_PROFILE, {"id": agency["p2"]}, {"id": _missing("cli")}
    )
    name = await gql(PROFILE, {"id": agency["p2"]}, token=agency["owner"]["token"])
    assert name["data"]["clientProfile"]["name"] == "Client Two"


async def test_a_scoped_seat_sees_other_seats_scopes_only_within_its_own(
    gql: GraphQL, runtime: Runtime, superuser: Engine, agency: dict[str, Any]
) -> None:
    both = await seat(
        gql, runtime, superuser, agency["owner"], "VIEWER", [agency["p1"], agency["p2"]]
    )
    listed = await gql("{ members { user { id } clientProfileIds } }", token=agency["seat"].token)
    scopes = {m["user"]["id"]: m["clientProfileIds"] for m in listed["data"]["members"]}
    assert scopes[both.user_id] == [agency["p1"]]
    assert agency["p2"] not in str(listed)


async def _scoped_account(
    gql: GraphQL, runtime: Runtime, superuser: Engine, name: str
) -> tuple[dict[str, Any], str, str, Seat]:
    owner = await sign_up(gql, name)
    p1 = (await create_profile(gql, owner["token"], "One"))["id"]
    p2 = (await create_profile(gql, owner["token"], "Two"))["id"]
    return owner, p1, p2, await seat(gql, runtime, superuser, owner, "MEMBER", [p1, p2])


async def test_taking_a_profile_out_of_a_seat_applies_to_its_very_next_request(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner, p1, p2, member = await _scoped_account(gql, runtime, superuser, "Narrowing Studio")
    call_id = await create_call(gql, member.token, p1, "Before")
    assert "errors" not in await gql(PROFILE, {"id": p1}, token=member.token)

    changed = await gql(
        UPDATE_MEMBER,
        {"input": {"userId": member.user_id, "clientProfileIds": [p2]}},
        token=owner["token"],
    )
    assert changed == {"data": {"updateMember": {"role": "MEMBER", "clientProfileIds": [p2]}}}

    assert error_codes(await gql(PROFILE, {"id": p1}, token=member.token)) == ["NOT_FOUND"]
    assert (await gql(PROFILES, token=member.token))["data"]["clientProfiles"] == [{"id": p2}]
    assert error_codes(await gql(CALLS, {"id": p1}, token=member.token)) == ["NOT_FOUND"]
    assert error_codes(await gql(CALL, {"id": call_id}, token=member.token)) == ["NOT_FOUND"]


async def test_an_upload_url_handed_out_before_a_seat_changed_is_judged_by_the_seat_now(
    gql: GraphQL, api: httpx.AsyncClient, runtime: Runtime, superuser: Engine
) -> None:
    owner, p1, p2, member = await _scoped_account(gql, runtime, superuser, "Late Upload Studio")
    narrowed_call = await create_call(gql, member.token, p1, "Narrowed")
    demoted_call = await create_call(gql, member.token, p2, "Demoted")
    narrowed_url = await upload_path(gql, member.token, narrowed_call)
    demoted_url = await upload_path(gql, member.token, demoted_call)
    audio = {"content": wav_bytes(b"\0" * 2048), "headers": {"content-type": "audio/wav"}}

    await gql(
        UPDATE_MEMBER,
        {"input": {"userId": member.user_id, "clientProfileIds": [p2]}},
        token=owner["token"],
    )
    out_of_scope = await api.put(narrowed_url, **audio)
    assert out_of_scope.status_code == 404, out_of_scope.text
    assert out_of_scope.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"

    await gql(
        UPDATE_MEMBER, {"input": {"userId": member.user_id, "role": "VIEWER"}}, token=owner["token"]
    )
    demoted = await api.put(demoted_url, **audio)
    assert demoted.status_code == 403, demoted.text
    assert demoted.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    statuses = [
        (await gql(CALL.replace("title", "status"), {"id": c}, token=owner["token"]))["data"]
        for c in (narrowed_call, demoted_call)
    ]
    expected = [{"id": c, "status": "AWAITING_RECORDING"} for c in (narrowed_call, demoted_call)]
    assert statuses == [{"call": e} for e in expected]


async def test_demoting_an_admin_to_viewer_applies_to_the_next_request(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Demoting Studio")
    profile = await create_profile(gql, owner["token"], "Client", budget="75k EUR")
    admin = await seat(gql, runtime, superuser, owner, "ADMIN")
    seen = await gql(BUDGET, {"id": profile["id"]}, token=admin.token)
    assert seen == {"data": {"clientProfile": {"name": "Client", "budget": "75k EUR"}}}

    demoted = await gql(
        UPDATE_MEMBER, {"input": {"userId": admin.user_id, "role": "VIEWER"}}, token=owner["token"]
    )
    assert demoted == {"data": {"updateMember": {"role": "VIEWER", "clientProfileIds": None}}}

    seen = await gql(BUDGET, {"id": profile["id"]}, token=admin.token)
    assert seen["data"] == {"clientProfile": {"name": "Client", "budget": None}}
    assert error_codes(seen) == ["FORBIDDEN"]
    assert seen["errors"][0]["path"] == ["clientProfile", "budget"]
    me = await gql("{ me { user { role } } }", token=admin.token)
    assert me["data"]["me"]["user"]["role"] == "VIEWER"
    write = await gql(
        'mutation { createClientProfile(input: {name: "No"}) { id } }', token=admin.token
    )
    assert error_codes(write) == ["FORBIDDEN"]
    manage = await gql(REMOVE_MEMBER, {"id": owner["user"]["id"]}, token=admin.token)
    assert error_codes(manage) == ["FORBIDDEN"]


async def test_a_removed_members_token_is_unauthenticated_at_once(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner, p1, _, member = await _scoped_account(gql, runtime, superuser, "Removing Studio")
    assert "errors" not in await gql(PROFILE, {"id": p1}, token=member.token)
    removed = await gql(REMOVE_MEMBER, {"id": member.user_id}, token=owner["token"])
    assert removed == {"data": {"removeMember": True}}
    for query, variables in ((PROFILE, {"id": p1}), ("{ me { user { id } } }", {})):
        assert error_codes(await gql(query, variables, token=member.token)) == ["UNAUTHENTICATED"]

"""A1: the permission matrix, enforced at execution. A field marked `@requires` answers
null with a FORBIDDEN error whose path names it, and the rest of the query answers; a
mutation the role may not run keeps nothing."""

from __future__ import annotations

from sqlalchemy import Engine

from audora.platform.runtime import Runtime

from audora_testing import (
    GraphQL,
    create_call,
    create_profile,
    error_codes,
    seat,
    sign_up,
)


async def test_a_viewer_gets_null_and_forbidden_on_a_budget_while_the_rest_answers(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Field Rules")
    profile = await create_profile(gql, owner["token"], "Client", notes="n", budget="40k EUR")
    viewer = (await seat(gql, runtime, superuser, owner, "VIEWER")).token
    result = await gql(
        "query($id: ID!) { clientProfile(id: $id) { name notes budget } }",
        {"id": profile["id"]},
        token=viewer,
    )
    assert result["data"] == {"clientProfile": {"name": "Client", "notes": "n", "budget": None}}
    assert error_codes(result) == ["FORBIDDEN"]
    assert result["errors"][0]["path"] == ["clientProfile", "budget"]
    assert "40k" not in str(result)
    member = (await seat(gql, runtime, superuser, owner, "MEMBER")).token
    seen = await gql(
        "query($id: ID!) { clientProfile(id: $id) { budget } }", {"id": profile["id"]}, token=member
    )
    assert seen == {"data": {"clientProfile": {"budget": "40k EUR"}}}


async def test_a_viewer_gets_no_transcript_but_the_call(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Transcript Rules")
    profile = await create_profile(gql, owner["token"], "Client")
    call_id = await create_call(gql, owner["token"], profile["id"], "Kickoff")
    viewer = (await seat(gql, runtime, superuser, owner, "VIEWER")).token
    result = await gql(
        "query($id: ID!) { call(id: $id) { title transcript { text } documents { kind } } }",
        {"id": call_id},
        token=viewer,
    )
    assert result["data"]["call"] == {"title": "Kickoff", "transcript": None, "documents": []}
    assert error_codes(result) == ["FORBIDDEN"]
    assert result["errors"][0]["path"] == ["call", "transcript"]


async def test_a_viewer_cannot_write_and_nothing_is_kept(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Write Rules")
    viewer = (await seat(gql, runtime, superuser, owner, "VIEWER")).token
    result = await gql(
        'mutation { createClientProfile(input: {name: "Sneaky"}) { id } }', token=viewer
    )
    assert error_codes(result) == ["FORBIDDEN"]
    assert result["data"] is None
    listed = await gql("{ clientProfiles { name } }", token=owner["token"])
    assert listed["data"]["clientProfiles"] == []

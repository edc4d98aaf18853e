"""The request boundary's access-log row: every request whose caller was authenticated
leaves one in its tenant's access log (who, when, from where, which operation, how it
ended), and never what it asked: no variables, no query text, no answer."""

from __future__ import annotations

from typing import Any

from documents_testing import generating_call
from socket_testing import connected
from sqlalchemy import Engine, text
from starlette.applications import Starlette

from audora.platform.runtime import Runtime

from audora_testing import (
    TEST_AGENT,
    TEST_IP,
    GraphQL,
    access_log_rows,
    error_codes,
    raw_id,
    schema_of,
    sign_up,
)

MARKER = "marker-0f4e2c-should-never-be-logged"

CREATE = """
mutation CreateProbe($input: CreateClientProfileInput!) {
  createClientProfile(input: $input) { id }
}
"""


def _whole_table(superuser: Engine, owner: dict[str, Any]) -> str:
    with superuser.connect() as conn:
        rows = conn.execute(
            text(f"SELECT t::text FROM {schema_of(owner['account']['id'])}.access_log t")
        ).scalars()
        return "\n".join(rows)


async def test_an_authenticated_request_leaves_one_row_and_none_of_its_variables(
    gql: GraphQL, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Logged Requests")
    before = len(access_log_rows(superuser, owner))
    result = await gql(
        CREATE, {"input": {"name": MARKER, "notes": MARKER, "budget": MARKER}}, token=owner["token"]
    )
    assert "errors" not in result, result
    rows = access_log_rows(superuser, owner)
    assert len(rows) == before + 1
    row = rows[-1]
    session_id = row["session_id"]
    assert row["account_id"] == raw_id(owner["account"]["id"])
    assert row["user_id"] == raw_id(owner["user"]["id"])
    assert (row["ip"], row["user_agent"]) == (TEST_IP, TEST_AGENT)
    assert (row["operation_type"], row["operation_name"], row["outcome"]) == (
        "mutation",
        "CreateProbe",
        "ok",
    )
    # A refused field is logged with its code; an anonymous operation has no name.
    refused = await gql(
        "{ clientProfiles { name } auditLog(first: 500) { edges { cursor } } }",
        token=owner["token"],
    )
    assert error_codes(refused) == ["BAD_USER_INPUT"]
    last = access_log_rows(superuser, owner)[-1]
    assert (last["operation_type"], last["operation_name"], last["outcome"]) == (
        "query",
        None,
        "BAD_USER_INPUT",
    )
    assert last["session_id"] == session_id
    # Neither the variables nor the answer are anywhere in the table.
    assert MARKER not in _whole_table(superuser, owner)


async def test_requests_without_a_valid_session_are_not_logged(
    gql: GraphQL, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Anonymous Requests")
    before = access_log_rows(superuser, owner)
    for token in (None, "aus_" + "x" * 43):
        result = await gql("{ me { user { id } } }", token=token)
        assert error_codes(result) == ["UNAUTHENTICATED"]
    assert access_log_rows(superuser, owner) == before


WATCH = """
subscription Watch($id: ID!) {
  callStatus(callId: $id) { status }
}
"""


async def test_a_subscription_leaves_one_row_when_it_answers_or_is_refused(
    app: Starlette, gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner = await generating_call(gql, runtime, "Logged Subscriptions")
    other = await generating_call(gql, runtime, "Someone Else's Call")
    before = len(access_log_rows(superuser, owner))
    async with connected(app, owner["token"]) as socket:
        assert (await socket.message())["type"] == "connection_ack"
        for n, call in ((1, owner["call_id"]), (2, other["call_id"])):
            await socket.send(
                {
                    "id": str(n),
                    "type": "subscribe",
                    "payload": {"query": WATCH, "variables": {"id": call}},
                }
            )
            assert (await socket.message())["type"] == "next"
    rows = access_log_rows(superuser, owner)[before:]
    assert [(r["operation_type"], r["operation_name"], r["outcome"]) for r in rows] == [
        ("subscription", "Watch", "ok"),
        ("subscription", "Watch", "NOT_FOUND"),
    ]
    assert {(r["ip"], r["user_agent"]) for r in rows} == {(TEST_IP, TEST_AGENT)}


async def test_a_request_whose_row_cannot_be_written_fails_and_keeps_nothing(
    gql: GraphQL, superuser: Engine
) -> None:
    # A successful request's row commits with it: no access goes unlogged. Here the
    # tenant's access log refuses every new row (a constraint the operator added).
    owner = await sign_up(gql, "Unloggable Studio")
    schema = schema_of(owner["account"]["id"])
    with superuser.begin() as conn:
        conn.execute(
            text(
                f"ALTER TABLE {schema}.access_log ADD CONSTRAINT refuses_rows "
                "CHECK (outcome = '') NOT VALID"
            )
        )
    result = await gql(
        CREATE, {"input": {"name": "Never Kept", "notes": "", "budget": ""}}, token=owner["token"]
    )
    assert error_codes(result) == ["INTERNAL"]
    with superuser.connect() as conn:
        kept = conn.execute(text(f"SELECT count(*) FROM {schema}.client_profiles")).scalar_one()
    assert kept == 0

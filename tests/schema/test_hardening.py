"""GraphQL hardening (OWASP GraphQL cheat sheet): what one request may ask for is
bounded (depth, aliases, tokens, estimated cost, time), the schema is not handed out
(introspection, "Did you mean" hints) outside dev, and nothing changes state except one
JSON operation POSTed as application/json."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from graphql import parse, validate
from socket_testing import connected
from sqlalchemy import Engine, text
from starlette.applications import Starlette

from audora.platform.config import Settings
from audora.schema.build import Limits, build_schema
from audora.schema.rules import operation_limits

from audora_testing import PASSWORD, SIGN_UP, GraphQL, error_codes, sign_up


def _messages(result: dict[str, Any]) -> str:
    return " | ".join(e["message"] for e in result.get("errors", []))


def _refused(result: dict[str, Any], phrase: str) -> None:
    assert result["data"] is None
    assert set(error_codes(result)) == {"BAD_USER_INPUT"}, result
    assert phrase in _messages(result), result


async def test_the_default_limits_are_the_documented_ones(settings: Settings) -> None:
    assert Limits.of(settings) == Limits(
        max_depth=12,
        max_aliases=15,
        max_tokens=2000,
        max_cost=5000,
        max_directives=10,
        introspection=False,
    )
    assert settings.graphql_timeout_seconds == 30


async def test_an_operation_nested_deeper_than_the_depth_limit_is_refused(gql: GraphQL) -> None:
    twelve = "{ " + "me { " * 11 + "id" + " }" * 11 + " }"
    assert "depth limit" not in _messages(await gql(twelve))  # unknown fields, but not too deep
    deep = "{ " + "me { " * 12 + "id" + " }" * 12 + " }"
    _refused(await gql(deep), "the operation nests fields 13 deep, past the depth limit of 12")
    # Nearly as deep as the parser allows (200): refused as too deep, never an internal error.
    deepest = "{ " + "a { " * 190 + "b" + " }" * 190 + " }"
    _refused(await gql(deepest), "the operation nests fields 191 deep, past the depth limit")
    # Through fragments too.
    spread = "query { me { ...F } } fragment F on Viewer { " + "a { " * 12 + "b" + " }" * 12 + " }"
    _refused(await gql(spread), "past the depth limit of 12")


async def test_empty_and_broken_selections_are_never_internal_errors(gql: GraphQL) -> None:
    assert await gql("{}") == {"data": {}}  # nothing asked, nothing answered
    for document in ("{ ...Missing }", "query { me { ... on Viewer {} } }"):
        result = await gql(document)
        assert result["data"] is None
        assert error_codes(result), document
        assert "INTERNAL" not in error_codes(result), (document, result)


async def test_more_aliases_than_the_alias_limit_are_refused(gql: GraphQL) -> None:
    fifteen = "{ " + " ".join(f"a{i}: __typename" for i in range(15)) + " }"
    assert (await gql(fifteen))["data"]["a14"] == "Query"
    sixteen = "{ " + " ".join(f"a{i}: __typename" for i in range(16)) + " }"
    _refused(await gql(sixteen), "16 aliases found. Allowed: 15")


async def test_stacked_or_too_many_directives_are_refused_with_one_error(gql: GraphQL) -> None:
    # graphql-cop's directive-overloading probe: ten unknown directives at one place
    # would otherwise cost ten validation errors.
    stacked = "query cop { __typename" + " @aa" * 10 + " }"
    for _ in range(2):
        result = await gql(stacked)
        _refused(result, "the directive @aa is repeated at one location")
        assert len(result["errors"]) == 1
    ten = "{ " + " ".join(f"a{i}: __typename @include(if: true)" for i in range(10)) + " }"
    assert (await gql(ten))["data"]["a9"] == "Query"
    eleven = "{ " + " ".join(f"f{i}: __typename @skip(if: false)" for i in range(11)) + " }"
    _refused(await gql(eleven), "carries 11 directives, past the directive limit of 10")
    fields = "{ " + " ".join(f"__typename @a{i}" for i in range(12)) + " }"
    result = await gql(fields)
    assert len(result["errors"]) == 1  # refused before validation could list each one


async def test_a_document_over_the_token_limit_is_refused_unparsed(gql: GraphQL) -> None:
    long = "{ " + "__typename " * 2001 + "}"
    _refused(await gql(long), "more than 2000 tokens")


AUDIT_PAGE = "auditLog(first: 200) { edges { cursor node { id at actor action target ip hash } } }"


async def test_an_operation_over_the_cost_limit_is_refused_before_it_runs(gql: GraphQL) -> None:
    owner = await sign_up(gql)
    one = await gql("{ " + AUDIT_PAGE + " }", token=owner["token"])
    assert "errors" not in one
    assert one["data"]["auditLog"]["edges"]
    # Each alias is another 200-event page: three of them are past the estimate's limit.
    three = "{ " + " ".join(f"p{i}: {AUDIT_PAGE}" for i in range(3)) + " }"
    _refused(await gql(three, token=owner["token"]), "exceeds the cost limit of 5000")


def test_a_list_without_first_counts_ten_times_in_the_estimate() -> None:
    schema = build_schema()._schema
    rule = operation_limits(12, 50)
    twice = "{ a: members { user { id } } b: members { user { id } } }"  # 2 * (1 + 10 * 2)
    assert validate(schema, parse(twice), [rule]) == []
    # 21 + 21 + (1 + 10 * 1)
    thrice = "{ a: members { user { id } } b: members { role joinedAt } c: members { role } }"
    assert validate(schema, parse(thrice), [rule])[0].message.startswith(
        "the operation's estimated cost 53 exceeds the cost limit of 50"
    )


async def test_introspection_is_refused_outside_dev(gql: GraphQL) -> None:
    _refused(await gql("{ __schema { types { name } } }"), "introspection")
    _refused(await gql('{ __type(name: "User") { fields { name } } }'), "introspection")
    assert (await gql("{ __typename }"))["data"] == {"__typename": "Query"}


async def test_errors_do_not_suggest_field_names_outside_dev(gql: GraphQL) -> None:
    result = await gql("{ mee { id } }")
    _refused(result, "Cannot query field 'mee'")
    assert "Did you mean" not in _messages(result)
    result = await gql("{ auditLog(frist: 1) { pageInfo { hasNextPage } } }")
    assert "Did you mean" not in _messages(result)
    assert "frist" in _messages(result)


async def test_dev_keeps_introspection_and_suggestions() -> None:
    schema = build_schema(Limits(introspection=True))
    result = await schema.execute('{ __type(name: "User") { name } }')
    assert result.errors is None
    assert result.data == {"__type": {"name": "User"}}
    result = await schema.execute("{ mee { id } }")
    assert result.errors
    assert "Did you mean 'me'?" in result.errors[0].message


async def test_a_batch_of_operations_is_refused(api: httpx.AsyncClient) -> None:
    batch = [{"query": "{ __typename }"}, {"query": "{ __typename }"}]
    response = await api.post("/graphql", json=batch)
    assert response.status_code == 400
    assert error_codes(response.json()) == ["BAD_USER_INPUT"]
    assert "batched operations" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"query=mutation+%7B+logOut+%7D", "application/x-www-form-urlencoded"),
        (
            b'--x\r\nContent-Disposition: form-data; name="query"\r\n\r\n{ __typename }\r\n--x--',
            "multipart/form-data; boundary=x",
        ),
        (b'{"query": "{ __typename }"}', "text/plain"),
    ],
)
async def test_form_posts_are_refused_as_unsupported_media(
    api: httpx.AsyncClient, body: bytes, content_type: str
) -> None:
    response = await api.post("/graphql", content=body, headers={"content-type": content_type})
    assert response.status_code == 415
    assert error_codes(response.json()) == ["BAD_USER_INPUT"]


async def test_get_never_runs_an_operation(api: httpx.AsyncClient, superuser: Engine) -> None:
    email = f"get-{uuid.uuid4().hex[:10]}@example.com"
    mutation = (
        'mutation { signUp(input: {accountName: "G", email: "'
        + email
        + '", password: "'
        + PASSWORD
        + '", fullName: "G"}) { token } }'
    )
    response = await api.get("/graphql", params={"query": mutation})
    assert response.status_code == 404  # GraphiQL only, and only in dev
    assert _users_with(superuser, email) == 0


async def test_a_body_over_the_size_limit_is_payload_too_large(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/graphql",
        content=b'{"query": "' + b" " * (256 * 1024) + b'{ __typename }"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert error_codes(response.json()) == ["PAYLOAD_TOO_LARGE"]


async def test_an_operation_past_the_time_limit_is_cancelled_and_keeps_nothing(
    api: httpx.AsyncClient, settings: Settings, superuser: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "graphql_timeout_seconds", 0.0)
    email = f"slow-{uuid.uuid4().hex[:10]}@example.com"
    variables = {
        "input": {"accountName": "Slow", "email": email, "password": PASSWORD, "fullName": "S"}
    }
    response = await api.post("/graphql", json={"query": SIGN_UP, "variables": variables})
    assert response.status_code == 503
    body = response.json()
    assert error_codes(body) == ["INTERNAL"]
    assert "time limit of 0 seconds" in body["errors"][0]["message"]
    assert _users_with(superuser, email) == 0


def _users_with(superuser: Engine, email: str) -> int:
    with superuser.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM platform.users WHERE email = :e"), {"e": email}
            ).scalar_one()
        )


async def test_the_websocket_holds_subscriptions_to_the_same_limits(
    app: Starlette, gql: GraphQL
) -> None:
    owner = await sign_up(gql)
    aliased = " ".join(f"a{i}: callId" for i in range(16))
    typo = 'subscription { callStatus(callId: "x") { calId } }'
    async with connected(app, owner["token"]) as socket:
        assert (await socket.message())["type"] == "connection_ack"
        query = f'subscription {{ callStatus(callId: "x") {{ {aliased} }} }}'
        await socket.send({"id": "1", "type": "subscribe", "payload": {"query": query}})
        refused = await socket.message()
        assert refused["type"] == "error", refused
        assert [e["extensions"]["code"] for e in refused["payload"]] == ["BAD_USER_INPUT"]
        assert "16 aliases found. Allowed: 15" in refused["payload"][0]["message"]
        await socket.send({"id": "2", "type": "subscribe", "payload": {"query": typo}})
        refused = await socket.message()
        assert refused["type"] == "error", refused
        messages = " | ".join(e["message"] for e in refused["payload"])
        assert "calId" in messages
        assert "Did you mean" not in messages

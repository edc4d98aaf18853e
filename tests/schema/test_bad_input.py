"""Bad input always gets a clear error with its code, never a 500 or a stack trace, and
nothing is half-created."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from audora.platform.config import Settings
from audora.platform.http.app import create_app

from audora_testing import (
    PASSWORD,
    SIGN_UP,
    GraphQL,
    create_profile,
    dead_url,
    error_codes,
    sign_up,
)


def _accounts(superuser: Engine) -> int:
    with superuser.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM platform.accounts")).scalar_one())


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"{not json", "application/json", 400, "BAD_USER_INPUT"),
        (b"[1, 2]", "application/json", 400, "BAD_USER_INPUT"),
        (b'{"variables": {}}', "application/json", 400, "BAD_USER_INPUT"),
        (
            b'{"query": "{ me { id } }", "variables": [1]}',
            "application/json",
            400,
            "BAD_USER_INPUT",
        ),
        (b'{"query": "{ __typename }"}', "text/plain", 415, "BAD_USER_INPUT"),
        (b"\xff\xfe", "application/json", 400, "BAD_USER_INPUT"),
    ],
)
async def test_malformed_requests_get_a_graphql_error_with_a_code(
    api: httpx.AsyncClient, body: bytes, content_type: str, status: int, code: str
) -> None:
    response = await api.post("/graphql", content=body, headers={"content-type": content_type})
    assert response.status_code == status
    assert error_codes(response.json()) == [code]


async def test_an_oversized_body_is_payload_too_large_before_it_is_parsed(
    api: httpx.AsyncClient,
) -> None:
    huge = b'{"query": "' + b" " * (300 * 1024) + b'{ __typename }"}'
    response = await api.post(
        "/graphql", content=huge, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert error_codes(response.json()) == ["PAYLOAD_TOO_LARGE"]


@pytest.mark.parametrize(
    "query",
    [
        "{ me { user { id } ",  # syntax error
        "{ nope }",  # unknown field
        "{ clientProfiles { id secretColumn } }",  # unknown nested field
        "query($id: ID!) { clientProfile(id: $id) { id } }",  # missing variable
    ],
)
async def test_invalid_graphql_is_bad_user_input(gql: GraphQL, query: str) -> None:
    assert set(error_codes(await gql(query))) == {"BAD_USER_INPUT"}


@pytest.mark.parametrize(
    "bad_id",
    ["garbage", "cli_123", "usr_" + "a" * 32, "cli_" + "A" * 32, "cli_" + "a" * 5000, ""],
)
async def test_malformed_ids_are_bad_user_input(gql: GraphQL, bad_id: str) -> None:
    owner = await _owner(gql)
    result = await gql(
        "query($id: ID!) { clientProfile(id: $id) { id } }", {"id": bad_id}, token=owner
    )
    assert error_codes(result) == ["BAD_USER_INPUT"]


_owner_token: dict[str, str] = {}


async def _owner(gql: GraphQL) -> str:
    if "token" not in _owner_token:
        _owner_token["token"] = (await sign_up(gql, "Bad Input Co"))["token"]
    return _owner_token["token"]


async def test_account_names_with_quotes_and_semicolons_are_stored_as_typed(
    gql: GraphQL, superuser: Engine
) -> None:
    name = "O'Brien & Sons\"; DROP TABLE platform.accounts; --"
    payload = await sign_up(gql, name)
    assert payload["account"]["name"] == name
    assert _accounts(superuser) >= 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("accountName", "x" * 10_000),
        ("accountName", "   "),
        ("accountName", "bell\x07"),
        ("fullName", "y" * 10_000),
        ("email", "not-an-email"),
        ("email", "a" * 300 + "@example.com"),
        ("password", "short"),
        ("password", "p" * 10_000_000),
    ],
)
async def test_bad_sign_up_input_is_refused_and_creates_nothing(
    gql: GraphQL, superuser: Engine, field: str, value: str
) -> None:
    before = _accounts(superuser)
    fields: dict[str, Any] = {
        "accountName": "Fine Name",
        "email": "fine@example.com",
        "password": PASSWORD,
        "fullName": "Fine Person",
    }
    fields[field] = value
    result = await gql(SIGN_UP, {"input": fields})
    assert error_codes(result) in (["BAD_USER_INPUT"], ["PAYLOAD_TOO_LARGE"])
    assert _accounts(superuser) == before


async def test_a_second_sign_up_with_the_same_email_is_a_conflict(
    gql: GraphQL, superuser: Engine
) -> None:
    first = await sign_up(gql)
    before = _accounts(superuser)
    again = await gql(
        SIGN_UP,
        {
            "input": {
                "accountName": "Copycat",
                "email": first["email"],
                "password": PASSWORD,
                "fullName": "Copy Cat",
            }
        },
    )
    assert error_codes(again) == ["CONFLICT"]
    assert _accounts(superuser) == before


async def test_a_mutation_that_fails_anywhere_writes_nothing(gql: GraphQL) -> None:
    token = (await sign_up(gql, "All Or Nothing"))["token"]
    result = await gql(
        """mutation {
          good: createClientProfile(input: {name: "Kept?"}) { id }
          bad: createClientProfile(input: {name: "", budget: "1"}) { id }
        }""",
        token=token,
    )
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["data"] is None
    listed = await gql("{ clientProfiles { name } }", token=token)
    assert listed["data"]["clientProfiles"] == []


async def test_profile_input_limits(gql: GraphQL) -> None:
    token = (await sign_up(gql, "Limits"))["token"]
    for bad in (
        {"name": "n" * 201},
        {"name": "ok", "notes": "x" * 20_001},
        {"name": "ok", "contactEmail": "nope"},
        {"name": "ok", "budget": "9" * 201},
    ):
        result = await gql(
            "mutation($i: CreateClientProfileInput!) { createClientProfile(input: $i) { id } }",
            {"i": bad},
            token=token,
        )
        assert error_codes(result) == ["BAD_USER_INPUT"], bad
    made = await create_profile(gql, token, "Ok", notes="ünïcödé ✓", budget="€40,000")
    assert made["notes"] == "ünïcödé ✓"
    assert made["createdBy"] == {"email": made["createdBy"]["email"]}


async def test_an_internal_failure_is_masked_with_a_correlation_id(settings: Settings) -> None:
    # The database goes away: the request fails in a way no client caused.
    broken = settings.model_copy(update={"app_database_url": dead_url(settings.app_database_url)})
    app = create_app(broken)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post(
                "/graphql",
                json={"query": "{ clientProfiles { id } }"},
                headers={"authorization": "Bearer aud_whatever"},
            )
    body = response.json()
    assert error_codes(body) == ["INTERNAL"]
    error = body["errors"][0]
    assert error["message"] == "internal error"
    assert len(error["extensions"]["correlationId"]) == 32
    assert "Traceback" not in response.text
    assert "psycopg" not in response.text
    assert "127.0.0.1" not in response.text


@pytest.mark.parametrize(
    "payload",
    [
        b'{"query": "{ __typename }", "variables": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"query": "query A { __typename }", "operationName": "B"}',
        b'{"query": "{ __typename }", "variables": {"x": "nul\\u0000byte"}}',
        b'{"query": "{ __typename }", "variables": {"x": "lone \\ud800 surrogate"}}',
        b'{"query": "{ __typename }", "variables": {"\\u0000": 1}}',
    ],
)
async def test_pathological_bodies_are_bad_user_input_not_internal(
    api: httpx.AsyncClient, payload: bytes
) -> None:
    response = await api.post(
        "/graphql", content=payload, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert error_codes(response.json()) == ["BAD_USER_INPUT"]


async def test_a_nul_byte_in_profile_notes_is_refused_and_nothing_is_written(gql: GraphQL) -> None:
    token = (await sign_up(gql, "Nul Notes"))["token"]
    result = await gql(
        "mutation($i: CreateClientProfileInput!) { createClientProfile(input: $i) { id } }",
        {"i": {"name": "ok", "notes": "before\x00after"}},
        token=token,
    )
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert (await gql("{ clientProfiles { id } }", token=token))["data"]["clientProfiles"] == []


async def test_sign_up_cannot_share_a_mutation_with_other_fields(
    gql: GraphQL, superuser: Engine
) -> None:
    before = _accounts(superuser)
    result = await gql(
        """mutation {
          signUp(input: {accountName: "Mixed", email: "mixed@example.com",
                         password: "a long passphrase", fullName: "M"}) { token }
          createClientProfile(input: {name: "x"}) { id }
        }"""
    )
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert _accounts(superuser) == before

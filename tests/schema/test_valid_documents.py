"""A query text the schema found valid is not validated again; anything else still is,
every time, so no limit is skipped for a document that broke one."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry.schema.schema as strawberry_schema

from audora.schema.build import Limits, build_schema
from audora.schema.valid_documents import KnownValidDocuments

from audora_testing import GraphQL, error_codes, sign_up


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each document strawberry validates, by its first operation's name."""
    seen: list[str] = []
    real = strawberry_schema.validate_document

    def counting(schema: Any, document: Any, rules: Any) -> Any:
        operation = document.definitions[0]
        seen.append(operation.name.value if operation.name else "")
        return real(schema, document, rules)

    monkeypatch.setattr(strawberry_schema, "validate_document", counting)
    return seen


async def test_a_valid_query_text_is_validated_once(gql: GraphQL, validations: list[str]) -> None:
    owner = await sign_up(gql)
    query = "query ProfilesOnce { clientProfiles { id name } }"
    for _ in range(3):
        result = await gql(query, token=owner["token"])
        assert result == {"data": {"clientProfiles": []}}
    assert validations.count("ProfilesOnce") == 1


async def test_a_query_past_a_limit_is_refused_every_time(
    gql: GraphQL, validations: list[str]
) -> None:
    owner = await sign_up(gql)
    deep = "query TooDeep { " + "me { " * 12 + "id" + " }" * 12 + " }"
    for _ in range(3):
        result = await gql(deep, token=owner["token"])
        assert result["data"] is None
        assert set(error_codes(result)) == {"BAD_USER_INPUT"}
        assert any("past the depth limit of 12" in e["message"] for e in result["errors"])
    assert validations.count("TooDeep") == 3


def test_each_schema_keeps_its_own_verdicts() -> None:
    """A text valid under the development limits (introspection allowed) is not taken as
    valid by the production schema."""
    introspect = "query Peek { __schema { queryType { name } } }"
    dev = build_schema(Limits(introspection=True))
    production = build_schema(Limits())
    assert not dev.execute_sync(introspect).errors
    refused = production.execute_sync(introspect).errors
    assert refused
    assert "introspection" in refused[0].message.lower()


def test_the_remembered_texts_are_bounded_least_recently_used_first() -> None:
    known = KnownValidDocuments(size=2)
    first, second, third = (KnownValidDocuments.digest(q) for q in ("{ a }", "{ b }", "{ c }"))
    known.add(first)
    known.add(second)
    assert first in known  # used again: now the most recent
    known.add(third)
    assert first in known
    assert third in known
    assert second not in known

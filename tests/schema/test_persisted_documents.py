"""Persisted documents, an option: a deployment that ships a manifest of its frontends'
documents may accept those alone, named by their SHA-256, over HTTP and WebSocket."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from socket_testing import connected
from starlette.applications import Starlette

from audora.platform.clock import FrozenClock
from audora.platform.config import Settings
from audora.platform.http.app import create_app
from audora.schema.persisted import ManifestError, load_manifest

from audora_testing import TEST_AGENT, TEST_IP, GraphQL, client_from, error_codes, sign_up

ME = "query Me { me { user { email } } }"
STATUS = 'subscription { callStatus(callId: "00000000-0000-0000-0000-000000000000") { status } }'


def _id(document: str) -> str:
    return "sha256:" + hashlib.sha256(document.encode()).hexdigest()


def _manifest(folder: Path, *documents: str) -> Path:
    path = folder / "persisted.json"
    path.write_text(json.dumps({_id(d): d for d in documents}))
    return path


@pytest.fixture
async def persisted_only_app(
    settings: Settings, clock: FrozenClock, tmp_path: Path
) -> AsyncIterator[Starlette]:
    manifest = _manifest(tmp_path, ME, STATUS)
    app = create_app(
        settings.model_copy(
            update={"graphql_persisted_documents": manifest, "graphql_persisted_only": True}
        ),
        clock=clock,
    )
    async with app.router.lifespan_context(app):
        yield app


async def test_with_persisted_only_a_document_runs_by_its_id_and_nothing_else_does(
    persisted_only_app: Starlette, gql: GraphQL
) -> None:
    owner = await sign_up(gql)  # signed up through the ordinary API
    headers = {"authorization": f"Bearer {owner['token']}"}
    async with client_from(persisted_only_app, TEST_IP, TEST_AGENT) as client:
        by_id = await client.post("/graphql", json={"documentId": _id(ME)}, headers=headers)
        assert by_id.json()["data"]["me"]["user"]["email"] == owner["email"]
        apollo = {"persistedQuery": {"version": 1, "sha256Hash": _id(ME)[7:]}}
        by_hash = await client.post("/graphql", json={"extensions": apollo}, headers=headers)
        assert by_hash.json() == by_id.json()
        # The same text as the manifest's runs too: it is the persisted document.
        assert (await client.post("/graphql", json={"query": ME}, headers=headers)).json() == (
            by_id.json()
        )
        for _ in range(2):  # refused every time: no verdict is remembered over it
            other = await client.post(
                "/graphql", json={"query": "{ me { user { id } } }"}, headers=headers
            )
            assert error_codes(other.json()) == ["BAD_USER_INPUT"]
            assert "only persisted documents" in other.json()["errors"][0]["message"]
        unknown = await client.post("/graphql", json={"documentId": _id("{ __typename }")})
        assert unknown.status_code == 400
        assert "no persisted document sha256:" in unknown.text
        forged = await client.post(
            "/graphql", json={"documentId": _id(ME), "query": "{ members { role } }"}
        )
        assert forged.status_code == 400
        assert "differs from the persisted document" in forged.text


async def test_with_persisted_only_the_websocket_runs_only_manifest_subscriptions(
    persisted_only_app: Starlette, gql: GraphQL
) -> None:
    owner = await sign_up(gql)
    async with connected(persisted_only_app, owner["token"]) as socket:
        assert (await socket.message())["type"] == "connection_ack"
        other = 'subscription { callStatus(callId: "x") { callId } }'
        await socket.send({"id": "1", "type": "subscribe", "payload": {"query": other}})
        refused = await socket.message()
        assert refused["type"] == "error", refused
        assert "only persisted documents" in refused["payload"][0]["message"]
        await socket.send({"id": "2", "type": "subscribe", "payload": {"query": STATUS}})
        answer = await socket.message()
        # Admitted: it runs, and the unknown call is NOT_FOUND rather than refused.
        assert "only persisted documents" not in json.dumps(answer), answer


async def test_without_a_manifest_document_ids_are_refused_with_a_reason(
    api: httpx.AsyncClient,
) -> None:
    answer = await api.post("/graphql", json={"documentId": _id(ME)})
    assert answer.status_code == 400
    assert "keeps no persisted documents" in answer.text


def test_a_manifest_whose_id_is_not_its_documents_hash_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "forged.json"
    path.write_text(json.dumps({_id(ME): "{ members { role } }"}))
    with pytest.raises(ManifestError, match="is not the SHA-256 of its document"):
        load_manifest(path)


def test_persisted_only_needs_a_manifest(settings: Settings) -> None:
    with pytest.raises(ValueError, match="needs AUDORA_GRAPHQL_PERSISTED_DOCUMENTS"):
        Settings.model_validate({**settings.model_dump(), "graphql_persisted_only": True})

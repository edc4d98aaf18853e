"""Documents as people use them: edits kept as versions (and refused cleanly), stale
edits a CONFLICT, regeneration as a new round whose versions follow the edits, budget
figures hidden from seats without financials:read (A1), exports as Markdown and PDF
under the same rules, and another tenant's document NOT_FOUND (A2)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import httpx
import pytest
from documents_testing import BUDGET_FIGURE, generate, ready_call, tenant_of
from sqlalchemy import Engine, select

from audora.platform.auth.principal import Principal, Role
from audora.platform.auth.service import ClientInfo, authenticate
from audora.platform.db.tenant_binding import tenant_transaction
from audora.platform.errors import AppError, ErrorCode
from audora.platform.jobs.queue import QUEUE
from audora.platform.runtime import Runtime
from audora.tenants.audit.tables import audit_events
from audora.tenants.documents import service
from audora.tenants.documents.redaction import HIDDEN_NOTICE

from audora_testing import (
    TEST_AGENT,
    TEST_IP,
    GraphQL,
    create_call,
    create_profile,
    error_codes,
    raw_id,
    seat,
    sign_up,
)

DOCUMENTS = """
query($id: ID!) {
  call(id: $id) {
    status
    documents { id kind title markdown structured version
                versions { version source author { email } } }
  }
}
"""
UPDATE = """
mutation($input: UpdateDocumentInput!) {
  updateDocument(input: $input) { id version markdown versions { version source } }
}
"""
VERSION = """
query($id: ID!, $version: Int!) { documentVersion(id: $id, version: $version) { version markdown } }
"""
REGENERATE = """
mutation($callId: ID!, $kinds: [DocumentKind!]) {
  regenerateDocuments(callId: $callId, kinds: $kinds) { status progress { stage percent } }
}
"""


async def _documents(
    gql: GraphQL, owner: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    result = await gql(DOCUMENTS, {"id": owner["call_id"]}, token=token or owner["token"])
    assert "errors" not in result, result
    return {d["kind"]: d for d in result["data"]["call"]["documents"]}


async def test_an_edit_is_a_new_version_and_the_generated_one_stays(
    gql: GraphQL, runtime: Runtime
) -> None:
    owner = await ready_call(gql, runtime, "Editing Studio")
    prd = (await _documents(gql, owner))["PRD"]
    edited = await gql(
        UPDATE,
        {"input": {"id": prd["id"], "markdown": "# PRD\n\nRewritten.", "expectedVersion": 1}},
        token=owner["token"],
    )
    assert "errors" not in edited, edited
    assert edited["data"]["updateDocument"]["version"] == 2
    assert edited["data"]["updateDocument"]["versions"] == [
        {"version": 2, "source": "EDITED"},
        {"version": 1, "source": "GENERATED"},
    ]
    now = (await _documents(gql, owner))["PRD"]
    assert now["markdown"] == "# PRD\n\nRewritten."
    assert now["versions"][0]["author"] == {"email": owner["email"]}
    assert now["versions"][1]["author"] is None
    first = await gql(VERSION, {"id": prd["id"], "version": 1}, token=owner["token"])
    assert first["data"]["documentVersion"] == {"version": 1, "markdown": prd["markdown"]}
    missing = await gql(VERSION, {"id": prd["id"], "version": 9}, token=owner["token"])
    assert error_codes(missing) == ["NOT_FOUND"]


@pytest.mark.parametrize(
    ("markdown", "code"),
    [
        ("   \n", "BAD_USER_INPUT"),
        ("x" * (service.MAX_MARKDOWN_BYTES + 1), "BAD_USER_INPUT"),
    ],
)
async def test_an_empty_or_too_long_edit_is_refused_and_nothing_is_written(
    gql: GraphQL, runtime: Runtime, markdown: str, code: str
) -> None:
    owner = await ready_call(gql, runtime, "Bad Edits")
    prd = (await _documents(gql, owner))["PRD"]
    refused = await gql(
        UPDATE, {"input": {"id": prd["id"], "markdown": markdown}}, token=owner["token"]
    )
    assert error_codes(refused) == [code]
    assert refused["data"] is None
    assert (await _documents(gql, owner))["PRD"] == prd


async def test_a_stale_edit_is_a_conflict_and_keeps_the_newer_text(
    gql: GraphQL, runtime: Runtime
) -> None:
    owner = await ready_call(gql, runtime, "Two Editors")
    prd = (await _documents(gql, owner))["PRD"]
    first = {"id": prd["id"], "markdown": "First editor", "expectedVersion": 1}
    assert "errors" not in await gql(UPDATE, {"input": first}, token=owner["token"])
    second = {"id": prd["id"], "markdown": "Second editor", "expectedVersion": 1}
    late = await gql(UPDATE, {"input": second}, token=owner["token"])
    assert error_codes(late) == ["CONFLICT"]
    now = (await _documents(gql, owner))["PRD"]
    assert (now["markdown"], now["version"]) == ("First editor", 2)


async def test_another_tenants_document_or_a_missing_one_is_not_found(
    gql: GraphQL, runtime: Runtime, api: httpx.AsyncClient
) -> None:
    owner = await ready_call(gql, runtime, "Tenant A Docs")
    other = await ready_call(gql, runtime, "Tenant B Docs")
    theirs = (await _documents(gql, other))["SOW"]["id"]
    missing = f"doc_{uuid.uuid4().hex}"
    for doc_id in (theirs, missing):
        edit = await gql(
            UPDATE, {"input": {"id": doc_id, "markdown": "mine"}}, token=owner["token"]
        )
        assert error_codes(edit) == ["NOT_FOUND"]
        read = await gql(VERSION, {"id": doc_id, "version": 1}, token=owner["token"])
        assert error_codes(read) == ["NOT_FOUND"]
        exported = await api.get(
            f"/documents/{doc_id}/export", headers={"authorization": f"Bearer {owner['token']}"}
        )
        assert exported.status_code == 404
        assert exported.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert BUDGET_FIGURE in (await _documents(gql, other))["SOW"]["markdown"]
    regen = await gql(REGENERATE, {"callId": other["call_id"]}, token=owner["token"])
    assert error_codes(regen) == ["NOT_FOUND"]


async def test_regeneration_is_a_new_version_and_the_edit_stays_in_history(
    gql: GraphQL, runtime: Runtime
) -> None:
    owner = await ready_call(gql, runtime, "Regenerating")
    sow = (await _documents(gql, owner))["SOW"]
    edit = {"id": sow["id"], "markdown": "# SOW\n\nHand edited."}
    assert "errors" not in await gql(UPDATE, {"input": edit}, token=owner["token"])
    await runtime.redis.delete(QUEUE)

    asked = await gql(
        REGENERATE, {"callId": owner["call_id"], "kinds": ["SOW"]}, token=owner["token"]
    )
    assert "errors" not in asked, asked
    assert asked["data"]["regenerateDocuments"] == {
        "status": "GENERATING",
        "progress": {"stage": "GENERATING", "percent": 70},
    }
    # Queued after the commit, under the round's id.
    assert await runtime.redis.zcard(QUEUE) == 1
    busy = await gql(REGENERATE, {"callId": owner["call_id"]}, token=owner["token"])
    assert error_codes(busy) == ["CONFLICT"]  # a round is already running

    assert (await generate(runtime, owner)).startswith("generated: SOW")
    after = await _documents(gql, owner)
    assert after["SOW"]["version"] == 3
    assert [(v["version"], v["source"]) for v in after["SOW"]["versions"]] == [
        (3, "GENERATED"),
        (2, "EDITED"),
        (1, "GENERATED"),
    ]
    assert after["PRD"]["version"] == 1  # only the kinds asked for
    kept = await gql(VERSION, {"id": sow["id"], "version": 2}, token=owner["token"])
    assert kept["data"]["documentVersion"]["markdown"] == "# SOW\n\nHand edited."
    await runtime.redis.delete(QUEUE)


async def test_a_call_without_a_transcript_cannot_be_regenerated(
    gql: GraphQL, runtime: Runtime
) -> None:
    owner = await sign_up(gql, "Too Early")
    profile = await create_profile(gql, owner["token"], "Client")
    call_id = await create_call(gql, owner["token"], profile["id"])
    refused = await gql(REGENERATE, {"callId": call_id}, token=owner["token"])
    assert error_codes(refused) == ["CONFLICT"]
    empty = await gql(REGENERATE, {"callId": call_id, "kinds": []}, token=owner["token"])
    assert error_codes(empty) == ["BAD_USER_INPUT"]


async def test_a_viewer_sees_no_budget_figures_in_documents_versions_or_exports(
    gql: GraphQL, runtime: Runtime, superuser: Engine, api: httpx.AsyncClient
) -> None:
    owner = await ready_call(gql, runtime, "Budget Rules")
    viewer = (await seat(gql, runtime, superuser, owner, "VIEWER")).token
    seen = await _documents(gql, owner, viewer)
    for kind in ("SOW", "CLIENT_BRIEF"):
        assert BUDGET_FIGURE not in seen[kind]["markdown"]
        assert HIDDEN_NOTICE in seen[kind]["markdown"]
        assert "Launch by June 15" in seen[kind]["markdown"]  # the rest answers
        assert "budget" not in seen[kind]["structured"]
        assert seen[kind]["structured"]["scope"]
    as_owner = await _documents(gql, owner)
    assert BUDGET_FIGURE in as_owner["SOW"]["markdown"]
    assert as_owner["SOW"]["structured"]["budget"] == {"total": BUDGET_FIGURE}

    sow = seen["SOW"]["id"]
    old = await gql(VERSION, {"id": sow, "version": 1}, token=viewer)
    assert BUDGET_FIGURE not in str(old)
    assert HIDDEN_NOTICE in old["data"]["documentVersion"]["markdown"]
    exported = await api.get(
        f"/documents/{sow}/export?format=md", headers={"authorization": f"Bearer {viewer}"}
    )
    assert exported.status_code == 200
    assert BUDGET_FIGURE not in exported.text
    assert HIDDEN_NOTICE in exported.text
    # A viewer cannot edit at all (documents:write); nothing changed.
    edit = await gql(UPDATE, {"input": {"id": sow, "markdown": "gone"}}, token=viewer)
    assert error_codes(edit) == ["FORBIDDEN"]
    assert (await _documents(gql, owner))["SOW"] == as_owner["SOW"]


async def test_an_edit_by_a_seat_that_cannot_see_budgets_is_refused_rather_than_wiping_them(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    """No role has documents:write without financials:read today; the service refuses
    such an edit of a document with budget sections all the same."""
    owner = await ready_call(gql, runtime, "Hidden Sections")
    member = await seat(gql, runtime, superuser, owner, "MEMBER")
    sow = (await _documents(gql, owner))["SOW"]
    async with tenant_transaction(runtime.tenant_engines, tenant_of(owner["account"]["id"])) as uow:
        principal = await _principal(runtime, member.token)
        blind = replace(principal, role=Role.VIEWER)
        with pytest.raises(AppError) as refused:
            await service.update_document(
                uow, runtime.keys, blind, runtime.clock.now(), raw_id(sow["id"]), "no budget"
            )
        assert refused.value.code is ErrorCode.FORBIDDEN
        prd = (await _documents(gql, owner))["PRD"]
        # A document without budget sections is theirs to edit.
        done = await service.update_document(
            uow, runtime.keys, blind, runtime.clock.now(), raw_id(prd["id"]), "plain"
        )
        assert done.version == 2
    assert (await _documents(gql, owner))["SOW"] == sow


async def _principal(runtime: Runtime, token: str) -> Principal:
    return await authenticate(
        runtime.platform_engine,
        runtime.clock,
        token,
        idle_timeout=runtime.settings.session_idle,
        client=ClientInfo(ip=TEST_IP, user_agent=TEST_AGENT),
    )


async def test_exports_are_markdown_and_pdf_files_for_signed_in_readers_only(
    gql: GraphQL, runtime: Runtime, api: httpx.AsyncClient
) -> None:
    owner = await ready_call(gql, runtime, "Exporting")
    sow = (await _documents(gql, owner))["SOW"]
    auth = {"authorization": f"Bearer {owner['token']}"}

    md = await api.get(f"/documents/{sow['id']}/export?format=md", headers=auth)
    assert md.status_code == 200
    assert md.headers["content-type"].startswith("text/markdown")
    assert md.headers["content-disposition"] == f'attachment; filename="sow-{sow["id"]}.md"'
    assert md.headers["cache-control"] == "no-store"
    assert md.text == sow["markdown"]

    pdf = await api.get(f"/documents/{sow['id']}/export?format=pdf", headers=auth)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert pdf.content.rstrip().endswith(b"%%EOF")
    assert f"/Title ({sow['title']})".encode() in pdf.content

    async with tenant_transaction(runtime.tenant_engines, tenant_of(owner["account"]["id"])) as uow:
        exports = (
            await uow.execute(
                select(audit_events.c.details).where(audit_events.c.action == "document.exported")
            )
        ).scalars()
        assert sorted(e["format"] for e in exports) == ["md", "pdf"]

    bad = await api.get(f"/documents/{sow['id']}/export?format=docx", headers=auth)
    assert bad.status_code == 400
    anonymous = await api.get(f"/documents/{sow['id']}/export")
    assert anonymous.status_code == 401
    forged = await api.get(
        f"/documents/{sow['id']}/export", headers={"authorization": "Bearer not-a-session"}
    )
    assert forged.status_code == 401


async def test_a_seat_scoped_elsewhere_finds_no_document_by_any_path(
    gql: GraphQL, runtime: Runtime, superuser: Engine, api: httpx.AsyncClient
) -> None:
    """A11: a member scoped to another client profile gets NOT_FOUND, as for a missing
    id, on every document path."""
    owner = await ready_call(gql, runtime, "Scoped Documents")
    elsewhere = await create_profile(gql, owner["token"], "Another Client")
    scoped = (await seat(gql, runtime, superuser, owner, "MEMBER", [elsewhere["id"]])).token
    sow = (await _documents(gql, owner))["SOW"]
    for doc_id in (sow["id"], f"doc_{uuid.uuid4().hex}"):
        edit = await gql(UPDATE, {"input": {"id": doc_id, "markdown": "x"}}, token=scoped)
        assert error_codes(edit) == ["NOT_FOUND"]
        read = await gql(VERSION, {"id": doc_id, "version": 1}, token=scoped)
        assert error_codes(read) == ["NOT_FOUND"]
        one = await gql(
            "query($id: ID!) { document(id: $id) { id } }", {"id": doc_id}, token=scoped
        )
        assert error_codes(one) == ["NOT_FOUND"]
        exported = await api.get(
            f"/documents/{doc_id}/export", headers={"authorization": f"Bearer {scoped}"}
        )
        assert exported.status_code == 404
    regen = await gql(REGENERATE, {"callId": owner["call_id"]}, token=scoped)
    assert error_codes(regen) == ["NOT_FOUND"]
    assert (await _documents(gql, owner))["SOW"] == sow

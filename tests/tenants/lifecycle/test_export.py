"""L3 and A2: an owner or admin exports all the account's data, also during the grace of
a closure; the export holds everything of the tenant and nothing of another, is
encrypted at rest, reaches the owner as a short-lived emailed link, and is deleted 24
hours after it was built. Another tenant's export is not found."""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import Engine

from audora.platform.clock import FrozenClock
from audora.platform.config import Settings
from audora.platform.db.tenant_binding import TenantRef, tenant_transaction
from audora.platform.db.tenant_names import tenant_schema
from audora.platform.runtime import Runtime
from audora.platform.stack.embedded import EmbeddedStack
from audora.tenants.calls.content import (
    DocumentKind,
    Segment,
    Transcript,
    store_document,
    store_transcript,
)
from audora.tenants.keys.rotation import rotate_tenant
from audora.tenants.lifecycle.export import MAIL_SUBJECT, build_export_job
from audora.tenants.lifecycle.jobs import run_due_retention
from audora.tenants.registry.suspension import suspend

from audora_testing import (
    GraphQL,
    create_call,
    create_profile,
    error_codes,
    mail_text,
    moved,
    raw_id,
    raw_objects,
    read_mail,
    run_jobs,
    seat,
    sign_up,
)

REQUEST = "mutation { requestExport { id status downloadUrl expiresAt } }"
GET = "query($id: ID!) { dataExport(id: $id) { id status downloadUrl expiresAt sizeBytes } }"
CLOSE = "mutation($c: String!) { closeAccount(confirm: $c) { status } }"


@pytest.fixture
def mail_dir(stack: EmbeddedStack) -> Path:
    return stack.data_dir / "mail"


async def _tenant_with(gql: GraphQL, runtime: Runtime, marker: str) -> dict[str, Any]:
    """An account whose every kind of data carries `marker`."""
    owner = await sign_up(gql, f"Agency {marker}")
    profile = await create_profile(
        gql, owner["token"], f"Client {marker}", notes=f"notes {marker}", budget="$9,000"
    )
    call_id = await create_call(gql, owner["token"], profile["id"], f"Kickoff {marker}")
    tenant_id = raw_id(owner["account"]["id"])
    async with tenant_transaction(
        runtime.tenant_engines, TenantRef(tenant_schema(tenant_id))
    ) as uow:
        await store_transcript(
            uow,
            runtime.keys,
            tenant_id,
            raw_id(call_id),
            Transcript(
                f"We need a loyalty app {marker}.",
                (Segment(0.0, 2.5, "Ben", f"We need a loyalty app {marker}."),),
            ),
        )
        for kind in DocumentKind:
            await store_document(
                uow,
                runtime.keys,
                tenant_id,
                raw_id(call_id),
                kind,
                f"{kind.value} title",
                f"# {kind.value}\n\nBuild it {marker}.",
                {"marker": marker, "kind": kind.value},
            )
        await uow.commit()
    return {**owner, "tenant_id": tenant_id, "call_id": call_id, "profile": profile}


def _link_in(message: Any) -> str:
    match = re.search(r"https?://\S+/exports/(aux_[A-Za-z0-9_-]+)", mail_text(message))
    assert match is not None, mail_text(message)
    return f"/exports/{match.group(1)}"


async def test_the_export_holds_everything_of_the_tenant_and_nothing_of_another(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    clock: FrozenClock,
    mail_dir: Path,
) -> None:
    mark_a, mark_b = f"MARK-A-{uuid.uuid4().hex}", f"MARK-B-{uuid.uuid4().hex}"
    a = await _tenant_with(gql, runtime, mark_a)
    await _tenant_with(gql, runtime, mark_b)

    requested = await gql(REQUEST, token=a["token"])
    assert "errors" not in requested, requested
    assert requested["data"]["requestExport"]["status"] == "PENDING"
    # Asked again while it is being built: the same export, not a second one.
    again = await gql(REQUEST, token=a["token"])
    assert again["data"]["requestExport"]["id"] == requested["data"]["requestExport"]["id"]
    await run_jobs(runtime, [build_export_job])

    (message,) = await read_mail(mail_dir, a["email"], MAIL_SUBJECT)
    # A KEK rotation in between rewraps the export's key too: it still opens.
    rotated = await rotate_tenant(
        runtime.tenant_engines, runtime.platform_engine, runtime.keys, a["tenant_id"], clock.now()
    )
    assert rotated.rewrapped >= 1
    response = await api.get(_link_in(message))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    folder = f"calls/{raw_id(a['call_id'])}"
    assert {
        "README.txt",
        "account.json",
        "client_profiles.json",
        "audit_log.jsonl",
        f"{folder}/call.json",
        f"{folder}/transcript.json",
        f"{folder}/transcript.md",
    } <= names
    for kind in DocumentKind:
        assert f"{folder}/{kind.value}.md" in names
        structured = json.loads(archive.read(f"{folder}/{kind.value}.json"))
        assert structured["structured"] == {"marker": mark_a, "kind": kind.value}
        assert mark_a in archive.read(f"{folder}/{kind.value}.md").decode()
    profiles = json.loads(archive.read("client_profiles.json"))
    assert [(p["name"], p["notes"], p["budget"]) for p in profiles] == [
        (f"Client {mark_a}", f"notes {mark_a}", "$9,000")
    ]
    assert mark_a in json.loads(archive.read(f"{folder}/call.json"))["title"]
    assert mark_a in json.loads(archive.read(f"{folder}/transcript.json"))["text"]
    events = [json.loads(line) for line in archive.read("audit_log.jsonl").splitlines()]
    assert "export.requested" in {e["action"] for e in events}
    account = json.loads(archive.read("account.json"))
    assert account["members"][0]["email"] == a["email"]

    everything = b"".join(archive.read(name) for name in names)
    assert mark_a.encode() in everything
    assert mark_b.encode() not in everything

    # At rest, the archive is ciphertext: no marker, no ZIP signature.
    stored = raw_objects(settings, a["account"]["id"])
    (export_object,) = [v for k, v in stored.items() if k.startswith("exports/")]
    assert mark_a.encode() not in export_object
    assert not export_object.startswith(b"PK")


async def test_another_tenants_export_is_not_found_and_members_cannot_export(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    a = await sign_up(gql, "Exporter A")
    b = await sign_up(gql, "Prier B")
    requested = await gql(REQUEST, token=a["token"])
    export_id = requested["data"]["requestExport"]["id"]
    assert error_codes(await gql(GET, {"id": export_id}, token=b["token"])) == ["NOT_FOUND"]
    member = await seat(gql, runtime, superuser, a, "MEMBER")
    assert error_codes(await gql(REQUEST, token=member.token)) == ["FORBIDDEN"]
    admin = await seat(gql, runtime, superuser, a, "ADMIN")
    by_admin = await gql(GET, {"id": export_id}, token=admin.token)
    assert by_admin["data"]["dataExport"]["status"] == "PENDING"
    await run_jobs(runtime, [build_export_job])
    # The member's refused attempt is in the audit log.
    events = await gql(
        'query { auditLog(first: 10, action: "export.") { edges { node { action } } } }',
        token=a["token"],
    )
    actions = [e["node"]["action"] for e in events["data"]["auditLog"]["edges"]]
    assert {"export.requested", "export.ready", "export.refused"} <= set(actions)

    # A suspended account's data is not exported until the suspension is lifted.
    await suspend(runtime, raw_id(b["account"]["id"]), "evidence", actor="operator:test")
    refused = await gql(REQUEST, token=b["token"])
    assert error_codes(refused) == ["FORBIDDEN"]
    assert "suspended" in refused["errors"][0]["message"]


async def test_during_the_grace_an_export_is_made_and_its_link_expires_then_it_is_deleted(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    clock: FrozenClock,
    mail_dir: Path,
) -> None:
    owner = await sign_up(gql, "Leaving Co")
    await create_profile(gql, owner["token"], "Last Client")
    assert "errors" not in await gql(CLOSE, {"c": "Leaving Co"}, token=owner["token"])
    requested = await gql(REQUEST, token=owner["token"])
    assert "errors" not in requested, requested
    export_id = requested["data"]["requestExport"]["id"]
    await run_jobs(runtime, [build_export_job])
    (message,) = await read_mail(mail_dir, owner["email"], MAIL_SUBJECT)
    link = _link_in(message)

    ready = await gql(GET, {"id": export_id}, token=owner["token"])
    assert ready["data"]["dataExport"]["status"] == "READY"
    expires_at = datetime.fromisoformat(ready["data"]["dataExport"]["expiresAt"])
    assert expires_at == clock.now() + timedelta(hours=24)
    fresh = urlsplit(ready["data"]["dataExport"]["downloadUrl"]).path
    assert (await api.get(fresh)).status_code == 200

    assert (await api.get("/exports/aux_" + "x" * 43)).status_code == 404
    with moved(clock, timedelta(minutes=settings.export_link_minutes, seconds=1)):
        assert (await api.get(link)).status_code == 410

    with moved(clock, timedelta(hours=24) - timedelta(seconds=1)):
        await run_due_retention(runtime)
    assert any(k.startswith("exports/") for k in raw_objects(settings, owner["account"]["id"]))
    with moved(clock, timedelta(hours=24, seconds=1)):
        await run_due_retention(runtime)
        token = (
            await gql(
                "mutation($i: LogInInput!) { logIn(input: $i) { token } }",
                {"i": {"email": owner["email"], "password": "correct horse battery staple"}},
            )
        )["data"]["logIn"]["token"]
        gone = await gql(GET, {"id": export_id}, token=token)
        assert gone["data"]["dataExport"]["status"] == "EXPIRED"
        assert gone["data"]["dataExport"]["downloadUrl"] is None
    assert not any(k.startswith("exports/") for k in raw_objects(settings, owner["account"]["id"]))
    assert (await api.get(fresh)).status_code == 404

"""E3 and E7 end to end: after a run that put one marker into a transcript, a document,
a client's notes and a recording's audio, neither the raw database, nor the raw bucket
objects, nor any file of the stack's data folder (database pages and WAL, the store's
volumes, Redis, logs) holds it."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import httpx
from sqlalchemy import Engine, text

from audora.platform.config import Settings
from audora.platform.db.tenant_binding import TenantRef, tenant_transaction
from audora.platform.db.tenant_names import validate_tenant_schema
from audora.platform.runtime import Runtime
from audora.platform.stack.embedded import EmbeddedStack
from audora.platform.storage.s3_admin import s3_client
from audora.tenants.calls.content import (
    DocumentKind,
    Segment,
    Transcript,
    store_document,
    store_transcript,
)

from audora_testing import (
    GraphQL,
    create_call,
    create_profile,
    raw_id,
    schema_of,
    sign_up,
    upload_path,
    wav_bytes,
)

READ_BACK = """
query($id: ID!) {
  call(id: $id) { transcript { text segments { speaker text } } documents { kind markdown } }
}
"""


def _files_holding(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


async def test_a_marker_is_nowhere_in_the_clear_at_rest(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    superuser: Engine,
    stack: EmbeddedStack,
) -> None:
    marker = f"PLAINTEXT-MARKER-{uuid.uuid4().hex}"
    owner = await sign_up(gql, "Marker Studio")
    profile = await create_profile(
        gql, owner["token"], "Marker client", notes=f"notes {marker}", budget=f"{marker} EUR"
    )
    call_id = await create_call(gql, owner["token"], profile["id"], title="Roadmap call")
    audio = wav_bytes(os.urandom(50_000) + marker.encode() + os.urandom(50_000))
    upload = await api.put(
        await upload_path(gql, owner["token"], call_id),
        content=audio,
        headers={"content-type": "audio/wav"},
    )
    assert upload.status_code == 201

    tenant_id = raw_id(owner["account"]["id"])
    tenant = TenantRef(validate_tenant_schema(schema_of(owner["account"]["id"])))
    async with tenant_transaction(runtime.tenant_engines, tenant) as uow:
        await store_transcript(
            uow,
            runtime.keys,
            tenant_id,
            raw_id(call_id),
            Transcript(f"We agreed on {marker}.", (Segment(0.0, 2.5, "Client", marker),)),
        )
        await store_document(
            uow,
            runtime.keys,
            tenant_id,
            raw_id(call_id),
            DocumentKind.PRD,
            "PRD",
            f"# PRD\n\n- must: {marker}",
            {"requirements": [marker]},
        )
        await uow.commit()

    # The platform reads every one of them back...
    read = await gql(READ_BACK, {"id": call_id}, token=owner["token"])
    assert "errors" not in read, read
    assert marker in read["data"]["call"]["transcript"]["text"]
    assert read["data"]["call"]["transcript"]["segments"] == [{"speaker": "Client", "text": marker}]
    assert read["data"]["call"]["documents"] == [
        {"kind": "PRD", "markdown": f"# PRD\n\n- must: {marker}"}
    ]

    # ...and nothing at rest holds it.
    needle = marker.encode()
    schema = schema_of(owner["account"]["id"])
    with superuser.connect() as conn:
        conn.exec_driver_sql("CHECKPOINT")
        tables = conn.execute(
            text(
                "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                "WHERE table_schema IN (:s, 'platform')"
            ),
            {"s": schema},
        ).scalars()
        dump = "\n".join(
            row
            for table in tables
            for row in conn.execute(text(f"SELECT t::text FROM {table} t")).scalars()
        )
    assert dump  # the tables were read
    assert marker not in dump
    assert needle.hex() not in dump

    admin = s3_client(
        settings.s3_endpoint,
        settings.s3_admin_access_key,
        settings.s3_admin_secret_key,
        region=settings.s3_region,
    )
    bucket = f"{settings.bucket_prefix}{tenant_id.hex}"
    objects = admin.list_objects_v2(Bucket=bucket)["Contents"]
    assert len(objects) == 1
    for item in objects:
        assert needle not in admin.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()

    # Every file of the stack: database pages and WAL, store volumes, Redis, logs, mail.
    assert _files_holding(stack.data_dir, needle) == []

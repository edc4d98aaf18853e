"""Bad ciphertext never becomes plaintext: a moved, tampered, truncated or unknown-version
value is an integrity error (INTERNAL to the client, with no content), and each one the
API meets is written to the tenant's audit log. The log itself is append-only and its
hash chain finds an event altered behind the platform's back."""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from audora.platform.crypto.envelope import IntegrityError
from audora.platform.db.tenant_binding import TenantRef, tenant_transaction
from audora.platform.db.tenant_names import validate_tenant_schema
from audora.platform.runtime import Runtime
from audora.tenants.audit.log import AuditEntry, ChainCheck, append, verify_chain
from audora.tenants.calls import repository as calls
from audora.tenants.calls.content import Segment, Transcript, store_transcript
from audora.tenants.recordings.audio import read_audio

from audora_testing import (
    GraphQL,
    create_call,
    create_profile,
    error_codes,
    raw_id,
    schema_of,
    sign_up,
    upload_path,
    wav_bytes,
)

TRANSCRIPT = "query($id: ID!) { call(id: $id) { title transcript { text } } }"


def _tenant(owner: dict[str, Any]) -> TenantRef:
    return TenantRef(validate_tenant_schema(schema_of(owner["account"]["id"])))


async def _two_transcribed_calls(
    gql: GraphQL, runtime: Runtime, name: str
) -> tuple[dict[str, Any], list[str]]:
    owner = await sign_up(gql, name)
    profile = await create_profile(gql, owner["token"], "Client")
    call_ids = [await create_call(gql, owner["token"], profile["id"], f"Call {i}") for i in (1, 2)]
    async with tenant_transaction(runtime.tenant_engines, _tenant(owner)) as uow:
        for n, call_id in enumerate(call_ids, 1):
            await store_transcript(
                uow,
                runtime.keys,
                raw_id(owner["account"]["id"]),
                raw_id(call_id),
                Transcript(f"secret words of call {n}", (Segment(0, 1, None, "x"),)),
            )
        await uow.commit()
    return owner, call_ids


def _audit(superuser: Engine, owner: dict[str, Any], action: str) -> list[dict[str, Any]]:
    with superuser.connect() as conn:
        rows = conn.execute(
            text(
                f"SELECT actor, action, target, details FROM {schema_of(owner['account']['id'])}"
                ".audit_events WHERE action = :a ORDER BY seq"
            ),
            {"a": action},
        ).mappings()
        return [dict(r) for r in rows]


async def test_a_transcript_moved_to_another_call_fails_and_is_audited(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner, (first, second) = await _two_transcribed_calls(gql, runtime, "Moved Transcript")
    schema = schema_of(owner["account"]["id"])
    with superuser.begin() as conn:
        conn.execute(
            text(
                f"UPDATE {schema}.transcripts SET text = "
                f"(SELECT text FROM {schema}.transcripts WHERE call_id = :a) WHERE call_id = :b"
            ),
            {"a": raw_id(first), "b": raw_id(second)},
        )
        moved_row = conn.execute(
            text(f"SELECT id FROM {schema}.transcripts WHERE call_id = :b"), {"b": raw_id(second)}
        ).scalar_one()
    result = await gql(TRANSCRIPT, {"id": second}, token=owner["token"])
    assert error_codes(result) == ["INTERNAL"]
    assert result["errors"][0]["message"] == "stored data failed its integrity check"
    assert result["errors"][0]["path"] == ["call", "transcript"]
    assert result["data"]["call"]["title"] == "Call 2"  # the rest of the query answers
    assert "secret words" not in str(result)
    events = _audit(superuser, owner, "security.integrity_failure")
    assert [(e["actor"], e["target"]) for e in events] == [
        (f"user:{raw_id(owner['user']['id'])}", f"transcripts/{moved_row}/text")
    ]
    # The untouched transcript still opens.
    fine = await gql(TRANSCRIPT, {"id": first}, token=owner["token"])
    assert fine["data"]["call"]["transcript"] == {"text": "secret words of call 1"}


@pytest.mark.parametrize(
    ("label", "mangle"),
    [
        ("flipped bit", "set_byte(text, length(text) - 1, get_byte(text, length(text) - 1) # 1)"),
        ("truncated", "substring(text from 1 for 30)"),
        ("unknown key version", "overlay(text placing '\\x00000063'::bytea from 5 for 4)"),
        ("not a ciphertext", "'plain words'::bytea"),
    ],
)
async def test_tampered_values_are_integrity_errors_never_plaintext(
    gql: GraphQL, runtime: Runtime, superuser: Engine, label: str, mangle: str
) -> None:
    owner, (first, _) = await _two_transcribed_calls(gql, runtime, f"Tampered {label}")
    schema = schema_of(owner["account"]["id"])
    with superuser.begin() as conn:
        conn.execute(
            text(f"UPDATE {schema}.transcripts SET text = {mangle} WHERE call_id = :a"),
            {"a": raw_id(first)},
        )
    result = await gql(TRANSCRIPT, {"id": first}, token=owner["token"])
    assert error_codes(result) == ["INTERNAL"], label
    assert result["errors"][0]["message"] == "stored data failed its integrity check"
    assert "secret words" not in str(result)
    assert len(_audit(superuser, owner, "security.integrity_failure")) == 1


async def test_truncated_or_swapped_audio_does_not_decrypt(
    gql: GraphQL, api: httpx.AsyncClient, runtime: Runtime
) -> None:
    owner = await sign_up(gql, "Cut Audio")
    profile = await create_profile(gql, owner["token"], "Client")
    call_ids = [await create_call(gql, owner["token"], profile["id"]) for _ in range(2)]
    audio = wav_bytes(os.urandom(300_000))
    for call_id in call_ids:
        path = await upload_path(gql, owner["token"], call_id)
        response = await api.put(path, content=audio, headers={"content-type": "audio/wav"})
        assert response.status_code == 201
    tenant_id = raw_id(owner["account"]["id"])
    async with tenant_transaction(runtime.tenant_engines, _tenant(owner)) as uow:
        first, second = [await calls.recording_of(uow, raw_id(c)) for c in call_ids]
    assert first is not None
    assert second is not None
    bucket = await runtime.buckets.of(tenant_id)
    whole = bucket.client.get_object(Bucket=bucket.bucket, Key=first["object_key"])["Body"].read()

    async def read(recording: Any) -> bytes:
        chunks = read_audio(
            runtime.keys, runtime.buckets, tenant_id, recording["id"], recording["wrapped_key"]
        )
        return b"".join([c async for c in chunks])

    assert await read(first) == audio
    # Cut at a chunk boundary: every remaining chunk authenticates, the end does not.
    bucket.client.put_object(
        Bucket=bucket.bucket, Key=first["object_key"], Body=whole[: 19 + 2 * (65536 + 16)]
    )
    with pytest.raises(IntegrityError, match="encrypted stream failed authentication"):
        await read(first)
    # The first recording's ciphertext under the second's name and key.
    bucket.client.put_object(Bucket=bucket.bucket, Key=second["object_key"], Body=whole)
    with pytest.raises(IntegrityError):
        await read(second)


async def test_audit_events_cannot_be_changed_or_deleted_even_by_a_superuser(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Immutable Log")
    async with tenant_transaction(runtime.tenant_engines, _tenant(owner)) as uow:
        await append(uow, runtime.clock.now(), AuditEntry("system:test", "test.event"))
        await uow.commit()
    # The tenant role itself holds no UPDATE or DELETE on the table...
    for statement in ("UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"):
        async with tenant_transaction(runtime.tenant_engines, _tenant(owner)) as uow:
            with pytest.raises(DBAPIError, match="permission denied"):
                await uow.execute(text(statement))
    # ...and the trigger stops even the database's superuser.
    schema = schema_of(owner["account"]["id"])
    for statement in (
        f"UPDATE {schema}.audit_events SET actor = 'someone else'",
        f"DELETE FROM {schema}.audit_events",
        f"TRUNCATE {schema}.audit_events",
    ):
        with superuser.begin() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.exec_driver_sql(statement)


async def test_the_hash_chain_names_the_first_event_altered_behind_its_back(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Chained Log")
    tenant = _tenant(owner)
    async with tenant_transaction(runtime.tenant_engines, tenant) as uow:
        made = [
            await append(
                uow, runtime.clock.now(), AuditEntry("system:test", f"test.{n}", details={"n": n})
            )
            for n in range(5)
        ]
        assert await verify_chain(uow) == ChainCheck(True, 6, None)  # with account.created
        await uow.commit()
    schema = schema_of(owner["account"]["id"])
    with superuser.begin() as conn:
        conn.exec_driver_sql(f"ALTER TABLE {schema}.audit_events DISABLE TRIGGER USER")
        conn.execute(
            text(f"UPDATE {schema}.audit_events SET details = '{{\"n\": 99}}' WHERE id = :i"),
            {"i": made[2]},
        )
        conn.exec_driver_sql(f"ALTER TABLE {schema}.audit_events ENABLE TRIGGER USER")
    async with tenant_transaction(runtime.tenant_engines, tenant) as uow:
        check = await verify_chain(uow)
    assert check == ChainCheck(False, 3, made[2])


async def test_another_tenants_ciphertext_does_not_open_here(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    """A sealed value copied across tenants meets the wrong tenant's key and the wrong
    tenant id in its AAD: an integrity error, audited in the tenant where it was found."""
    theirs, (their_call, _) = await _two_transcribed_calls(gql, runtime, "Their Tenant")
    mine, (my_call, _) = await _two_transcribed_calls(gql, runtime, "My Tenant")
    with superuser.begin() as conn:
        conn.execute(
            text(
                f"UPDATE {schema_of(mine['account']['id'])}.transcripts SET text = "
                f"(SELECT text FROM {schema_of(theirs['account']['id'])}.transcripts "
                "WHERE call_id = :theirs) WHERE call_id = :mine"
            ),
            {"theirs": raw_id(their_call), "mine": raw_id(my_call)},
        )
    result = await gql(TRANSCRIPT, {"id": my_call}, token=mine["token"])
    assert error_codes(result) == ["INTERNAL"]
    assert "secret words" not in str(result)
    assert len(_audit(superuser, mine, "security.integrity_failure")) == 1
    assert _audit(superuser, theirs, "security.integrity_failure") == []

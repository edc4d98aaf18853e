"""Recording uploads (E7): the audio streams into the tenant's own bucket encrypted
under a key of its own; bad uploads are refused with a code and leave nothing behind."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from audora.platform.clock import FrozenClock
from audora.platform.config import Settings
from audora.platform.db.tenant_binding import TenantRef, tenant_transaction
from audora.platform.db.tenant_names import validate_tenant_schema
from audora.platform.runtime import Runtime
from audora.tenants.calls import repository as calls
from audora.tenants.recordings.audio import read_audio

from audora_testing import (
    CREATE_UPLOAD,
    GraphQL,
    create_call,
    create_profile,
    error_codes,
    raw_id,
    raw_objects,
    schema_of,
    sign_up,
    upload_path,
    wav_bytes,
)

CALL = """
query($id: ID!) { call(id: $id) { status recording { status sizeBytes deletedAt } } }
"""


async def _tenant_with_call(gql: GraphQL, name: str) -> dict[str, Any]:
    owner = await sign_up(gql, name)
    profile = await create_profile(gql, owner["token"], "Client")
    call_id = await create_call(gql, owner["token"], profile["id"])
    return {**owner, "call_id": call_id, "profile_id": profile["id"]}


async def test_uploaded_audio_is_stored_encrypted_and_reads_back_whole(
    gql: GraphQL, api: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    tenant = await _tenant_with_call(gql, "Upload Studio")
    marker = f"AUDIO-MARKER-{uuid.uuid4().hex}".encode()
    audio = wav_bytes(os.urandom(100_000) + marker + os.urandom(9 * 1024 * 1024))
    path = await upload_path(gql, tenant["token"], tenant["call_id"])
    response = await api.put(path, content=audio, headers={"content-type": "audio/wav"})
    assert response.status_code == 201, response.text
    assert response.json()["recording"]["sizeBytes"] == len(audio)

    read = await gql(CALL, {"id": tenant["call_id"]}, token=tenant["token"])
    assert read["data"]["call"] == {
        "status": "TRANSCRIBING",
        "recording": {"status": "STORED", "sizeBytes": len(audio), "deletedAt": None},
    }
    stored = raw_objects(settings, tenant["account"]["id"])
    assert len(stored) == 1
    (ciphertext,) = stored.values()
    assert marker not in ciphertext
    assert audio[:64] not in ciphertext
    assert len(ciphertext) > len(audio)  # a header and a tag per chunk

    account_id = raw_id(tenant["account"]["id"])
    tenant_ref = TenantRef(validate_tenant_schema(schema_of(tenant["account"]["id"])))
    async with tenant_transaction(runtime.tenant_engines, tenant_ref) as uow:
        row = await calls.recording_of(uow, raw_id(tenant["call_id"]))
    assert row is not None
    plaintext = b"".join(
        [
            c
            async for c in read_audio(
                runtime.keys, runtime.buckets, account_id, row["id"], row["wrapped_key"]
            )
        ]
    )
    assert plaintext == audio


async def test_an_upload_url_carries_one_upload_only(gql: GraphQL, api: httpx.AsyncClient) -> None:
    tenant = await _tenant_with_call(gql, "Once Only")
    path = await upload_path(gql, tenant["token"], tenant["call_id"])
    audio = wav_bytes(b"\x00" * 1000)
    first = await api.put(path, content=audio, headers={"content-type": "audio/wav"})
    assert first.status_code == 201
    again = await api.put(path, content=audio, headers={"content-type": "audio/wav"})
    assert again.status_code == 409
    assert again.json()["errors"][0]["extensions"]["code"] == "CONFLICT"
    # And the call, now recorded, hands out no further upload URL.
    more = await gql(CREATE_UPLOAD, {"callId": tenant["call_id"]}, token=tenant["token"])
    assert error_codes(more) == ["CONFLICT"]


async def test_an_expired_or_unknown_upload_url_is_refused(
    gql: GraphQL, api: httpx.AsyncClient, clock: FrozenClock
) -> None:
    tenant = await _tenant_with_call(gql, "Late Uploader")
    path = await upload_path(gql, tenant["token"], tenant["call_id"])
    clock.advance(timedelta(minutes=16))
    try:
        late = await api.put(
            path, content=wav_bytes(b"x" * 100), headers={"content-type": "audio/wav"}
        )
    finally:
        clock.advance(-timedelta(minutes=16))
    assert late.status_code == 410
    assert late.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    unknown = await api.put(
        "/uploads/" + "A" * 43, content=wav_bytes(b"x"), headers={"content-type": "audio/wav"}
    )
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("content_type", "body", "status", "code"),
    [
        ("application/pdf", wav_bytes(b"x" * 100), 415, "BAD_USER_INPUT"),
        ("audio/wav", b"", 400, "BAD_USER_INPUT"),
        ("audio/wav", b"%PDF-1.7 " + os.urandom(10_000), 400, "BAD_USER_INPUT"),
        ("audio/wav", b"tiny", 400, "BAD_USER_INPUT"),
    ],
    ids=["wrong-content-type", "empty", "not-audio", "too-short-to-be-audio"],
)
async def test_bad_uploads_are_refused_with_a_code_and_leave_nothing(
    gql: GraphQL,
    api: httpx.AsyncClient,
    settings: Settings,
    content_type: str,
    body: bytes,
    status: int,
    code: str,
) -> None:
    tenant = await _tenant_with_call(gql, "Bad Uploads")
    path = await upload_path(gql, tenant["token"], tenant["call_id"])
    response = await api.put(path, content=body, headers={"content-type": content_type})
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == code
    assert raw_objects(settings, tenant["account"]["id"]) == {}
    read = await gql(CALL, {"id": tenant["call_id"]}, token=tenant["token"])
    assert read["data"]["call"] == {"status": "AWAITING_RECORDING", "recording": None}


async def test_a_body_over_the_limit_is_refused_midstream_and_leaves_nothing(
    gql: GraphQL, api: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    """No Content-Length to refuse up front: the stream is cut at the limit, the object
    store's upload aborted."""
    tenant = await _tenant_with_call(gql, "Oversized")
    path = await upload_path(gql, tenant["token"], tenant["call_id"])
    limit = runtime.settings.upload_max_bytes
    runtime.settings.upload_max_bytes = 12 * 1024 * 1024

    async def chunks() -> AsyncIterator[bytes]:
        yield wav_bytes(b"")
        for _ in range(20):
            yield os.urandom(1024 * 1024)

    try:
        response = await api.put(path, content=chunks(), headers={"content-type": "audio/wav"})
    finally:
        runtime.settings.upload_max_bytes = limit
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert raw_objects(settings, tenant["account"]["id"]) == {}


async def test_a_declared_length_over_the_limit_is_refused_before_reading(
    gql: GraphQL, api: httpx.AsyncClient, runtime: Runtime
) -> None:
    tenant = await _tenant_with_call(gql, "Declared Big")
    path = await upload_path(gql, tenant["token"], tenant["call_id"])
    too_big = str(runtime.settings.upload_max_bytes + 1)
    response = await api.put(
        path, content=b"", headers={"content-type": "audio/wav", "content-length": too_big}
    )
    assert response.status_code == 413
    # The ticket was not spent on a request refused from its headers.
    ok = await api.put(path, content=wav_bytes(b"\x00" * 64), headers={"content-type": "audio/wav"})
    assert ok.status_code == 201


async def test_another_tenants_call_gets_no_upload_url(gql: GraphQL) -> None:
    mine = await _tenant_with_call(gql, "Mine")
    theirs = await _tenant_with_call(gql, "Theirs")
    crossing = await gql(CREATE_UPLOAD, {"callId": theirs["call_id"]}, token=mine["token"])
    missing = await gql(CREATE_UPLOAD, {"callId": "cal_" + "0" * 32}, token=mine["token"])
    assert error_codes(crossing) == error_codes(missing) == ["NOT_FOUND"]
    assert crossing["errors"][0]["message"] == missing["errors"][0]["message"]


async def test_a_call_needs_a_consent_attestation(gql: GraphQL) -> None:
    owner = await sign_up(gql, "No Consent")
    profile = await create_profile(gql, owner["token"], "Client")
    result = await gql(
        """mutation($input: CreateCallInput!) { createCall(input: $input) { id } }""",
        {
            "input": {
                "clientProfileId": profile["id"],
                "title": "Secret call",
                "consent": {"participantsNotified": False, "methods": ["VERBAL"]},
            }
        },
        token=owner["token"],
    )
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["extensions"]["field"] == "consent.participantsNotified"

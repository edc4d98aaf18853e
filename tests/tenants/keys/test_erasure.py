"""L6: cryptographic erasure. Destroying a recording's key, or a tenant's KEK, leaves
every copy of the ciphertext, a backup's included, unreadable for good. Plaintext data
keys never leave process memory: not to Redis, not to a log."""

from __future__ import annotations

import base64
import logging
import os
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import Engine, text

from audora.platform.crypto.envelope import Binding, IntegrityError, open_sealed
from audora.platform.crypto.stream import decrypt_stream
from audora.platform.db.tenant_binding import TenantRef, tenant_transaction
from audora.platform.db.tenant_names import validate_tenant_schema
from audora.platform.keys.service import KeyDestroyed
from audora.platform.runtime import Runtime
from audora.tenants.calls import repository as calls
from audora.tenants.keys.data_keys import current_key, key_context
from audora.tenants.keys.erasure import erase_tenant_keys
from audora.tenants.keys.reencrypt import reencrypt, rotate_data_keys
from audora.tenants.recordings.audio import read_audio, recording_key_context
from audora.tenants.recordings.erasure import erase_recording

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


async def _recorded(
    gql: GraphQL, api: httpx.AsyncClient, runtime: Runtime, name: str
) -> dict[str, Any]:
    owner = await sign_up(gql, name)
    profile = await create_profile(gql, owner["token"], "Client", notes="the secret plan")
    call_id = await create_call(gql, owner["token"], profile["id"])
    audio = wav_bytes(os.urandom(200_000))
    response = await api.put(
        await upload_path(gql, owner["token"], call_id),
        content=audio,
        headers={"content-type": "audio/wav"},
    )
    assert response.status_code == 201
    tenant = TenantRef(validate_tenant_schema(schema_of(owner["account"]["id"])))
    async with tenant_transaction(runtime.tenant_engines, tenant) as uow:
        recording = await calls.recording_of(uow, raw_id(call_id))
    assert recording is not None
    tenant_id = raw_id(owner["account"]["id"])
    bucket = await runtime.buckets.of(tenant_id)
    backup = {
        # What a backup taken now would hold: the rows and the object, byte for byte.
        "object": bucket.client.get_object(Bucket=bucket.bucket, Key=recording["object_key"])[
            "Body"
        ].read(),
        "recording_key": bytes(recording["wrapped_key"]),
    }
    return {
        **owner,
        "tenant_id": tenant_id,
        "call_id": call_id,
        "profile": profile,
        "recording": recording,
        "audio": audio,
        "backup": backup,
    }


async def _chunks(data: bytes) -> Any:
    yield data


async def _drain(chunks: Any) -> bytes:
    return b"".join([c async for c in chunks])


async def test_an_erased_recording_cannot_be_read_from_any_copy(
    gql: GraphQL, api: httpx.AsyncClient, runtime: Runtime, superuser: Engine
) -> None:
    made = await _recorded(gql, api, runtime, "Erased Recording")
    tenant_id, recording = made["tenant_id"], made["recording"]
    assert await erase_recording(
        runtime.tenant_engines, runtime.buckets, tenant_id, recording["id"], runtime.clock.now()
    )
    read = await gql(
        "query($id: ID!) { call(id: $id) { recording { status deletedAt } } }",
        {"id": made["call_id"]},
        token=made["token"],
    )
    assert read["data"]["call"]["recording"]["status"] == "DELETED"
    with superuser.connect() as conn:
        left = conn.execute(
            text(f"SELECT wrapped_key FROM {schema_of(made['account']['id'])}.recordings")
        ).scalar_one()
    assert left is None  # the only key to the audio is gone from the database
    bucket = await runtime.buckets.of(tenant_id)
    assert await bucket.keys("recordings/") == []
    # The object copy in a backup is noise without the key; and no other key opens it.
    other = await runtime.keys.generate_data_key(
        tenant_id, recording_key_context(tenant_id, recording["id"])
    )
    binding = Binding(tenant_id, recording["object_key"])
    with pytest.raises(IntegrityError):
        await _drain(decrypt_stream(other.plaintext, binding, _chunks(made["backup"]["object"])))
    assert not await erase_recording(
        runtime.tenant_engines, runtime.buckets, tenant_id, recording["id"], runtime.clock.now()
    )


async def test_a_destroyed_tenant_kek_leaves_every_copy_of_its_data_unreadable(
    gql: GraphQL, api: httpx.AsyncClient, runtime: Runtime, superuser: Engine
) -> None:
    made = await _recorded(gql, api, runtime, "Erased Tenant")
    tenant_id = made["tenant_id"]
    schema = schema_of(made["account"]["id"])
    with superuser.connect() as conn:
        data_key = bytes(conn.execute(text(f"SELECT wrapped FROM {schema}.data_keys")).scalar_one())
        notes = bytes(
            conn.execute(text(f"SELECT notes FROM {schema}.client_profiles")).scalar_one()
        )
    await erase_tenant_keys(runtime.platform_engine, runtime.keys, tenant_id, runtime.clock.now())

    # The backup's wrapped keys no longer unwrap: not the data key, not the recording's.
    with pytest.raises(KeyDestroyed):
        await runtime.keys.decrypt_data_key(tenant_id, data_key, key_context(tenant_id, "clients"))
    with pytest.raises(KeyDestroyed):
        await runtime.keys.decrypt_data_key(
            tenant_id,
            made["backup"]["recording_key"],
            recording_key_context(tenant_id, made["recording"]["id"]),
        )
    chunks = read_audio(
        runtime.keys,
        runtime.buckets,
        tenant_id,
        made["recording"]["id"],
        made["backup"]["recording_key"],
    )
    with pytest.raises(KeyDestroyed):
        await _drain(chunks)
    assert notes.startswith(b"AUD1")  # still there, and only ciphertext
    result = await gql(
        "query($id: ID!) { clientProfile(id: $id) { notes } }",
        {"id": made["profile"]["id"]},
        token=made["token"],
    )
    assert error_codes(result) == ["INTERNAL"]
    assert "secret plan" not in str(result)
    with superuser.connect() as conn:
        state = conn.execute(
            text("SELECT state FROM platform.tenant_keys WHERE account_id = :a"), {"a": tenant_id}
        ).scalar_one()
    assert state == "DESTROYED"
    # Only a purge destroys a tenant's KEK, and a purge ends with the account PURGED: as
    # it would be, so that later sweeps over every live tenant do not meet this one.
    with superuser.begin() as conn:
        conn.execute(
            text("UPDATE platform.accounts SET status = 'PURGED' WHERE id = :a"), {"a": tenant_id}
        )


async def test_plaintext_data_keys_never_reach_redis_or_a_log(
    gql: GraphQL, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    owner = await sign_up(gql, "Keys In Memory")
    await create_profile(gql, owner["token"], "Client", notes="n", budget="b")
    tenant_id = raw_id(owner["account"]["id"])
    await rotate_data_keys(runtime.tenant_engines, runtime.keys, tenant_id, runtime.clock.now())
    await reencrypt(runtime.tenant_engines, runtime.keys, tenant_id, runtime.clock.now())
    tenant = TenantRef(validate_tenant_schema(schema_of(owner["account"]["id"])))
    async with tenant_transaction(runtime.tenant_engines, tenant) as uow:
        key = (await current_key(uow, runtime.keys, tenant_id, "clients")).plaintext
    forms = [key, key.hex().encode(), base64.b64encode(key), base64.urlsafe_b64encode(key)]

    redis = Redis.from_url(runtime.settings.redis_url)
    try:
        stored = b""
        async for name in redis.scan_iter(count=1000):
            kind = await redis.type(name)
            if kind == b"string":
                stored += await redis.get(name) or b""
            elif kind == b"zset":
                stored += b"".join(await redis.zrange(name, 0, -1))
            elif kind == b"hash":
                stored += b"".join(v for v in (await redis.hgetall(name)).values())
    finally:
        await redis.aclose()
    logged = caplog.text.encode()
    for form in forms:
        assert form not in stored
        assert form not in logged
    # The sealed value itself opened with that key: the scan looked for the right thing.
    async with tenant_transaction(runtime.tenant_engines, tenant) as uow:
        row = (await uow.execute(text("SELECT id, notes FROM client_profiles"))).one()
    opened = open_sealed(key, Binding(tenant_id, f"client_profiles/{row.id}/notes"), row.notes)
    assert opened == b"n"

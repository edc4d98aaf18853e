"""E4: rotating data keys adds a version and a worker job re-encrypts every value to it,
in committed batches that a killed job resumes; every version keeps opening until the
pass is done. KEKs rotate on schedule, rewrapping every key the tenant has."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from audora.platform.clock import FrozenClock
from audora.platform.config import Settings
from audora.platform.crypto.envelope import IntegrityError
from audora.platform.db.tenant_binding import TenantRef, tenant_transaction
from audora.platform.db.tenant_names import validate_tenant_schema
from audora.platform.runtime import Runtime
from audora.tenants.calls import repository as calls
from audora.tenants.calls.content import Segment, Transcript, store_transcript
from audora.tenants.keys.jobs import reencrypt_tenant_job, rotate_due_keys_job
from audora.tenants.keys.reencrypt import Progress, reencrypt, rotate_data_keys
from audora.tenants.recordings.audio import read_audio

from audora_testing import (
    GraphQL,
    create_call,
    create_profile,
    raw_id,
    run_audora,
    run_jobs,
    schema_of,
    sign_up,
    upload_path,
    wav_bytes,
)

REPO = Path(__file__).resolve().parents[3]
PROFILES = "{ clientProfiles { name notes budget } }"


def _versions(superuser: Engine, schema: str) -> list[int]:
    """The key version in the header of every sealed client note and budget."""
    with superuser.connect() as conn:
        rows = conn.execute(
            text(
                f"SELECT get_byte(v, 7) FROM (SELECT notes AS v FROM {schema}.client_profiles "
                f"UNION ALL SELECT budget FROM {schema}.client_profiles) s WHERE v IS NOT NULL"
            )
        ).scalars()
        return sorted(rows)


async def _tenant_with_profiles(gql: GraphQL, name: str, count: int) -> dict[str, Any]:
    owner = await sign_up(gql, name)
    for n in range(count):
        await create_profile(gql, owner["token"], f"Client {n}", notes=f"notes {n}", budget=f"{n}k")
    return owner


async def test_a_data_key_rotation_reencrypts_everything_and_resumes_after_a_kill(
    gql: GraphQL, runtime: Runtime, superuser: Engine, clock: FrozenClock
) -> None:
    owner = await _tenant_with_profiles(gql, "Rotating Data Keys", 5)
    tenant_id = raw_id(owner["account"]["id"])
    schema = schema_of(owner["account"]["id"])
    expected = (await gql(PROFILES, token=owner["token"]))["data"]
    assert _versions(superuser, schema) == [1] * 10

    started = await rotate_data_keys(runtime.tenant_engines, runtime.keys, tenant_id, clock.now())
    assert started == [Progress("clients", 2, "RUNNING", 0, 0, 10)]
    # One batch of three, then the job "dies": its progress is committed...
    midway = await reencrypt(
        runtime.tenant_engines, runtime.keys, tenant_id, clock.now(), batch=3, max_batches=1
    )
    assert midway == [Progress("clients", 2, "RUNNING", 3, 3, 10)]
    assert _versions(superuser, schema) == [1] * 7 + [2] * 3
    # ...both versions open meanwhile, and new writes take the newest at once.
    assert (await gql(PROFILES, token=owner["token"]))["data"] == expected
    await create_profile(gql, owner["token"], "Client 5", notes="notes 5", budget="5k")
    assert _versions(superuser, schema) == [1] * 7 + [2] * 5

    # A new run picks up from the cursor and finishes.
    done = await reencrypt(runtime.tenant_engines, runtime.keys, tenant_id, clock.now(), batch=3)
    (finished,) = done
    assert (finished.status, finished.rewritten, finished.total) == ("DONE", 10, 10)
    # The new profile's values were written under v2: examined (if its id sorts after
    # the cursor), never rewritten.
    assert finished.examined in (11, 12)
    assert _versions(superuser, schema) == [2] * 12
    read = (await gql(PROFILES, token=owner["token"]))["data"]["clientProfiles"]
    assert read[:5] == expected["clientProfiles"]


async def test_audora_keys_rotate_data_keys_queues_a_job_the_worker_finishes(
    gql: GraphQL, runtime: Runtime, superuser: Engine, stack_env: dict[str, str]
) -> None:
    owner = await _tenant_with_profiles(gql, "Queued Rotation", 3)
    async with tenant_transaction(
        runtime.tenant_engines, TenantRef(validate_tenant_schema(schema_of(owner["account"]["id"])))
    ) as uow:
        call_owner = await create_call(
            gql, owner["token"], (await _first_profile(gql, owner))["id"]
        )
        await store_transcript(
            uow,
            runtime.keys,
            raw_id(owner["account"]["id"]),
            raw_id(call_owner),
            Transcript("the words", (Segment(0, 1, "A", "the words"),)),
        )
        await uow.commit()
    out = run_audora(stack_env, "keys", "rotate", "--tenant", owner["account"]["id"], "--data-keys")
    tenant_id = raw_id(owner["account"]["id"])
    assert f"{tenant_id} clients data key v2: 6 values" in out
    assert f"{tenant_id} transcripts data key v2: 2 values" in out

    await run_jobs(runtime, [reencrypt_tenant_job])
    status = run_audora(stack_env, "keys", "status", "--tenant", owner["account"]["id"])
    assert f"{tenant_id} re-encryption clients -> v2: DONE 6/6 examined, 6 rewritten" in status
    assert f"{tenant_id} re-encryption transcripts -> v2: DONE 2/2 examined, 2 rewritten" in status
    assert _versions(superuser, schema_of(owner["account"]["id"])) == [2] * 6


async def _first_profile(gql: GraphQL, owner: dict[str, Any]) -> dict[str, Any]:
    result = await gql("{ clientProfiles { id } }", token=owner["token"])
    profile: dict[str, Any] = result["data"]["clientProfiles"][0]
    return profile


async def test_a_tenant_kek_is_rotated_on_schedule_with_every_key_it_wraps(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    superuser: Engine,
    settings: Settings,
) -> None:
    owner = await _tenant_with_profiles(gql, "Scheduled Rotation", 1)
    tenant_id = raw_id(owner["account"]["id"])
    call_id = await create_call(gql, owner["token"], (await _first_profile(gql, owner))["id"])
    audio = wav_bytes(os.urandom(70_000))
    response = await api.put(
        await upload_path(gql, owner["token"], call_id),
        content=audio,
        headers={"content-type": "audio/wav"},
    )
    assert response.status_code == 201
    ctx = {"runtime": runtime}
    assert f"{tenant_id}:v2" not in await rotate_due_keys_job(ctx)  # not due yet

    with superuser.begin() as conn:
        conn.execute(
            text("UPDATE platform.tenant_keys SET created_at = :t WHERE account_id = :a"),
            {
                "t": runtime.clock.now() - timedelta(days=settings.kek_rotation_days + 1),
                "a": tenant_id,
            },
        )
    assert f"{tenant_id}:v2" in await rotate_due_keys_job(ctx)
    assert f"{tenant_id}:v2" not in await rotate_due_keys_job(ctx)  # rotated_at moved on

    schema = schema_of(owner["account"]["id"])
    with superuser.connect() as conn:
        wrapped = [
            *conn.execute(text(f"SELECT wrapped FROM {schema}.data_keys")).scalars(),
            *conn.execute(text(f"SELECT wrapped_key FROM {schema}.recordings")).scalars(),
            *conn.execute(
                text(
                    "SELECT wrapped_key FROM platform.tenant_storage_identities "
                    "WHERE account_id = :a"
                ),
                {"a": tenant_id},
            ).scalars(),
        ]
    assert len(wrapped) == 3
    assert {runtime.keys.kek_version_of(bytes(w)) for w in wrapped} == {2}
    # Everything still opens: the data, the audio, and the bucket credentials.
    runtime.buckets.forget(tenant_id)
    assert (await gql(PROFILES, token=owner["token"]))["data"]["clientProfiles"][0]["notes"] == (
        "notes 0"
    )
    async with tenant_transaction(
        runtime.tenant_engines, TenantRef(validate_tenant_schema(schema))
    ) as uow:
        recording = await calls.recording_of(uow, raw_id(call_id))
    assert recording is not None
    chunks = read_audio(
        runtime.keys, runtime.buckets, tenant_id, recording["id"], recording["wrapped_key"]
    )
    assert b"".join([c async for c in chunks]) == audio


async def test_a_value_that_fails_its_check_stops_the_pass_and_is_audited(
    gql: GraphQL, runtime: Runtime, superuser: Engine, clock: FrozenClock
) -> None:
    owner = await _tenant_with_profiles(gql, "Broken Value", 2)
    tenant_id = raw_id(owner["account"]["id"])
    schema = schema_of(owner["account"]["id"])
    with superuser.begin() as conn:
        conn.exec_driver_sql(
            f"UPDATE {schema}.client_profiles SET notes = "
            "set_byte(notes, length(notes) - 1, get_byte(notes, length(notes) - 1) # 1) "
            f"WHERE id = (SELECT id FROM {schema}.client_profiles ORDER BY id LIMIT 1)"
        )
    await rotate_data_keys(runtime.tenant_engines, runtime.keys, tenant_id, clock.now())
    with pytest.raises(IntegrityError):
        await reencrypt_tenant_job({"runtime": runtime}, str(tenant_id))
    with superuser.connect() as conn:
        events = conn.execute(
            text(
                f"SELECT actor, target FROM {schema}.audit_events "
                "WHERE action = 'security.integrity_failure'"
            )
        ).all()
        broken = conn.execute(
            text(f"SELECT id FROM {schema}.client_profiles ORDER BY id LIMIT 1")
        ).scalar_one()
    assert [tuple(e) for e in events] == [("system:reencrypt", f"client_profiles/{broken}/notes")]

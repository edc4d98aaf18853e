"""L1: audio is erased 72 hours after its transcript is stored. Just before the deadline
the recording is kept and readable; just after it, its key is gone (nobody can decrypt
any copy), every version of its object is deleted, the deletion is confirmed, and the
tenant's audit log says so. Leftover objects are found again by the next sweep; a
recording the sweep cannot reach is reported overdue, never passed over in silence."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from audora.platform.clock import FrozenClock
from audora.platform.config import Settings
from audora.platform.runtime import Runtime
from audora.tenants.lifecycle.jobs import run_due_retention
from audora.tenants.lifecycle.schedule import DataClass, retention_of
from audora.tenants.recordings.audio import read_audio
from audora.tenants.recordings.retention import FULL_LISTING_EVERY, delete_due_recordings

from audora_testing import (
    GraphQL,
    admin_s3,
    create_call,
    create_profile,
    mark_due,
    moved,
    raw_id,
    run_audora,
    schema_of,
    sign_up,
    tenant_bucket,
    upload_path,
    wav_bytes,
)

AUDIO = wav_bytes(b"\x01\x02" * 4096)


def _versions(settings: Settings, account_id: str) -> list[dict[str, Any]]:
    listed = admin_s3(settings).list_object_versions(Bucket=tenant_bucket(settings, account_id))
    return [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]


async def _transcribed_recording(
    gql: GraphQL, api: httpx.AsyncClient, superuser: Engine, clock: FrozenClock
) -> dict[str, Any]:
    """An uploaded recording whose transcript was stored now: due in 72 hours."""
    owner = await sign_up(gql, "Retention Studio")
    profile = await create_profile(gql, owner["token"], "Client")
    call_id = await create_call(gql, owner["token"], profile["id"])
    path = await upload_path(gql, owner["token"], call_id)
    put = await api.put(path, content=AUDIO, headers={"content-type": "audio/wav"})
    assert put.status_code == 201, put.text
    schema = schema_of(owner["account"]["id"])
    now = clock.now()
    with superuser.begin() as conn:
        recording = conn.execute(
            text(
                f"UPDATE {schema}.recordings SET transcribed_at = :now,"
                " delete_after = :due WHERE call_id = :call RETURNING id, wrapped_key"
            ),
            {"now": now, "due": now + timedelta(hours=72), "call": raw_id(call_id)},
        ).one()
    mark_due(superuser, raw_id(owner["account"]["id"]), "retention", now + timedelta(hours=72))
    return {
        **owner,
        "call_id": call_id,
        "tenant": raw_id(owner["account"]["id"]),
        "schema": schema,
        "recording": recording.id,
        "wrapped_key": bytes(recording.wrapped_key),
    }


async def _readable(runtime: Runtime, made: dict[str, Any]) -> bytes:
    out = b""
    async for chunk in read_audio(
        runtime.keys, runtime.buckets, made["tenant"], made["recording"], made["wrapped_key"]
    ):
        out += chunk
    return out


def _row(superuser: Engine, made: dict[str, Any]) -> Any:
    with superuser.connect() as conn:
        return conn.execute(
            text(
                f"SELECT status, wrapped_key, deleted_at FROM {made['schema']}.recordings"
                " WHERE id = :id"
            ),
            {"id": made["recording"]},
        ).one()


def _audit_actions(superuser: Engine, made: dict[str, Any]) -> list[str]:
    with superuser.connect() as conn:
        return list(
            conn.execute(
                text(f"SELECT action FROM {made['schema']}.audit_events ORDER BY seq")
            ).scalars()
        )


async def test_audio_is_kept_until_72_hours_after_transcription_and_gone_just_after(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    superuser: Engine,
    clock: FrozenClock,
) -> None:
    made = await _transcribed_recording(gql, api, superuser, clock)
    account = made["account"]["id"]

    with moved(clock, timedelta(hours=72) - timedelta(seconds=1)):
        kept = await delete_due_recordings(runtime, made["tenant"])
        assert kept.erased == 0
        assert _row(superuser, made).status == "STORED"
        assert await _readable(runtime, made) == AUDIO

    with moved(clock, timedelta(hours=72) + timedelta(seconds=1)):
        swept = await delete_due_recordings(runtime, made["tenant"])
        erased_at = clock.now()
    assert (swept.erased, swept.objects_left, swept.overdue) == (1, 0, 0)
    row = _row(superuser, made)
    assert row.status == "DELETED"
    assert row.wrapped_key is None
    assert row.deleted_at == erased_at
    assert _versions(settings, account) == []
    with pytest.raises(Exception):  # noqa: B017, PT011 (the object is gone: any error will do)
        await _readable(runtime, made)
    assert "recording.erased" in _audit_actions(superuser, made)

    # Through the API: the recording says it is deleted, and when.
    result = await gql(
        "query($id: ID!) { call(id: $id) { recording { status deletedAt } } }",
        {"id": made["call_id"]},
        token=made["token"],
    )
    assert result["data"]["call"]["recording"]["status"] == "DELETED", result


async def test_every_old_version_of_the_audio_object_is_deleted_too(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    superuser: Engine,
    clock: FrozenClock,
) -> None:
    made = await _transcribed_recording(gql, api, superuser, clock)
    account = made["account"]["id"]
    admin, bucket = admin_s3(settings), tenant_bucket(settings, account)
    admin.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    key = f"recordings/{made['recording']}"
    admin.put_object(Bucket=bucket, Key=key, Body=b"a second version")
    admin.put_object(Bucket=bucket, Key=key, Body=b"a third version")
    assert len(_versions(settings, account)) >= 2

    with moved(clock, timedelta(hours=73)):
        swept = await delete_due_recordings(runtime, made["tenant"])
    assert swept.erased == 1
    assert swept.objects_left == 0
    assert _versions(settings, account) == []


async def test_an_object_left_behind_after_the_key_was_destroyed_goes_on_the_next_sweep(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    superuser: Engine,
    clock: FrozenClock,
) -> None:
    made = await _transcribed_recording(gql, api, superuser, clock)
    # A sweep that dropped the key and then died before deleting the object.
    with superuser.begin() as conn:
        conn.execute(
            text(
                f"UPDATE {made['schema']}.recordings SET wrapped_key = NULL,"
                " status = 'DELETED', deleted_at = now() WHERE id = :id"
            ),
            {"id": made["recording"]},
        )
    assert len(_versions(settings, made["account"]["id"])) == 1

    swept = await delete_due_recordings(runtime, made["tenant"])
    assert (swept.erased, swept.objects_deleted, swept.objects_left) == (0, 1, 0)
    assert _versions(settings, made["account"]["id"]) == []


async def test_audio_with_no_recording_row_is_deleted_by_the_daily_listing_once_an_hour_old(
    gql: GraphQL, runtime: Runtime, settings: Settings, clock: FrozenClock
) -> None:
    owner = await sign_up(gql, "Orphan Studio")
    account = owner["account"]["id"]
    stray = f"recordings/{uuid.uuid4()}"
    # The store stamps objects by the wall clock, and the test's application clock is
    # shared with earlier tests that may have left it ahead or behind: for this test it
    # reads the wall clock's now, then moves on from there.
    with moved(clock, datetime.now(UTC) - clock.now()):
        admin_s3(settings).put_object(
            Bucket=tenant_bucket(settings, account), Key=stray, Body=b"sealed"
        )
        young = await delete_due_recordings(runtime, raw_id(account))
        assert young.objects_deleted == 0
        assert [v["Key"] for v in _versions(settings, account)] == [stray]

        # An hour old, but a sweep that erased nothing lists the bucket once a day only.
        with moved(clock, timedelta(hours=1, seconds=1)):
            skipped = await delete_due_recordings(runtime, raw_id(account))
        assert skipped.objects_deleted == 0
        assert [v["Key"] for v in _versions(settings, account)] == [stray]

        with moved(clock, FULL_LISTING_EVERY + timedelta(seconds=1)):
            old = await delete_due_recordings(runtime, raw_id(account))
        assert old.objects_deleted == 1
        assert _versions(settings, account) == []


async def test_a_recording_the_sweep_cannot_erase_is_reported_overdue(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    superuser: Engine,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    made = await _transcribed_recording(gql, api, superuser, clock)
    with superuser.connect() as holder:
        # Another transaction holds the row (a stuck sweep, say): this one must skip it
        # and say that it is late, not wait forever or keep quiet.
        holder.execute(
            text(f"SELECT 1 FROM {made['schema']}.recordings WHERE id = :id FOR UPDATE"),
            {"id": made["recording"]},
        )
        with moved(clock, timedelta(hours=74)), caplog.at_level("ERROR"):
            swept = await delete_due_recordings(runtime, made["tenant"])
        holder.rollback()
    assert (swept.erased, swept.overdue) == (0, 1)
    assert "1 recordings overdue" in caplog.text


async def test_the_retention_run_sweeps_every_tenant(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    superuser: Engine,
    clock: FrozenClock,
) -> None:
    first = await _transcribed_recording(gql, api, superuser, clock)
    second = await _transcribed_recording(gql, api, superuser, clock)
    with moved(clock, timedelta(hours=73)):
        run = await run_due_retention(runtime)
    assert run.failed_tenants == []
    assert run.recordings_erased >= 2
    assert _row(superuser, first).status == _row(superuser, second).status == "DELETED"


def test_the_operator_runs_retention_now_from_the_cli(stack_env: dict[str, str]) -> None:
    out = run_audora(stack_env, "retention", "run")
    assert '"failed_tenants": []' in out


def test_the_audio_retention_setting_can_shorten_the_promise_but_never_lengthen_it() -> None:
    promised = retention_of(DataClass.CALL_AUDIO).keep
    assert Settings(audio_retention_hours=24).audio_retention == timedelta(hours=24)
    assert Settings().audio_retention == promised
    with pytest.raises(ValueError, match="72"):
        Settings(audio_retention_hours=73)

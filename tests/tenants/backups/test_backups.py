"""I2: every tenant is backed up daily into a bucket apart from its own, encrypted under a
key its own KEK wraps; backups are kept 30 days; a restore drill restores one and
verifies it. L3/L6: a tenant whose KEK is destroyed has unreadable backups from that
moment, deleted at their expiry. L1: recording keys never reach a backup.

Everything runs on the real stack: pg_dump and psql from the pgserver wheel against the
embedded PostgreSQL, the SeaweedFS store, the key service."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import httpx
import pytest
from botocore.exceptions import ClientError
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from audora.platform.clock import FrozenClock
from audora.platform.config import Settings
from audora.platform.crypto.stream import decrypt_stream
from audora.platform.db.engines import sync_engine
from audora.platform.db.tenant_binding import migrator_search_path
from audora.platform.db.tenant_names import scratch_schema
from audora.platform.jobs.worker import worker_settings
from audora.platform.keys.service import KeyDestroyed, KeyServiceError
from audora.platform.runtime import Runtime
from audora.platform.stack.embedded import EmbeddedStack
from audora.platform.stack.users import APP_USER
from audora.tenants.backups import schema_script
from audora.tenants.backups.drill import _restore as drill_restore
from audora.tenants.backups.drill import restore_drill
from audora.tenants.backups.jobs import backup_tenant_job, run_backups
from audora.tenants.backups.keys import backup_key_context
from audora.tenants.backups.service import backup_binding, backup_tenant, expire_backups
from audora.tenants.keys.erasure import erase_tenant_keys
from audora.tenants.keys.rotation import rotate_tenant
from audora.tenants.lifecycle.schedule import DataClass, retention_of
from audora.tenants.migrate.runner import migrate_tenant, run_tenant_stream
from audora.tenants.migrate.streams import head
from audora.tenants.placement.move import snapshot

from audora_testing import (
    REPO,
    GraphQL,
    admin_s3,
    create_call,
    create_profile,
    moved,
    raw_id,
    root_only,
    run_audora,
    schema_of,
    sign_up,
    upload_path,
    wav_bytes,
)

TITLE = "Zebrafinch roadmap kickoff"
CLIENT = "Quillfeather Holdings"


async def _tenant_with_content(
    gql: GraphQL, api: httpx.AsyncClient, *, recording: bool = False
) -> dict[str, Any]:
    owner = await sign_up(gql, "Backup Studio")
    profile = await create_profile(gql, owner["token"], CLIENT, notes="budget talk")
    call_id = await create_call(gql, owner["token"], profile["id"], TITLE)
    if recording:
        path = await upload_path(gql, owner["token"], call_id)
        put = await api.put(
            path, content=wav_bytes(b"\x01\x02" * 2048), headers={"content-type": "audio/wav"}
        )
        assert put.status_code == 201, put.text
    return {
        **owner,
        "tenant": raw_id(owner["account"]["id"]),
        "schema": schema_of(owner["account"]["id"]),
    }


def _backup_row(superuser: Engine, backup_id: uuid.UUID) -> Any:
    with superuser.connect() as conn:
        return conn.execute(
            text("SELECT * FROM platform.backups WHERE id = :id"), {"id": backup_id}
        ).first()


def _drills(superuser: Engine, tenant: uuid.UUID) -> list[Any]:
    with superuser.connect() as conn:
        return list(
            conn.execute(
                text("SELECT * FROM platform.restore_drills WHERE account_id = :t ORDER BY at"),
                {"t": tenant},
            )
        )


def _audit(superuser: Engine, schema: str, action: str) -> list[Any]:
    with superuser.connect() as conn:
        return list(
            conn.execute(
                text(f"SELECT target, details FROM {schema}.audit_events WHERE action = :a"),
                {"a": action},
            )
        )


def _schemas(superuser: Engine, like: str) -> list[str]:
    with superuser.connect() as conn:
        return list(
            conn.execute(
                text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :l"), {"l": like}
            ).scalars()
        )


def _stored(settings: Settings, key: str) -> bytes:
    body: bytes = (
        admin_s3(settings).get_object(Bucket=settings.backup_bucket, Key=key)["Body"].read()
    )
    return body


async def _plaintext(runtime: Runtime, tenant: uuid.UUID, row: Any, stored: bytes) -> bytes:
    """What the test (with the tenant's KEK alive) reads out of a backup."""
    key = await runtime.keys.decrypt_data_key(
        tenant, bytes(row.wrapped_key), backup_key_context(tenant, row.id)
    )

    async def source() -> Any:
        yield stored

    out = b""
    async for chunk in decrypt_stream(key, backup_binding(tenant, row.object_key), source()):
        out += chunk
    return out


async def test_a_tenant_backup_is_ciphertext_in_the_backup_bucket_and_its_drill_passes(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    superuser: Engine,
) -> None:
    made = await _tenant_with_content(gql, api)
    taken = await backup_tenant(runtime, made["tenant"])
    row = _backup_row(superuser, taken.id)
    assert row.status == "COMPLETE"
    assert row.object_key.startswith(f"backups/{made['tenant'].hex}/")
    assert row.expires_at - row.taken_at == timedelta(days=30)
    assert row.row_counts["calls"] == 1
    assert row.row_counts["client_profiles"] == 1
    assert row.row_counts["audit_events"] >= 1

    stored = _stored(settings, row.object_key)
    assert len(stored) == row.size_bytes
    for plain in (TITLE, CLIENT, made["schema"], "PostgreSQL database dump", "COPY "):
        assert plain.encode() not in stored
    dump = await _plaintext(runtime, made["tenant"], row, stored)
    assert TITLE.encode() in dump  # the same bytes do hold the tenant's data

    drill = await restore_drill(runtime, made["tenant"])
    assert drill.ok, drill.details
    assert drill.details["counts_match"] is True
    assert drill.details["audit_chain_valid"] is True
    (recorded,) = _drills(superuser, made["tenant"])
    assert (recorded.ok, recorded.backup_id) == (True, taken.id)
    assert TITLE not in json.dumps(recorded.details)
    (audited,) = _audit(superuser, made["schema"], "backup.restore_drill")
    assert audited.target == f"backup:{taken.id}"
    assert audited.details["ok"] is True
    assert _schemas(superuser, "restore_%") == []


def _shape(superuser: Engine, schema: str) -> dict[str, list[Any]]:
    """A schema's tables, columns, constraints, indexes and triggers, its name taken out."""
    queries = {
        "columns": "SELECT table_name, column_name, data_type, is_nullable, column_default, "
        "character_maximum_length, ordinal_position FROM information_schema.columns "
        "WHERE table_schema = :s ORDER BY 1, 7",
        "constraints": "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(c.oid) "
        "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
        "WHERE n.nspname = :s ORDER BY 2",
        "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = :s ORDER BY 1",
        "triggers": "SELECT tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = :s AND NOT t.tgisinternal ORDER BY 1",
    }
    with superuser.connect() as conn:
        return {
            kind: [
                # The trigger function is named after its schema, cut to 63 characters.
                tuple(
                    re.sub(r"refuse_change_\w+", "refuse_change_<schema>", str(v)).replace(
                        schema, "<schema>"
                    )
                    for v in row
                )
                for row in conn.execute(text(query), {"s": schema})
            ]
            for kind, query in queries.items()
        }


async def test_a_backup_at_the_head_is_written_without_pg_dump_and_restores_schema_and_rows(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    superuser: Engine,
) -> None:
    # pg_dump reads the whole database's catalog (a minute a tenant at 10,000 tenants):
    # a schema at the head is written from its rows alone.
    made = await _tenant_with_content(gql, api, recording=True)
    with patch(
        "audora.tenants.backups.service.pg_dump_schema", side_effect=AssertionError("pg_dump ran")
    ):
        taken = await backup_tenant(runtime, made["tenant"])
    row = _backup_row(superuser, taken.id)
    dump = await _plaintext(runtime, made["tenant"], row, _stored(settings, row.object_key))
    assert dump.startswith(b"-- Audora backup of tenant schema " + made["schema"].encode())
    assert row.row_counts["alembic_version"] == 1
    assert row.row_counts["recordings"] == 1

    scratch = scratch_schema(uuid.uuid4())
    try:
        await drill_restore(runtime, made["tenant"], row, scratch)
        assert _shape(superuser, scratch) == _shape(superuser, made["schema"])
        live = await snapshot(settings.provisioner_database_url, made["schema"])
        restored = await snapshot(settings.provisioner_database_url, scratch)  # type: ignore[arg-type]
        # Every row as it is live, but the recordings' keys, which no backup holds.
        assert restored.differences(live) == ["table recordings"]
        assert restored.tables["recordings"][0] == live.tables["recordings"][0] == 1
        assert restored.version == live.version == head("tenant")
    finally:
        with superuser.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {scratch} CASCADE"))


async def test_a_table_the_head_does_not_know_is_backed_up_too_by_pg_dump(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    superuser: Engine,
) -> None:
    made = await _tenant_with_content(gql, api)
    owner = sync_engine(settings.provisioner_database_url)  # the schema's owner
    try:
        with owner.begin() as conn:
            conn.execute(text(f"CREATE TABLE {made['schema']}.made_by_hand (note text)"))
            conn.execute(text(f"INSERT INTO {made['schema']}.made_by_hand VALUES ('kept')"))
        taken = await backup_tenant(runtime, made["tenant"])
    finally:
        with owner.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {made['schema']}.made_by_hand"))
        owner.dispose()
    row = _backup_row(superuser, taken.id)
    dump = await _plaintext(runtime, made["tenant"], row, _stored(settings, row.object_key))
    assert b"PostgreSQL database dump" in dump
    assert row.row_counts["made_by_hand"] == 1


async def test_a_backup_never_queues_behind_ddl_and_gives_up_storing_nothing(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    superuser: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Its ACCESS SHARE locks are tried with NOWAIT: while a migration holds a table, the
    # backup waits outside the lock queue (where the tenant's own queries would pile up
    # behind it), and after its last try it fails, with nothing stored.
    made = await _tenant_with_content(gql, api)
    monkeypatch.setattr(schema_script, "LOCK_TRIES", 3)
    monkeypatch.setattr(schema_script, "LOCK_PAUSE_SECONDS", 0.0)
    with superuser.connect() as holder:
        holder.execute(text(f"LOCK TABLE {made['schema']}.calls IN ACCESS EXCLUSIVE MODE"))
        with pytest.raises(DBAPIError, match="could not obtain lock"):
            await backup_tenant(runtime, made["tenant"])
        holder.rollback()
    with superuser.connect() as conn:
        statuses = conn.execute(
            text("SELECT status FROM platform.backups WHERE account_id = :t"),
            {"t": made["tenant"]},
        ).scalars()
        assert list(statuses) == ["FAILED"]
    listed = admin_s3(settings).list_objects_v2(
        Bucket=settings.backup_bucket, Prefix=f"backups/{made['tenant'].hex}/"
    )
    assert listed.get("KeyCount", 0) == 0
    # The lock gone, the next try goes through.
    taken = await backup_tenant(runtime, made["tenant"])
    assert _backup_row(superuser, taken.id).status == "COMPLETE"


async def test_a_schema_behind_the_head_is_backed_up_by_pg_dump_and_its_drill_passes(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    superuser: Engine,
) -> None:
    made = await _tenant_with_content(gql, api)
    provisioner = sync_engine(settings.provisioner_database_url)
    try:
        with provisioner.begin() as conn, migrator_search_path(conn, made["schema"]):
            run_tenant_stream(conn, made["schema"], "0007_tenant", down=True)
        taken = await backup_tenant(runtime, made["tenant"])
        row = _backup_row(superuser, taken.id)
        dump = await _plaintext(runtime, made["tenant"], row, _stored(settings, row.object_key))
        assert b"PostgreSQL database dump" in dump
        drill = await restore_drill(runtime, made["tenant"])
        assert drill.ok, drill.details
    finally:
        assert migrate_tenant(provisioner, made["schema"], head("tenant")) is True
        provisioner.dispose()


async def test_the_backup_bucket_is_apart_from_tenant_buckets_and_closed_to_tenant_keys(
    gql: GraphQL, api: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    made = await _tenant_with_content(gql, api)
    taken = await backup_tenant(runtime, made["tenant"])
    assert not settings.backup_bucket.startswith(settings.bucket_prefix)
    assert settings.backup_bucket not in runtime.storage.tenant_buckets()
    own = (await runtime.buckets.of(made["tenant"])).client
    for attempt in (
        lambda: own.list_objects_v2(Bucket=settings.backup_bucket),
        lambda: own.get_object(Bucket=settings.backup_bucket, Key=taken.object_key),
        lambda: own.put_object(Bucket=settings.backup_bucket, Key="backups/x", Body=b"x"),
    ):
        with pytest.raises(ClientError, match="AccessDenied"):
            attempt()


async def test_recording_keys_are_left_out_of_every_backup(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    superuser: Engine,
) -> None:
    made = await _tenant_with_content(gql, api, recording=True)
    with superuser.connect() as conn:
        recording = conn.execute(
            text(f"SELECT id, wrapped_key FROM {made['schema']}.recordings")
        ).one()
    assert recording.wrapped_key is not None
    taken = await backup_tenant(runtime, made["tenant"])
    row = _backup_row(superuser, taken.id)
    assert row.row_counts["recordings"] == 1
    dump = await _plaintext(runtime, made["tenant"], row, _stored(settings, row.object_key))

    wrapped = bytes(recording.wrapped_key)
    assert wrapped.hex().encode() not in dump
    lines = dump.split(b"\n")
    header = next(
        i for i, line in enumerate(lines) if line.startswith(b"COPY ") and b".recordings (" in line
    )
    columns = lines[header].split(b"(", 1)[1].split(b")", 1)[0].split(b", ")
    values = lines[header + 1].split(b"\t")
    assert values[0] == str(recording.id).encode()
    assert values[columns.index(b"wrapped_key")] == b"\\N"
    # Only the key is left out: the row, and the restore, are whole.
    drill = await restore_drill(runtime, made["tenant"])
    assert drill.ok, drill.details


async def test_a_tampered_backup_fails_its_drill_which_is_recorded_and_audited(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    superuser: Engine,
) -> None:
    made = await _tenant_with_content(gql, api)
    taken = await backup_tenant(runtime, made["tenant"])
    stored = bytearray(_stored(settings, taken.object_key))
    stored[len(stored) // 2] ^= 0x01
    admin_s3(settings).put_object(
        Bucket=settings.backup_bucket, Key=taken.object_key, Body=bytes(stored)
    )
    with superuser.connect() as conn:
        calls_before = conn.execute(text(f"SELECT count(*) FROM {made['schema']}.calls")).scalar()

    drill = await restore_drill(runtime, made["tenant"])

    assert not drill.ok
    assert drill.details["error"] == "integrity"
    (recorded,) = _drills(superuser, made["tenant"])
    assert (recorded.ok, recorded.backup_id, recorded.details["error"]) == (
        False,
        taken.id,
        "integrity",
    )
    (audited,) = _audit(superuser, made["schema"], "backup.restore_drill")
    assert audited.details["ok"] is False
    # Nothing else touched: no scratch copy, the live schema and the backup as they were.
    assert _schemas(superuser, "restore_%") == []
    with superuser.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {made['schema']}.calls")).scalar() == (
            calls_before
        )
    assert _backup_row(superuser, taken.id).status == "COMPLETE"
    assert _stored(settings, taken.object_key) == bytes(stored)


async def test_a_backup_cut_short_restores_nothing_though_its_first_chunks_were_loaded(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    superuser: Engine,
) -> None:
    made = await _tenant_with_content(gql, api)
    with superuser.begin() as conn:
        # Enough rows for a dump of many 64 KiB chunks: psql gets the first ones (and
        # creates the scratch schema in its transaction) before the cut is found.
        conn.execute(
            text(
                f"INSERT INTO {made['schema']}.client_profiles (id, name, created_by) "
                "SELECT gen_random_uuid(), 'filler profile ' || n, gen_random_uuid() "
                "FROM generate_series(1, 5000) AS n"
            )
        )
    taken = await backup_tenant(runtime, made["tenant"])
    stored = _stored(settings, taken.object_key)
    assert len(stored) > 4 * 64 * 1024
    admin_s3(settings).put_object(
        Bucket=settings.backup_bucket, Key=taken.object_key, Body=stored[: len(stored) - 20]
    )
    drill = await restore_drill(runtime, made["tenant"])
    assert (drill.ok, drill.details["error"]) == (False, "integrity")
    assert _schemas(superuser, "restore_%") == []


async def test_after_the_tenant_key_is_erased_its_backups_cannot_be_decrypted_and_expire(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    superuser: Engine,
    clock: FrozenClock,
) -> None:
    made = await _tenant_with_content(gql, api)
    taken = await backup_tenant(runtime, made["tenant"])
    row = _backup_row(superuser, taken.id)
    await erase_tenant_keys(runtime.platform_engine, runtime.keys, made["tenant"], clock.now())
    with superuser.begin() as conn:
        # As the purge leaves it (whose first step is this erasure): no job of the live
        # tenants' (backups, retention) reaches it any more.
        conn.execute(
            text("UPDATE platform.accounts SET status = 'PURGED' WHERE id = :id"),
            {"id": made["tenant"]},
        )

    with pytest.raises(KeyServiceError) as failure:
        await runtime.keys.decrypt_data_key(
            made["tenant"], bytes(row.wrapped_key), backup_key_context(made["tenant"], row.id)
        )
    assert isinstance(failure.value, KeyDestroyed)
    drill = await restore_drill(runtime, made["tenant"])
    assert (drill.ok, drill.details["error"]) == (False, "key_unavailable")
    (recorded,) = _drills(superuser, made["tenant"])
    assert recorded.ok is False
    (audited,) = _audit(superuser, made["schema"], "backup.restore_drill")
    assert audited.details["error"] == "key_unavailable"

    with moved(clock, timedelta(days=30) + timedelta(seconds=1)):
        await expire_backups(runtime, made["tenant"])
    assert _backup_row(superuser, taken.id) is None
    with pytest.raises(ClientError):
        _stored(settings, taken.object_key)


async def test_backups_are_kept_30_days_and_deleted_just_after(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    superuser: Engine,
    clock: FrozenClock,
) -> None:
    assert retention_of(DataClass.BACKUPS).keep == timedelta(days=30)
    made = await _tenant_with_content(gql, api)
    older = await backup_tenant(runtime, made["tenant"])
    with moved(clock, timedelta(seconds=2)):
        newer = await backup_tenant(runtime, made["tenant"])

    with moved(clock, timedelta(days=30) + timedelta(seconds=1)):
        run = await run_backups(runtime, made["tenant"])
    assert (run.taken, run.failed_tenants, run.expiry.deleted) == (1, [], 1)

    assert _backup_row(superuser, older.id) is None
    versions = admin_s3(settings).list_object_versions(
        Bucket=settings.backup_bucket, Prefix=older.object_key
    )
    assert [*versions.get("Versions", []), *versions.get("DeleteMarkers", [])] == []
    # 30 days less a second old: kept, object and row.
    assert _backup_row(superuser, newer.id).status == "COMPLETE"
    assert _stored(settings, newer.object_key)


async def test_kek_rotation_rewraps_backup_keys_and_the_backup_still_restores(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    superuser: Engine,
    clock: FrozenClock,
) -> None:
    made = await _tenant_with_content(gql, api)
    taken = await backup_tenant(runtime, made["tenant"])
    before = bytes(_backup_row(superuser, taken.id).wrapped_key)
    rotation = await rotate_tenant(
        runtime.tenant_engines, runtime.platform_engine, runtime.keys, made["tenant"], clock.now()
    )
    after = bytes(_backup_row(superuser, taken.id).wrapped_key)
    assert after != before
    assert runtime.keys.kek_version_of(after) == rotation.kek_version == 2
    drill = await restore_drill(runtime, made["tenant"])
    assert drill.ok, drill.details


def test_the_worker_backs_up_daily_and_drills_weekly(settings: Settings) -> None:
    with patch("audora.platform.jobs.worker.get_settings", return_value=settings):
        configured = worker_settings()
    crons = {job.name.removeprefix("cron:"): job for job in configured["cron_jobs"]}
    daily, weekly = crons["daily_backups_job"], crons["restore_drill_job"]
    assert (daily.weekday, daily.hour, daily.minute) == (None, {1}, {23})
    assert (weekly.weekday, weekly.hour, weekly.minute) == ({6}, {5}, {11})
    registered = {getattr(f, "name", getattr(f, "__name__", "")) for f in configured["functions"]}
    assert {"backup_tenant_job", "daily_backups_job", "restore_drill_job"} <= registered


async def test_the_per_tenant_job_takes_a_backup(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Job Studio")
    done = await backup_tenant_job({"runtime": runtime, "job_try": 1}, owner["account"]["id"][4:])
    assert _backup_row(superuser, uuid.UUID(done["backup"])).status == "COMPLETE"


async def test_a_drill_of_a_tenant_without_a_backup_is_a_recorded_failure(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner = await sign_up(gql, "No Backup Yet")
    tenant = raw_id(owner["account"]["id"])
    drill = await restore_drill(runtime, tenant)
    assert (drill.ok, drill.backup_id, drill.details["error"]) == (False, None, "no_backup")
    (recorded,) = _drills(superuser, tenant)
    assert recorded.ok is False


async def test_audora_backup_run_and_verify_on_the_command_line(
    gql: GraphQL, api: httpx.AsyncClient, stack_env: dict[str, str], superuser: Engine
) -> None:
    made = await _tenant_with_content(gql, api)
    account = made["account"]["id"]
    ran = json.loads(run_audora(stack_env, "backup", "run", "--tenant", account))
    assert (ran["tenants"], ran["taken"], ran["failed_tenants"]) == (1, 1, [])
    verified = json.loads(run_audora(stack_env, "backup", "verify", "--tenant", account))
    assert verified["ok"] is True, verified
    assert verified["tenant"] == str(made["tenant"])
    (recorded,) = _drills(superuser, made["tenant"])
    assert recorded.ok is True


def _cli_as_worker(stack: EmbeddedStack, account: str) -> list[Any]:
    """`audora backup run` then `verify` for `account`, as `audora run` starts its worker:
    as audora-app, with the stack's URLs but without the operator's."""
    assert stack.state is not None
    env = {k: v for k, v in stack.state.exports().items() if k != "AUDORA_DATABASE_URL"}
    data_dir = Path(tempfile.mkdtemp(prefix="audora-app-"))
    data_dir.chmod(0o755)
    env.update(AUDORA_ENV="test", AUDORA_DATA_DIR=str(data_dir), PATH=os.environ["PATH"])
    try:
        return [
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "audora.platform.cli.main",
                    "backup",
                    command,
                    "--tenant",
                    account,
                ],
                cwd=REPO,
                env=env,
                user=APP_USER,
                group=APP_USER,
                extra_groups=[],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            for command in ("run", "verify")
        ]
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


@root_only
async def test_the_worker_user_backs_up_and_verifies_without_the_operators_url(
    gql: GraphQL,
    api: httpx.AsyncClient,
    stack: EmbeddedStack,
    superuser: Engine,
) -> None:
    """Under root the worker runs as audora-app with the stack's URLs but not the
    operator's superuser URL (`app_processes`): pg_dump and psql run as that user, as
    the provisioner role, and the backup and its drill both succeed."""
    made = await _tenant_with_content(gql, api)
    outputs = _cli_as_worker(stack, made["account"]["id"])
    for done in outputs:
        assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(outputs[0].stdout)["taken"] == 1
    assert json.loads(outputs[1].stdout)["ok"] is True
    (recorded,) = _drills(superuser, made["tenant"])
    assert recorded.ok is True

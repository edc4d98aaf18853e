"""L3 and L6: after the grace, all data is permanently and irreversibly deleted: the
tenant's key is destroyed first (cryptographic erasure), then its bucket with every
object and version, its storage identity, its schema and role, its sessions, and the
users who belong to no other account; a deletion certificate (counts and hashes, no
customer content) is kept and mailed to the former owner. A purge interrupted midway
finishes on the next run; a second purge of a purged tenant is refused."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sqlalchemy import Engine, text

from audora.platform.clock import FrozenClock
from audora.platform.config import Settings
from audora.platform.errors import AppError, ErrorCode
from audora.platform.keys.service import KeyDestroyed
from audora.platform.runtime import Runtime
from audora.platform.stack.embedded import EmbeddedStack
from audora.tenants.backups.drill import restore_drill
from audora.tenants.backups.keys import backup_key_context
from audora.tenants.backups.service import backup_tenant
from audora.tenants.keys.data_keys import key_context
from audora.tenants.lifecycle import purge
from audora.tenants.lifecycle.jobs import run_due_retention

from audora_testing import (
    LOG_IN,
    PASSWORD,
    REPO,
    GraphQL,
    admin_s3,
    create_profile,
    error_codes,
    mail_text,
    moved,
    raw_id,
    read_mail,
    schema_of,
    seat,
    sign_up,
    tenant_bucket,
)

CLOSE = "mutation($c: String!) { closeAccount(confirm: $c) { status } }"
GRACE = timedelta(days=30)


@pytest.fixture
def mail_dir(stack: EmbeddedStack) -> Path:
    return stack.data_dir / "mail"


async def _closed_tenant(
    gql: GraphQL, runtime: Runtime, settings: Settings, superuser: Engine, marker: str
) -> dict[str, Any]:
    """A closed account with data, a second member, and objects in several versions
    and an unfinished upload in its bucket."""
    name = f"Doomed {marker}"
    owner = await sign_up(gql, name)
    await create_profile(gql, owner["token"], f"Client {marker}", notes=f"secret {marker}")
    member = await seat(gql, runtime, superuser, owner, "MEMBER")
    admin, bucket = admin_s3(settings), tenant_bucket(settings, owner["account"]["id"])
    admin.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    # Not under recordings/: the audio sweep would take those as orphans first.
    for i in range(5):
        admin.put_object(Bucket=bucket, Key=f"files/{i}", Body=f"v1 {marker}".encode())
    admin.put_object(Bucket=bucket, Key="files/0", Body=b"a second version")
    admin.delete_object(Bucket=bucket, Key="files/1")  # a delete marker
    admin.create_multipart_upload(Bucket=bucket, Key="files/unfinished")
    closed = await gql(CLOSE, {"c": name}, token=owner["token"])
    assert "errors" not in closed, closed
    return {**owner, "member": member, "bucket": bucket, "marker": marker}


def _exists(superuser: Engine, sql: str, **params: Any) -> bool:
    with superuser.connect() as conn:
        return conn.execute(text(sql), params).first() is not None


async def test_a_purge_after_the_grace_leaves_nothing_of_the_tenant_and_a_certificate(
    gql: GraphQL,
    runtime: Runtime,
    settings: Settings,
    superuser: Engine,
    clock: FrozenClock,
    mail_dir: Path,
) -> None:
    marker = f"PURGE-{uuid.uuid4().hex}"
    doomed = await _closed_tenant(gql, runtime, settings, superuser, marker)
    account = doomed["account"]["id"]
    tenant_id = raw_id(account)
    # A user with a seat here and in another account keeps the other one.
    other = await sign_up(gql, "Other Account")
    with superuser.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO platform.memberships (account_id, user_id, role) "
                "SELECT :a, id, 'ADMIN' FROM platform.users WHERE email = :e"
            ),
            {"a": tenant_id, "e": other["email"]},
        )

    backup = await backup_tenant(runtime, tenant_id)
    with superuser.connect() as conn:
        backup_key = conn.execute(
            text("SELECT wrapped_key FROM platform.backups WHERE id = :b"), {"b": backup.id}
        ).scalar_one()

    with moved(clock, GRACE - timedelta(minutes=1)):
        await run_due_retention(runtime)
    assert _exists(superuser, "SELECT 1 FROM pg_namespace WHERE nspname = :s", s=schema_of(account))

    with moved(clock, GRACE + timedelta(minutes=1)):
        run = await run_due_retention(runtime)
    assert str(tenant_id) in run.purged

    schema = schema_of(account)
    assert not _exists(superuser, "SELECT 1 FROM pg_namespace WHERE nspname = :s", s=schema)
    assert not _exists(superuser, "SELECT 1 FROM pg_roles WHERE rolname = :s", s=schema)
    with pytest.raises(ClientError):
        admin_s3(settings).head_bucket(Bucket=doomed["bucket"])
    assert not runtime.storage.bucket_exists(doomed["bucket"])
    assert not await_identity(runtime, doomed["bucket"])
    with pytest.raises(KeyDestroyed):
        await runtime.keys.generate_data_key(tenant_id, key_context(tenant_id, "clients"))
    # Its backup, left to its own expiry, can no longer be decrypted.
    with pytest.raises(KeyDestroyed):
        await runtime.keys.decrypt_data_key(
            tenant_id, bytes(backup_key), backup_key_context(tenant_id, backup.id)
        )
    drill = await restore_drill(runtime, tenant_id)
    assert (drill.ok, drill.details["error"]) == (False, "key_unavailable")
    for sql in (
        "SELECT 1 FROM platform.sessions WHERE account_id = :a",
        "SELECT 1 FROM platform.memberships WHERE account_id = :a",
        "SELECT 1 FROM platform.tenant_storage_identities WHERE account_id = :a",
    ):
        assert not _exists(superuser, sql, a=tenant_id)
    for email in (doomed["email"], doomed["member"].email):
        assert not _exists(superuser, "SELECT 1 FROM platform.users WHERE email = :e", e=email)
    me = await gql("query { me { user { email } } }", token=doomed["token"])
    assert error_codes(me) == ["UNAUTHENTICATED"]
    # The user who also had a seat elsewhere signs in there as before.
    kept = await gql(LOG_IN, {"input": {"email": other["email"], "password": PASSWORD}})
    assert "errors" not in kept, kept

    with superuser.connect() as conn:
        row = conn.execute(
            text(
                "SELECT a.status, a.name, c.body, c.sha256 FROM platform.accounts a "
                "JOIN platform.deletion_certificates c ON c.account_id = a.id WHERE a.id = :a"
            ),
            {"a": tenant_id},
        ).one()
    assert (row.status, row.name) == ("PURGED", "(purged)")
    body = row.body
    assert body["tenant"] == str(tenant_id)
    deleted = body["deleted"]
    assert deleted["keys"]["tenantKey"] == "destroyed"
    assert deleted["keys"]["backupsUnreadable"] == 1
    assert deleted["objects"]["objects"] == 5
    assert deleted["objects"]["objectVersions"] == 7  # 5 + a second version + a marker
    assert deleted["objects"]["uploadsAborted"] == 1
    assert deleted["database"]["rows"]["client_profiles"] == 1
    assert deleted["users"] == {
        "seats": 3,
        "usersDeleted": 2,
        "usersKept": 1,
        "deletedUserIdsSha256": deleted["users"]["deletedUserIdsSha256"],
    }
    assert [s["stage"] for s in body["stages"]] == [name for name, _ in purge.STAGES][:8]
    assert marker not in json.dumps(body)
    assert doomed["email"] not in json.dumps(body)

    (mail,) = await read_mail(mail_dir, doomed["email"], purge.CERTIFICATE_SUBJECT)
    assert row.sha256 in mail_text(mail)
    with superuser.connect() as conn:
        kept_facts = conn.execute(
            text("SELECT facts FROM platform.purges WHERE account_id = :a AND stage = 'begin'"),
            {"a": tenant_id},
        ).scalar_one()
    assert kept_facts == {"owners": 1}  # the address itself is forgotten once mailed

    # A second purge of the same tenant: a clear error, nothing changes.
    with pytest.raises(AppError) as second:
        await purge.purge_account(runtime, tenant_id)
    assert second.value.code is ErrorCode.CONFLICT
    assert "already purged" in second.value.message


def await_identity(runtime: Runtime, bucket: str) -> bool:
    identities = runtime.storage.identities  # type: ignore[attr-defined]  # S3TenantStorageAdmin's
    return bool(identities.exists(bucket))


async def test_an_interrupted_purge_completes_on_the_next_run(
    gql: GraphQL,
    runtime: Runtime,
    settings: Settings,
    superuser: Engine,
    stack_env: dict[str, str],
    mail_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    doomed = await _closed_tenant(gql, runtime, settings, superuser, uuid.uuid4().hex)
    tenant_id = raw_id(doomed["account"]["id"])

    async def store_down(*args: Any) -> dict[str, Any]:
        raise ConnectionError("the object store went away")

    stages = tuple(
        (name, store_down if name == "delete_objects" else stage) for name, stage in purge.STAGES
    )
    monkeypatch.setattr(purge, "STAGES", stages)
    with pytest.raises(ConnectionError):
        await purge.purge_account(runtime, tenant_id, before_grace_ends=True)
    monkeypatch.undo()
    with superuser.connect() as conn:
        recorded = dict(
            conn.execute(
                text(
                    "SELECT stage, finished_at IS NOT NULL FROM platform.purges "
                    "WHERE account_id = :a"
                ),
                {"a": tenant_id},
            ).all()
        )
    assert recorded == {
        "begin": True,
        "revoke_sessions": True,
        "destroy_keys": True,
        "delete_objects": False,
    }
    # The key went first: the data is already unreadable, though the bucket remains.
    with pytest.raises(KeyDestroyed):
        await runtime.keys.generate_data_key(tenant_id, key_context(tenant_id, "clients"))
    assert runtime.storage.bucket_exists(doomed["bucket"])

    # The operator's command (another process) resumes it where it stopped.
    resumed = subprocess.run(
        [sys.executable, "-m", "audora.platform.cli.main", "tenants", "purge", "--tenant",
         doomed["account"]["id"], "--now-i-am-sure"],
        cwd=REPO, env=stack_env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    certificate = json.loads(resumed.stdout)
    assert certificate["deleted"]["objects"]["objectVersions"] == 7
    assert not runtime.storage.bucket_exists(doomed["bucket"])
    assert not _exists(
        superuser,
        "SELECT 1 FROM pg_namespace WHERE nspname = :s",
        s=schema_of(doomed["account"]["id"]),
    )
    await read_mail(mail_dir, doomed["email"], purge.CERTIFICATE_SUBJECT)

    again = subprocess.run(
        [sys.executable, "-m", "audora.platform.cli.main", "tenants", "purge", "--tenant",
         doomed["account"]["id"], "--now-i-am-sure"],
        cwd=REPO, env=stack_env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert again.returncode == 1
    assert "already purged" in again.stderr


async def test_an_account_is_purged_only_when_closed_and_past_its_grace(
    gql: GraphQL, runtime: Runtime, settings: Settings
) -> None:
    active = await sign_up(gql, "Still Here")
    with pytest.raises(AppError) as refused:
        await purge.purge_account(runtime, raw_id(active["account"]["id"]))
    assert refused.value.code is ErrorCode.CONFLICT
    assert "only a CLOSED or LAPSED account is purged" in refused.value.message

    closing = await sign_up(gql, "In Grace")
    assert "errors" not in await gql(CLOSE, {"c": "In Grace"}, token=closing["token"])
    with pytest.raises(AppError) as early:
        await purge.purge_account(runtime, raw_id(closing["account"]["id"]))
    assert "grace period" in early.value.message
    production = dataclasses.replace(
        runtime, settings=settings.model_copy(update={"env": "production"})
    )
    with pytest.raises(AppError) as forced:
        await purge.purge_account(
            production, raw_id(closing["account"]["id"]), before_grace_ends=True
        )
    assert forced.value.code is ErrorCode.FORBIDDEN
    # Nothing was touched: the account still reads its data.
    me = await gql("query { me { account { status } } }", token=closing["token"])
    assert me["data"]["me"]["account"]["status"] == "CLOSED"

"""A sign-up provisions schema, role, tables, bucket, identity and key slot atomically:
one that fails midway leaves none of them behind."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import Engine, text

from audora.platform.errors import AppError
from audora.platform.keys.service import KeyDestroyed
from audora.platform.runtime import Runtime, storage_admin
from audora.platform.storage.admin import StorageCredentials, TenantStorageAdmin
from audora.tenants.migrate.streams import head
from audora.tenants.provisioning.service import NewAccount, provision_account


@dataclass
class Footprint:
    schemas: set[str]
    roles: set[str]
    accounts: int
    users: int
    buckets: set[str]


def footprint(superuser: Engine, storage: TenantStorageAdmin) -> Footprint:
    with superuser.connect() as conn:
        return Footprint(
            schemas=set(
                conn.execute(
                    text("SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%'")
                ).scalars()
            ),
            roles=set(
                conn.execute(
                    text("SELECT rolname FROM pg_roles WHERE rolname LIKE 't\\_%'")
                ).scalars()
            ),
            accounts=conn.execute(text("SELECT count(*) FROM platform.accounts")).scalar_one(),
            users=conn.execute(text("SELECT count(*) FROM platform.users")).scalar_one(),
            buckets=set(storage.tenant_buckets()),
        )


class FailsAfterCreating:
    """The real store, but the call fails after the bucket and identity exist."""

    def __init__(self, real: TenantStorageAdmin) -> None:
        self.real = real
        self.created: list[str] = []

    def create_tenant_storage(self, bucket: str) -> StorageCredentials:
        self.real.create_tenant_storage(bucket)
        self.created.append(bucket)
        raise ConnectionError("the store went away after creating the bucket")

    def delete_tenant_storage(self, bucket: str) -> None:
        self.real.delete_tenant_storage(bucket)

    def tenant_buckets(self) -> dict[str, datetime]:
        return self.real.tenant_buckets()

    def ping(self) -> None:
        self.real.ping()


@pytest.fixture
def new_account() -> NewAccount:
    return NewAccount(
        name="Half Made Ltd",
        owner_email=f"half-{uuid.uuid4().hex[:10]}@example.com",
        owner_password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
        owner_full_name="Hal F.",
    )


async def test_a_sign_up_failing_after_the_bucket_exists_leaves_nothing_behind(
    runtime: Runtime, superuser: Engine, new_account: NewAccount
) -> None:
    before = footprint(superuser, runtime.storage)
    failing = FailsAfterCreating(runtime.storage)
    with pytest.raises(ConnectionError):
        await provision_account(
            runtime.tenant_engines,
            failing,
            runtime.keys,
            new_account,
            bucket_prefix=runtime.settings.bucket_prefix,
            tenant_head=head("tenant"),
        )
    assert len(failing.created) == 1
    assert footprint(superuser, runtime.storage) == before
    # The tenant's storage identity is gone too, not only its bucket ...
    assert not storage_admin(runtime.settings).identities.exists(failing.created[0])
    # ... and the key made for it is destroyed in the key service.
    tenant_id = uuid.UUID(hex=failing.created[0].removeprefix(runtime.settings.bucket_prefix))
    with pytest.raises(KeyDestroyed):
        await runtime.keys.generate_data_key(tenant_id, {"probe": "1"})


async def test_a_sign_up_failing_in_the_database_leaves_nothing_behind(
    runtime: Runtime, superuser: Engine, new_account: NewAccount
) -> None:
    first = await provision_account(
        runtime.tenant_engines,
        runtime.storage,
        runtime.keys,
        new_account,
        bucket_prefix=runtime.settings.bucket_prefix,
        tenant_head=head("tenant"),
    )
    before = footprint(superuser, runtime.storage)
    # Same owner email: the users insert fails after the role, schema and tables exist.
    with pytest.raises(AppError) as conflict:
        await provision_account(
            runtime.tenant_engines,
            runtime.storage,
            runtime.keys,
            new_account,
            bucket_prefix=runtime.settings.bucket_prefix,
            tenant_head=head("tenant"),
        )
    assert conflict.value.code == "CONFLICT"
    assert footprint(superuser, runtime.storage) == before
    assert first.schema in before.schemas


async def test_provisioning_creates_the_key_slot_and_owner_membership(
    runtime: Runtime, superuser: Engine, new_account: NewAccount
) -> None:
    made = await provision_account(
        runtime.tenant_engines,
        runtime.storage,
        runtime.keys,
        NewAccount(
            new_account.name,
            new_account.owner_email,
            await runtime.passwords.hash("a long enough password"),
            new_account.owner_full_name,
        ),
        bucket_prefix=runtime.settings.bucket_prefix,
        tenant_head=head("tenant"),
    )
    with superuser.connect() as conn:
        slot = conn.execute(
            text("SELECT state, kek_ref FROM platform.tenant_keys WHERE account_id = :a"),
            {"a": made.account_id},
        ).one()
        role = conn.execute(
            text("SELECT role FROM platform.memberships WHERE account_id = :a AND user_id = :u"),
            {"a": made.account_id, "u": made.owner_id},
        ).scalar_one()
        version = conn.execute(text(f"SELECT version_num FROM {made.schema}.alembic_version"))
    assert tuple(slot) == ("ACTIVE", f"local:{made.account_id.hex}")
    assert role == "OWNER"
    assert version.scalar_one() == head("tenant")

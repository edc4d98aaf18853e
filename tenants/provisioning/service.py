"""Provisioning an account: the tenant's schema, role, tables, bucket, storage identity
and key-encryption key, and its owner, all or nothing.

The new tenant is placed on a cluster by load (`tenants/registry/placement.py`). On the
primary cluster everything in PostgreSQL (roles and DDL included) happens in one
transaction. On another cluster the schema is made in a transaction there and the
platform rows in one on the primary; the tenant's is committed first, and if the
platform's then fails, the new schema and role are dropped again. The bucket and its
identity are created inside the transactions' lifetime, before the commit; if anything
fails, the transactions roll back and the bucket is deleted again, so a failed sign-up
leaves no schema, role, bucket or row behind.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from audora.platform.auth.principal import Role
from audora.platform.auth.tables import memberships, users
from audora.platform.db.role_makers import drop_tenant_role
from audora.platform.db.tenant_binding import point_provisioner_at
from audora.platform.db.tenant_engines import PRIMARY, TenantEngines
from audora.platform.db.tenant_names import (
    TenantSchema,
    tenant_bucket,
    tenant_schema,
)
from audora.platform.errors import AppError, ErrorCode
from audora.platform.keys.service import KeyService
from audora.platform.storage.admin import StorageCredentials, TenantStorageAdmin
from audora.tenants.placement.clusters import choose_cluster
from audora.tenants.provisioning.ddl import (
    create_schema_and_role,
    tenant_objects_batch,
    tenant_safeguards,
    version_table,
)
from audora.tenants.registry.tables import (
    accounts,
    tenant_keys,
    tenant_placements,
    tenant_storage_identities,
)
from audora.tenants.storage.credentials import seal_secret

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewAccount:
    name: str
    owner_email: str
    owner_password_hash: str
    owner_full_name: str


@dataclass(frozen=True)
class ProvisionedAccount:
    account_id: uuid.UUID
    owner_id: uuid.UUID
    schema: TenantSchema
    bucket: str


async def provision_account(
    engines: TenantEngines,
    storage: TenantStorageAdmin,
    keys: KeyService,
    new: NewAccount,
    *,
    bucket_prefix: str,
    tenant_head: str,
    cluster: str | None = None,
) -> ProvisionedAccount:
    """Everything a new account needs, or nothing. The account goes on `cluster`, or
    (None) on the least loaded open cluster."""
    if cluster is None:
        cluster = await choose_cluster(engines)
    async with AsyncExitStack() as stack:
        platform = await stack.enter_async_context(engines.provisioner(PRIMARY).connect())
        tenant = (
            platform
            if cluster == PRIMARY
            else await stack.enter_async_context(engines.provisioner(cluster).connect())
        )
        return await _provision(
            tenant, platform, cluster, storage, keys, new, bucket_prefix, tenant_head
        )


async def _provision(
    conn: AsyncConnection,
    platform: AsyncConnection,
    cluster: str,
    storage: TenantStorageAdmin,
    keys: KeyService,
    new: NewAccount,
    bucket_prefix: str,
    tenant_head: str,
) -> ProvisionedAccount:
    """`conn` is on the tenant's cluster; `platform` on the primary (the same connection
    when the tenant goes on the primary)."""
    apart = conn is not platform
    account_id = uuid.uuid4()
    owner_id = uuid.uuid4()
    schema = tenant_schema(account_id)
    bucket = tenant_bucket(bucket_prefix, account_id)
    created: StorageCredentials | None = None
    storage_touched = False
    key_created = False

    tenant_committed = False
    await conn.begin()
    if apart:
        await platform.begin()
    try:
        # Several statements in one round trip: sent without parameters, as the
        # simple query protocol allows; every name in them is a validated identifier.
        await conn.exec_driver_sql(";\n".join(create_schema_and_role(schema)))
        await point_provisioner_at(conn, schema)
        await conn.exec_driver_sql(tenant_objects_batch())
        await conn.exec_driver_sql(
            ";\n".join(
                [
                    *tenant_safeguards(schema),
                    *version_table(schema, tenant_head),
                ]
            )
        )
        await platform.execute(
            insert(accounts).values(id=account_id, name=new.name, schema_name=schema, bucket=bucket)
        )
        await platform.execute(
            insert(tenant_placements).values(account_id=account_id, cluster=cluster)
        )
        # The tenant's key-encryption key, held by the key service only; the slot
        # records which key it is.
        key_created = True
        kek_ref = await keys.create_tenant_key(account_id)
        await platform.execute(
            insert(tenant_keys).values(account_id=account_id, kek_ref=kek_ref, state="ACTIVE")
        )
        await platform.execute(
            insert(users).values(
                id=owner_id,
                email=new.owner_email,
                password_hash=new.owner_password_hash,
                full_name=new.owner_full_name,
            )
        )
        await platform.execute(
            insert(memberships).values(
                account_id=account_id, user_id=owner_id, role=Role.OWNER.value
            )
        )
        storage_touched = True
        # The store call runs in a thread that a cancellation cannot stop: shield it
        # and, if cancelled, let it finish before cleaning up after it.
        storage_call = asyncio.ensure_future(
            asyncio.to_thread(storage.create_tenant_storage, bucket)
        )
        try:
            created = await asyncio.shield(storage_call)
        except asyncio.CancelledError:
            await asyncio.wait([storage_call])
            raise
        sealed = await seal_secret(keys, account_id, created.secret_key)
        await platform.execute(
            insert(tenant_storage_identities).values(
                account_id=account_id,
                access_key=created.access_key,
                secret_sealed=sealed.sealed,
                wrapped_key=sealed.wrapped_key,
            )
        )
        await conn.commit()
        tenant_committed = apart
        if apart:
            await platform.commit()
    except BaseException as exc:
        try:
            if conn.in_transaction():
                await conn.rollback()
            if apart and platform.in_transaction():
                await platform.rollback()
            if tenant_committed:
                await _drop_schema_and_role(conn, schema)
        finally:
            if storage_touched:
                await _remove_storage(storage, bucket)
            if key_created:
                await _destroy_key(keys, account_id)
        if isinstance(exc, IntegrityError) and "uq_users_email" in str(exc.orig):
            raise AppError(
                "an account with this email already exists", code=ErrorCode.CONFLICT
            ) from None
        raise
    log.info("provisioned tenant %s", schema)
    return ProvisionedAccount(account_id, owner_id, schema, bucket)


async def _drop_schema_and_role(conn: AsyncConnection, schema: TenantSchema) -> None:
    """Undo a tenant's committed schema on another cluster whose platform rows failed."""
    try:
        await conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await drop_tenant_role(conn, schema)
        await conn.commit()
    except Exception:
        log.exception("could not drop schema %s after a failed sign-up", schema)


async def _destroy_key(keys: KeyService, account_id: uuid.UUID) -> None:
    try:
        await keys.destroy_tenant_key(account_id)
    except Exception:
        log.exception("could not destroy the key of a failed sign-up %s", account_id)


async def _remove_storage(storage: TenantStorageAdmin, bucket: str) -> None:
    try:
        await asyncio.to_thread(storage.delete_tenant_storage, bucket)
    except Exception:
        # The bucket name carries the tenant id of no committed account, so the orphan
        # sweep (`audora tenants gc`) finds and removes it later.
        log.exception("could not remove bucket %s after a failed sign-up", bucket)

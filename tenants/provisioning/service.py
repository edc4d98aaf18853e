"""Provisioning an account: the tenant's schema, role, tables, bucket, storage identity
and key-encryption key, and its owner, all or nothing.

Everything in PostgreSQL (roles and DDL included) happens in one transaction. The bucket
and its identity are created inside that transaction's lifetime, before the commit; if
anything fails, the transaction rolls back and the bucket is deleted again, so a failed
sign-up leaves no schema, role, bucket or row behind.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from audora.platform.auth.principal import Role
from audora.platform.auth.tables import memberships, users
from audora.platform.db.tenant_binding import point_provisioner_at
from audora.platform.db.tenant_names import TenantSchema, tenant_bucket, tenant_schema
from audora.platform.errors import AppError, ErrorCode
from audora.platform.keys.service import KeyService
from audora.platform.storage.admin import StorageCredentials, TenantStorageAdmin
from audora.tenants.provisioning.ddl import (
    create_schema_and_role,
    tenant_partitions,
    tenant_safeguards,
    tenant_tables_ddl,
    version_table,
)
from audora.tenants.registry.tables import accounts, tenant_keys, tenant_storage_identities
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
    engine: AsyncEngine,
    storage: TenantStorageAdmin,
    keys: KeyService,
    new: NewAccount,
    *,
    bucket_prefix: str,
    tenant_head: str,
    now: datetime,
) -> ProvisionedAccount:
    """Everything a new account needs, or nothing. `now` (the application clock) picks
    the access log's first monthly partitions."""
    account_id = uuid.uuid4()
    owner_id = uuid.uuid4()
    schema = tenant_schema(account_id)
    bucket = tenant_bucket(bucket_prefix, account_id)
    created: StorageCredentials | None = None
    storage_touched = False
    key_created = False

    async with engine.connect() as conn:
        await conn.begin()
        try:
            # Several statements in one round trip: sent without parameters, as the
            # simple query protocol allows; every name in them is a validated identifier.
            await conn.exec_driver_sql(";\n".join(create_schema_and_role(schema)))
            await point_provisioner_at(conn, schema)
            await conn.exec_driver_sql(
                ";\n".join(
                    [
                        *tenant_tables_ddl(),
                        *tenant_safeguards(schema),
                        *tenant_partitions(schema, now),
                        *version_table(schema, tenant_head),
                    ]
                )
            )
            await conn.execute(
                insert(accounts).values(
                    id=account_id, name=new.name, schema_name=schema, bucket=bucket
                )
            )
            # The tenant's key-encryption key, held by the key service only; the slot
            # records which key it is.
            key_created = True
            kek_ref = await keys.create_tenant_key(account_id)
            await conn.execute(
                insert(tenant_keys).values(account_id=account_id, kek_ref=kek_ref, state="ACTIVE")
            )
            await conn.execute(
                insert(users).values(
                    id=owner_id,
                    email=new.owner_email,
                    password_hash=new.owner_password_hash,
                    full_name=new.owner_full_name,
                )
            )
            await conn.execute(
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
            await conn.execute(
                insert(tenant_storage_identities).values(
                    account_id=account_id,
                    access_key=created.access_key,
                    secret_sealed=sealed.sealed,
                    wrapped_key=sealed.wrapped_key,
                )
            )
            await conn.commit()
        except BaseException as exc:
            try:
                await conn.rollback()
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

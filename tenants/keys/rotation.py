"""KEK rotation: the key service adds a new version of the tenant's KEK, and every key
of the tenant is rewrapped under it. The data itself is not touched: it stays sealed
under the same data keys, which are now wrapped by the new KEK.

Rewrapping is idempotent (a key already under the newest version is rewrapped again, to
the same version), so an interrupted rotation is finished by running it again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from audora.platform.db.tenant_binding import TenantRef, tenant_transaction
from audora.platform.db.tenant_engines import TenantEngines
from audora.platform.db.tenant_names import tenant_schema
from audora.platform.keys.service import KeyService
from audora.tenants.backups.keys import backup_key_context
from audora.tenants.backups.tables import backups
from audora.tenants.calls.tables import recordings
from audora.tenants.keys.data_keys import forget_keys, key_context
from audora.tenants.keys.tables import data_keys
from audora.tenants.lifecycle.export import export_key_context
from audora.tenants.lifecycle.export_tables import data_exports
from audora.tenants.recordings.audio import recording_key_context
from audora.tenants.registry.tables import accounts, tenant_keys, tenant_storage_identities
from audora.tenants.storage.credentials import PURPOSE as STORAGE_PURPOSE


@dataclass(frozen=True)
class Rotation:
    tenant_id: uuid.UUID
    kek_version: int
    rewrapped: int


async def rotate_tenant(
    tenant_engines: TenantEngines,
    platform_engine: AsyncEngine,
    keys: KeyService,
    tenant_id: uuid.UUID,
    now: datetime,
) -> Rotation:
    """A new KEK version, and every key the old one wrapped rewrapped under it: the
    tenant's data keys, its recordings' and exports' keys, its storage credentials' key
    and its backups' keys."""
    version = await keys.rotate_tenant_key(tenant_id)
    rewrapped = 0
    async with tenant_transaction(tenant_engines, TenantRef(tenant_schema(tenant_id))) as uow:
        rows = (
            await uow.execute(select(data_keys.c.id, data_keys.c.purpose, data_keys.c.wrapped))
        ).all()
        for row in rows:
            wrapped = await keys.rewrap(tenant_id, row.wrapped, key_context(tenant_id, row.purpose))
            await uow.execute(
                update(data_keys).where(data_keys.c.id == row.id).values(wrapped=wrapped)
            )
        held = (
            await uow.execute(
                select(recordings.c.id, recordings.c.wrapped_key).where(
                    recordings.c.wrapped_key.is_not(None)
                )
            )
        ).all()
        for recording in held:
            wrapped = await keys.rewrap(
                tenant_id, recording.wrapped_key, recording_key_context(tenant_id, recording.id)
            )
            await uow.execute(
                update(recordings)
                .where(recordings.c.id == recording.id)
                .values(wrapped_key=wrapped)
            )
        exports = (
            await uow.execute(
                select(data_exports.c.id, data_exports.c.wrapped_key).where(
                    data_exports.c.wrapped_key.is_not(None)
                )
            )
        ).all()
        for made in exports:
            wrapped = await keys.rewrap(
                tenant_id, made.wrapped_key, export_key_context(tenant_id, made.id)
            )
            await uow.execute(
                update(data_exports).where(data_exports.c.id == made.id).values(wrapped_key=wrapped)
            )
        rewrapped = len(rows) + len(held) + len(exports)
        await uow.commit()
    async with platform_engine.begin() as conn:
        identity = (
            await conn.execute(
                select(tenant_storage_identities.c.wrapped_key)
                .where(tenant_storage_identities.c.account_id == tenant_id)
                .with_for_update()
            )
        ).first()
        if identity is not None and identity.wrapped_key is not None:
            wrapped = await keys.rewrap(
                tenant_id, identity.wrapped_key, key_context(tenant_id, STORAGE_PURPOSE)
            )
            await conn.execute(
                update(tenant_storage_identities)
                .where(tenant_storage_identities.c.account_id == tenant_id)
                .values(wrapped_key=wrapped)
            )
            rewrapped += 1
        # Backups' keys too, so that no key of the tenant stays under an old version.
        kept = (
            await conn.execute(
                select(backups.c.id, backups.c.wrapped_key)
                .where(backups.c.account_id == tenant_id)
                .with_for_update()
            )
        ).all()
        for backup in kept:
            wrapped = await keys.rewrap(
                tenant_id, backup.wrapped_key, backup_key_context(tenant_id, backup.id)
            )
            await conn.execute(
                update(backups).where(backups.c.id == backup.id).values(wrapped_key=wrapped)
            )
        rewrapped += len(kept)
        await conn.execute(
            update(tenant_keys).where(tenant_keys.c.account_id == tenant_id).values(rotated_at=now)
        )
    forget_keys(tenant_id)
    return Rotation(tenant_id, version, rewrapped)


async def due_for_rotation(
    platform_engine: AsyncEngine, now: datetime, every: timedelta
) -> list[uuid.UUID]:
    """Tenants whose KEK got its last version more than `every` ago."""
    async with platform_engine.connect() as conn:
        rows = await conn.execute(
            select(tenant_keys.c.account_id)
            .join(accounts, accounts.c.id == tenant_keys.c.account_id)
            .where(
                tenant_keys.c.state == "ACTIVE",
                accounts.c.status != "PURGED",
                func.coalesce(tenant_keys.c.rotated_at, tenant_keys.c.created_at) <= now - every,
            )
            .order_by(tenant_keys.c.account_id)
        )
        return list(rows.scalars())


async def wrapping_versions(
    engines: TenantEngines, keys: KeyService, tenant_id: uuid.UUID
) -> dict[str, int | None]:
    """Which KEK version wraps each of the tenant's data keys (purpose/version -> KEK)."""
    async with tenant_transaction(engines, TenantRef(tenant_schema(tenant_id))) as uow:
        rows = (
            await uow.execute(select(data_keys.c.purpose, data_keys.c.version, data_keys.c.wrapped))
        ).all()
    return {f"{r.purpose}/v{r.version}": keys.kek_version_of(r.wrapped) for r in rows}

"""KEK rotation: the key service adds a new version of the tenant's KEK, and every data
key of the tenant is rewrapped under it. The data itself is not touched: it stays sealed
under the same data keys, which are now wrapped by the new KEK.

Rewrapping is idempotent (a key already under the newest version is rewrapped again, to
the same version), so an interrupted rotation is finished by running it again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from audora.platform.db.tenant_binding import TenantRef, tenant_transaction
from audora.platform.db.tenant_names import tenant_schema
from audora.platform.keys.service import KeyService
from audora.tenants.keys.data_keys import forget_keys, key_context
from audora.tenants.keys.tables import data_keys


@dataclass(frozen=True)
class Rotation:
    tenant_id: uuid.UUID
    kek_version: int
    rewrapped: int


async def rotate_tenant(engine: AsyncEngine, keys: KeyService, tenant_id: uuid.UUID) -> Rotation:
    version = await keys.rotate_tenant_key(tenant_id)
    tenant = TenantRef(tenant_schema(tenant_id))
    async with tenant_transaction(engine, tenant) as uow:
        rows = (
            await uow.execute(select(data_keys.c.id, data_keys.c.purpose, data_keys.c.wrapped))
        ).all()
        for row in rows:
            rewrapped = await keys.rewrap(
                tenant_id, row.wrapped, key_context(tenant_id, row.purpose)
            )
            await uow.execute(
                update(data_keys).where(data_keys.c.id == row.id).values(wrapped=rewrapped)
            )
        await uow.commit()
    forget_keys(tenant_id)
    return Rotation(tenant_id, version, len(rows))


async def wrapping_versions(
    engine: AsyncEngine, keys: KeyService, tenant_id: uuid.UUID
) -> dict[str, int | None]:
    """Which KEK version wraps each of the tenant's data keys (purpose/version -> KEK)."""
    async with tenant_transaction(engine, TenantRef(tenant_schema(tenant_id))) as uow:
        rows = (
            await uow.execute(select(data_keys.c.purpose, data_keys.c.version, data_keys.c.wrapped))
        ).all()
    return {f"{r.purpose}/v{r.version}": keys.kek_version_of(r.wrapped) for r in rows}

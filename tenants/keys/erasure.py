"""Cryptographic erasure of a whole tenant: its KEK is destroyed in the key service, so
every key it wrapped (data keys, recording keys, the bucket secret's key), and with them
every ciphertext of the tenant wherever a copy of it lies, backups included, can never be
opened again. The lifecycle's purge calls this before dropping what is left."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from audora.platform.keys.service import KeyService
from audora.tenants.keys.data_keys import forget_keys
from audora.tenants.registry.tables import tenant_keys


async def erase_tenant_keys(
    platform_engine: AsyncEngine, keys: KeyService, tenant_id: uuid.UUID, now: datetime
) -> None:
    # The key service first: once it has destroyed the key, nothing can undo the
    # erasure, and the slot only records it. Destroying twice is harmless.
    await keys.destroy_tenant_key(tenant_id)
    forget_keys(tenant_id)
    async with platform_engine.begin() as conn:
        await conn.execute(
            update(tenant_keys)
            .where(tenant_keys.c.account_id == tenant_id)
            .values(state="DESTROYED", rotated_at=now)
        )

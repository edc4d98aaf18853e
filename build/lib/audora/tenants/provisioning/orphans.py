"""Removing storage that belongs to no account.

A sign-up deletes its bucket again when it fails, but a process killed between creating
the bucket and committing leaves one behind. Buckets older than a grace period whose
tenant id names no account are such leftovers.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from audora.platform.storage.admin import TenantStorageAdmin
from audora.tenants.registry.tables import accounts

log = logging.getLogger(__name__)


# Far longer than any sign-up transaction, so a bucket whose account is still being
# committed is never mistaken for a leftover.
GRACE = timedelta(minutes=15)


async def sweep_orphan_storage(
    engine: AsyncEngine, storage: TenantStorageAdmin, *, bucket_prefix: str, now: datetime
) -> list[str]:
    buckets = await asyncio.to_thread(storage.tenant_buckets)
    async with engine.connect() as conn:
        known = set((await conn.execute(select(accounts.c.bucket))).scalars())
    removed: list[str] = []
    for bucket, created in buckets.items():
        if bucket in known or now - created < GRACE:
            continue
        try:
            uuid.UUID(hex=bucket.removeprefix(bucket_prefix))
        except ValueError:
            continue  # not named like a tenant bucket: not ours to remove
        await asyncio.to_thread(storage.delete_tenant_storage, bucket)
        log.warning("removed orphan tenant storage %s", bucket)
        removed.append(bucket)
    return removed

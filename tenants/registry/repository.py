"""Reads of the tenant registry that jobs share."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from audora.tenants.registry.tables import accounts


async def live_account_ids(platform_engine: AsyncEngine) -> list[uuid.UUID]:
    """Every account whose schema still exists (all but the purged), oldest first."""
    async with platform_engine.connect() as conn:
        rows = await conn.execute(
            select(accounts.c.id)
            .where(accounts.c.status != "PURGED")
            .order_by(accounts.c.created_at, accounts.c.id)
        )
        return list(rows.scalars())

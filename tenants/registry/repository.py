"""Reads of the tenant registry that jobs share."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.ext.asyncio import AsyncEngine

from audora.tenants.lifecycle.tables import purges
from audora.tenants.registry.tables import accounts


def no_purge_begun() -> ColumnElement[bool]:
    """Of an `accounts` row: no purge of it has begun (only the purge touches it then)."""
    return ~exists().where(purges.c.account_id == accounts.c.id)


def is_live_account() -> ColumnElement[bool]:
    """Of an `accounts` row: its schema still exists and no purge of it has begun."""
    return (accounts.c.status != "PURGED") & no_purge_begun()


async def live_account_ids(platform_engine: AsyncEngine) -> list[uuid.UUID]:
    """Every account whose schema still exists (all but the purged, and those whose
    purge has begun: only the purge itself touches them now), oldest first."""
    async with platform_engine.connect() as conn:
        rows = await conn.execute(
            select(accounts.c.id)
            .where(is_live_account())
            .order_by(accounts.c.created_at, accounts.c.id)
        )
        return list(rows.scalars())


async def is_live(platform_engine: AsyncEngine, account_id: uuid.UUID) -> bool:
    """Whether the account's schema still exists and no purge of it has begun."""
    async with platform_engine.connect() as conn:
        found = await conn.execute(
            select(accounts.c.id).where(accounts.c.id == account_id, is_live_account())
        )
        return found.first() is not None

"""SQL over meeting bots: the tenant's rows inside a tenant unit of work, and the
platform's routes (bot id -> tenant and call) on the platform engine."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import RowMapping, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from audora.platform.db.tenant_binding import TenantUnitOfWork
from audora.tenants.meeting_bots.tables import bot_routes, meeting_bots


async def of_call(
    uow: TenantUnitOfWork, call_id: uuid.UUID, *, for_update: bool = False
) -> RowMapping | None:
    query = select(meeting_bots).where(meeting_bots.c.call_id == call_id)
    if for_update:
        query = query.with_for_update()
    return (await uow.execute(query)).mappings().first()


async def add(uow: TenantUnitOfWork, **values: Any) -> None:
    await uow.execute(insert(meeting_bots).values(**values))


async def change(uow: TenantUnitOfWork, bot_row_id: uuid.UUID, **values: Any) -> None:
    await uow.execute(update(meeting_bots).where(meeting_bots.c.id == bot_row_id).values(**values))


async def add_route(
    engine: AsyncEngine, bot_id: str, account_id: uuid.UUID, call_id: uuid.UUID
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(bot_routes).values(bot_id=bot_id, account_id=account_id, call_id=call_id)
        )


async def drop_route(engine: AsyncEngine, bot_id: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(delete(bot_routes).where(bot_routes.c.bot_id == bot_id))


async def route(engine: AsyncEngine, bot_id: str) -> RowMapping | None:
    async with engine.connect() as conn:
        result = await conn.execute(select(bot_routes).where(bot_routes.c.bot_id == bot_id))
        return result.mappings().first()

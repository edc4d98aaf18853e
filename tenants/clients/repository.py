"""SQL over client profiles, inside a tenant unit of work.

Every read takes the seat's scope, so a scoped seat's lists, counts and lookups by id
all agree: a profile outside the scope does not exist for it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, func, insert, select, true, update

from audora.platform.db.tenant_binding import TenantUnitOfWork
from audora.tenants.clients.tables import client_profiles

Scope = Sequence[uuid.UUID] | None


def _in_scope(scope: Scope) -> ColumnElement[bool]:
    return true() if scope is None else client_profiles.c.id.in_(list(scope))


async def create(uow: TenantUnitOfWork, **values: Any) -> RowMapping:
    result = await uow.execute(insert(client_profiles).values(**values).returning(client_profiles))
    return result.mappings().one()


async def get(uow: TenantUnitOfWork, profile_id: uuid.UUID, scope: Scope) -> RowMapping | None:
    result = await uow.execute(
        select(client_profiles).where(client_profiles.c.id == profile_id, _in_scope(scope))
    )
    return result.mappings().first()


async def existing_ids(
    uow: TenantUnitOfWork, profile_ids: Sequence[uuid.UUID], scope: Scope
) -> set[uuid.UUID]:
    """Which of `profile_ids` name profiles the seat may see."""
    result = await uow.execute(
        select(client_profiles.c.id).where(
            client_profiles.c.id.in_(list(profile_ids)), _in_scope(scope)
        )
    )
    return set(result.scalars())


async def list_all(uow: TenantUnitOfWork, scope: Scope, *, limit: int) -> list[RowMapping]:
    result = await uow.execute(
        select(client_profiles)
        .where(_in_scope(scope))
        .order_by(client_profiles.c.created_at, client_profiles.c.id)
        .limit(limit)
    )
    return list(result.mappings())


async def update_one(
    uow: TenantUnitOfWork, profile_id: uuid.UUID, scope: Scope, **values: Any
) -> RowMapping | None:
    result = await uow.execute(
        update(client_profiles)
        .where(client_profiles.c.id == profile_id, _in_scope(scope))
        .values(**values, updated_at=func.now())
        .returning(client_profiles)
    )
    return result.mappings().first()

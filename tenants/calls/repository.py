"""SQL over calls and what hangs under them, inside a tenant unit of work.

A call is visible exactly when its client profile is in the seat's scope: every read
joins the profile and filters by the scope, so lookups by id and lists agree.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, func, insert, select, true, update

from audora.platform.db.tenant_binding import TenantUnitOfWork
from audora.tenants.calls.tables import calls, documents, recordings, transcripts
from audora.tenants.clients.repository import Scope
from audora.tenants.clients.tables import client_profiles


def _in_scope(scope: Scope) -> ColumnElement[bool]:
    return true() if scope is None else calls.c.client_profile_id.in_(list(scope))


async def create(uow: TenantUnitOfWork, **values: Any) -> RowMapping:
    result = await uow.execute(insert(calls).values(**values).returning(calls))
    return result.mappings().one()


async def get(
    uow: TenantUnitOfWork, call_id: uuid.UUID, scope: Scope, *, for_update: bool = False
) -> RowMapping | None:
    query = select(calls).where(calls.c.id == call_id, _in_scope(scope))
    if for_update:
        query = query.with_for_update()
    return (await uow.execute(query)).mappings().first()


async def list_for_profile(
    uow: TenantUnitOfWork, profile_id: uuid.UUID, scope: Scope, *, limit: int
) -> list[RowMapping]:
    result = await uow.execute(
        select(calls)
        .join(client_profiles, client_profiles.c.id == calls.c.client_profile_id)
        .where(calls.c.client_profile_id == profile_id, _in_scope(scope))
        .order_by(calls.c.created_at.desc(), calls.c.id)
        .limit(limit)
    )
    return list(result.mappings())


async def set_status(
    uow: TenantUnitOfWork, call_id: uuid.UUID, status: str, reason: str | None = None
) -> None:
    await uow.execute(
        update(calls)
        .where(calls.c.id == call_id)
        .values(status=status, failure_reason=reason, updated_at=func.now())
    )


async def recording_of(uow: TenantUnitOfWork, call_id: uuid.UUID) -> RowMapping | None:
    result = await uow.execute(select(recordings).where(recordings.c.call_id == call_id))
    return result.mappings().first()


async def add_recording(uow: TenantUnitOfWork, **values: Any) -> RowMapping:
    result = await uow.execute(insert(recordings).values(**values).returning(recordings))
    return result.mappings().one()


async def transcript_of(uow: TenantUnitOfWork, call_id: uuid.UUID) -> RowMapping | None:
    result = await uow.execute(select(transcripts).where(transcripts.c.call_id == call_id))
    return result.mappings().first()


async def documents_of(uow: TenantUnitOfWork, call_id: uuid.UUID) -> list[RowMapping]:
    result = await uow.execute(
        select(documents).where(documents.c.call_id == call_id).order_by(documents.c.kind)
    )
    return list(result.mappings())


async def mark_transcribed(
    uow: TenantUnitOfWork, recording_id: uuid.UUID, at: datetime, delete_after: datetime
) -> None:
    await uow.execute(
        update(recordings)
        .where(recordings.c.id == recording_id)
        .values(transcribed_at=at, delete_after=delete_after)
    )

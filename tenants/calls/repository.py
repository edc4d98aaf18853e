"""SQL over calls and what hangs under them, inside a tenant unit of work.

A call is visible exactly when its client profile is in the seat's scope: every read
joins the profile and filters by the scope, so lookups by id and lists agree.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, func, insert, select, true, update

from audora.platform.db.tenant_binding import TenantUnitOfWork
from audora.tenants.calls.tables import (
    calls,
    document_versions,
    documents,
    recordings,
    transcripts,
)
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


async def begin_generation(
    uow: TenantUnitOfWork,
    call_id: uuid.UUID,
    now: datetime,
    *,
    kinds: Sequence[str] | None,
) -> uuid.UUID:
    """Move the call to GENERATING as a new round writing `kinds` (None: all); the
    round's id, which names its job."""
    generation = uuid.uuid4()
    await uow.execute(
        update(calls)
        .where(calls.c.id == call_id)
        .values(
            status="GENERATING",
            failure_reason=None,
            generation_id=generation,
            generation_kinds=None if kinds is None else list(kinds),
            generating_since=now,
            updated_at=func.now(),
        )
    )
    return generation


async def recording_of(uow: TenantUnitOfWork, call_id: uuid.UUID) -> RowMapping | None:
    result = await uow.execute(select(recordings).where(recordings.c.call_id == call_id))
    return result.mappings().first()


async def add_recording(uow: TenantUnitOfWork, **values: Any) -> RowMapping:
    result = await uow.execute(insert(recordings).values(**values).returning(recordings))
    return result.mappings().one()


async def transcript_of(uow: TenantUnitOfWork, call_id: uuid.UUID) -> RowMapping | None:
    result = await uow.execute(select(transcripts).where(transcripts.c.call_id == call_id))
    return result.mappings().first()


async def has_transcript(uow: TenantUnitOfWork, call_id: uuid.UUID) -> bool:
    """Whether the call has a transcript, without reading it (a progress poll asked this
    of the whole sealed text and segments, hundreds of kilobytes for an hour's call)."""
    result = await uow.execute(select(transcripts.c.id).where(transcripts.c.call_id == call_id))
    return result.first() is not None


async def documents_of(uow: TenantUnitOfWork, call_id: uuid.UUID) -> list[RowMapping]:
    result = await uow.execute(
        select(documents).where(documents.c.call_id == call_id).order_by(documents.c.kind)
    )
    return list(result.mappings())


async def document_of_kind(
    uow: TenantUnitOfWork, call_id: uuid.UUID, kind: str, *, for_update: bool = False
) -> RowMapping | None:
    query = select(documents).where(documents.c.call_id == call_id, documents.c.kind == kind)
    if for_update:
        query = query.with_for_update()
    return (await uow.execute(query)).mappings().first()


async def document_in_scope(
    uow: TenantUnitOfWork, document_id: uuid.UUID, scope: Scope, *, for_update: bool = False
) -> RowMapping | None:
    """A document whose call the seat sees; None for a missing one or one outside."""
    query = (
        select(documents)
        .join(calls, calls.c.id == documents.c.call_id)
        .where(documents.c.id == document_id, _in_scope(scope))
    )
    if for_update:
        query = query.with_for_update(of=documents)
    return (await uow.execute(query)).mappings().first()


async def document_versions_of(uow: TenantUnitOfWork, document_id: uuid.UUID) -> list[RowMapping]:
    """A document's versions, newest first, without their content."""
    result = await uow.execute(
        select(
            document_versions.c.id,
            document_versions.c.version,
            document_versions.c.source,
            document_versions.c.author_id,
            document_versions.c.created_at,
        )
        .where(document_versions.c.document_id == document_id)
        .order_by(document_versions.c.version.desc())
    )
    return list(result.mappings())


async def document_version(
    uow: TenantUnitOfWork, document_id: uuid.UUID, version: int
) -> RowMapping | None:
    result = await uow.execute(
        select(document_versions).where(
            document_versions.c.document_id == document_id,
            document_versions.c.version == version,
        )
    )
    return result.mappings().first()


async def add_document_version(uow: TenantUnitOfWork, **values: Any) -> None:
    await uow.execute(insert(document_versions).values(**values))


async def mark_transcribed(
    uow: TenantUnitOfWork, recording_id: uuid.UUID, at: datetime, delete_after: datetime
) -> None:
    await uow.execute(
        update(recordings)
        .where(recordings.c.id == recording_id)
        .values(transcribed_at=at, delete_after=delete_after)
    )

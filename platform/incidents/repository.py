"""The incidents' SQL: reading incidents whole (with timeline and affected accounts) and
appending to the timeline. Writers pass the connection of their own transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from audora.platform.errors import not_found
from audora.platform.incidents.model import (
    Actor,
    AffectedTenant,
    Incident,
    Phase,
    PublicStatus,
    Severity,
    TimelineEntry,
)
from audora.platform.incidents.tables import incident_tenants, incident_timeline, incidents


async def append(
    conn: AsyncConnection,
    incident_id: uuid.UUID,
    at: datetime,
    actor: Actor,
    kind: str,
    message: str,
    *,
    public: bool = False,
    phase: Phase | None = None,
    public_status: PublicStatus | None = None,
) -> None:
    """One timeline entry: never updated or deleted afterwards."""
    await conn.execute(
        incident_timeline.insert().values(
            id=uuid.uuid4(),
            incident_id=incident_id,
            at=at,
            actor=actor.label,
            staff_id=actor.staff_id,
            kind=kind,
            phase=phase.value if phase else None,
            public_status=public_status.value if public_status else None,
            message=message,
            public=public,
        )
    )


def _entry(row: Any) -> TimelineEntry:
    return TimelineEntry(
        id=row.id,
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        kind=row.kind,
        phase=Phase(row.phase) if row.phase else None,
        public_status=PublicStatus(row.public_status) if row.public_status else None,
        message=row.message,
        public=row.public,
    )


def _tenant(row: Any) -> AffectedTenant:
    return AffectedTenant(
        account_id=row.account_id,
        confirmed_at=row.confirmed_at,
        notify_due=row.notify_due,
        notified_at=row.notified_at,
        notified_owners=row.notified_owners,
    )


def _incident(
    row: Any, timeline: Sequence[TimelineEntry], tenants: Sequence[AffectedTenant]
) -> Incident:
    return Incident(
        id=row.id,
        title=row.title,
        severity=Severity(row.severity),
        phase=Phase(row.phase),
        public_status=PublicStatus(row.public_status),
        components=tuple(row.components),
        customer_data_involved=row.customer_data_involved,
        data_affected=row.data_affected,
        actions_taken=row.actions_taken,
        opened_at=row.opened_at,
        confirmed_at=row.confirmed_at,
        resolved_at=row.resolved_at,
        report_due=row.report_due,
        report_markdown=row.report_markdown,
        report_published_at=row.report_published_at,
        closed_at=row.closed_at,
        timeline=tuple(timeline),
        tenants=tuple(tenants),
    )


async def load_all(
    conn: AsyncConnection, *, ids: Sequence[uuid.UUID] | None = None
) -> list[Incident]:
    """Incidents newest first, each with its timeline (oldest first) and its accounts."""
    query = select(incidents).order_by(incidents.c.opened_at.desc(), incidents.c.id)
    if ids is not None:
        query = query.where(incidents.c.id.in_(ids))
    rows = (await conn.execute(query)).all()
    found = [row.id for row in rows]
    entries: dict[uuid.UUID, list[TimelineEntry]] = {i: [] for i in found}
    tenants: dict[uuid.UUID, list[AffectedTenant]] = {i: [] for i in found}
    if found:
        for row in await conn.execute(
            select(incident_timeline)
            .where(incident_timeline.c.incident_id.in_(found))
            .order_by(incident_timeline.c.seq)
        ):
            entries[row.incident_id].append(_entry(row))
        for row in await conn.execute(
            select(incident_tenants)
            .where(incident_tenants.c.incident_id.in_(found))
            .order_by(incident_tenants.c.confirmed_at, incident_tenants.c.account_id)
        ):
            tenants[row.incident_id].append(_tenant(row))
    return [_incident(row, entries[row.id], tenants[row.id]) for row in rows]


async def load(conn: AsyncConnection, incident_id: uuid.UUID) -> Incident:
    found = await load_all(conn, ids=[incident_id])
    if not found:
        raise not_found("incident")
    return found[0]


async def lock(conn: AsyncConnection, incident_id: uuid.UUID) -> Incident:
    """The incident, its row locked for the rest of the transaction (one change at a
    time: two staff advancing the same phase cannot both succeed)."""
    locked = await conn.scalar(
        select(incidents.c.id).where(incidents.c.id == incident_id).with_for_update()
    )
    if locked is None:
        raise not_found("incident")
    return await load(conn, incident_id)

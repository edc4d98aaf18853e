"""The record of subprocessor announcements: written once the mail has gone out, read
by the processing gate (registry.require_effective), the operator's list and the page."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from audora.platform.subprocessors.tables import subprocessor_announcements as table


@dataclass(frozen=True)
class Announcement:
    subprocessor: str
    name: str
    effective: date
    announced_at: datetime
    recipients: int
    sent: int

    @property
    def complete(self) -> bool:
        """Every owner's message was accepted by the mail server."""
        return self.sent == self.recipients

    def as_json(self) -> dict[str, object]:
        return {
            "announced_at": self.announced_at.isoformat(),
            "effective": self.effective.isoformat(),
            "recipients": self.recipients,
            "sent": self.sent,
        }


async def record(engine: AsyncEngine, announcement: Announcement) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(table).values(
                id=uuid.uuid4(),
                subprocessor=announcement.subprocessor,
                name=announcement.name,
                effective_date=announcement.effective,
                announced_at=announcement.announced_at,
                recipients=announcement.recipients,
                sent=announcement.sent,
            )
        )


async def announcements(engine: AsyncEngine) -> list[Announcement]:
    """Every recorded announcement, oldest first."""
    query = select(table).order_by(table.c.announced_at, table.c.id)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).mappings().all()
    return [
        Announcement(
            subprocessor=row["subprocessor"],
            name=row["name"],
            effective=row["effective_date"],
            announced_at=row["announced_at"],
            recipients=row["recipients"],
            sent=row["sent"],
        )
        for row in rows
    ]

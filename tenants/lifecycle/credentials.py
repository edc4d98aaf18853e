"""Expired credentials leave the platform schema: sessions, upload tickets and
invitations are refused from the moment they expire; their rows are deleted once the
grace for security history is over (the schedule's SESSIONS, UPLOAD_TICKETS and
INVITATIONS rows give the periods). They are platform rows: one statement each covers
every tenant.

A session is over when it is revoked or has been idle longer than the idle limit; its
row stays a further 30 days so a member can still see "signed out from ..." in their
session list and an investigation can still find it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_
from sqlalchemy.ext.asyncio import AsyncEngine

from audora.platform.auth.tables import invitations, sessions
from audora.tenants.lifecycle.schedule import DataClass, period_of
from audora.tenants.recordings.tables import upload_tickets


@dataclass(frozen=True)
class Expired:
    sessions: int
    upload_tickets: int
    invitations: int


async def delete_expired_credentials(
    engine: AsyncEngine, now: datetime, session_idle: timedelta
) -> Expired:
    async with engine.begin() as conn:
        session_cutoff = now - period_of(DataClass.SESSIONS)
        ended_sessions = await conn.execute(
            delete(sessions).where(
                or_(
                    sessions.c.revoked_at < session_cutoff,
                    sessions.c.last_seen_at < session_cutoff - session_idle,
                )
            )
        )
        tickets = await conn.execute(
            delete(upload_tickets).where(
                upload_tickets.c.expires_at < now - period_of(DataClass.UPLOAD_TICKETS)
            )
        )
        invitation_cutoff = now - period_of(DataClass.INVITATIONS)
        ended_invitations = await conn.execute(
            delete(invitations).where(
                or_(
                    invitations.c.expires_at < invitation_cutoff,
                    invitations.c.accepted_at < invitation_cutoff,
                    invitations.c.revoked_at < invitation_cutoff,
                )
            )
        )
    return Expired(ended_sessions.rowcount, tickets.rowcount, ended_invitations.rowcount)

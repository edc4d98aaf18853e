"""Upload tickets: a random token handed out once, of which only the hash is kept.

A ticket names one call of one tenant, expires after a few minutes and carries one
upload: claiming it is a single conditional UPDATE, so two uploads racing on the same
ticket cannot both win.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from audora.tenants.recordings.tables import upload_tickets


@dataclass(frozen=True)
class IssuedTicket:
    token: str
    expires_at: datetime
    max_bytes: int


@dataclass(frozen=True)
class ClaimedTicket:
    account_id: uuid.UUID
    call_id: uuid.UUID
    created_by: uuid.UUID
    max_bytes: int


class Refusal(Enum):
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def issue(
    engine: AsyncEngine,
    *,
    account_id: uuid.UUID,
    call_id: uuid.UUID,
    user_id: uuid.UUID,
    now: datetime,
    lifetime: timedelta,
    max_bytes: int,
) -> IssuedTicket:
    token = secrets.token_urlsafe(32)
    expires_at = now + lifetime
    async with engine.begin() as conn:
        await conn.execute(
            insert(upload_tickets).values(
                token_hash=_hash(token),
                account_id=account_id,
                call_id=call_id,
                created_by=user_id,
                max_bytes=max_bytes,
                created_at=now,
                expires_at=expires_at,
            )
        )
    return IssuedTicket(token, expires_at, max_bytes)


async def claim(engine: AsyncEngine, token: str, now: datetime) -> ClaimedTicket | Refusal:
    if not 16 <= len(token) <= 128:
        return Refusal.UNKNOWN
    digest = _hash(token)
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                update(upload_tickets)
                .where(
                    upload_tickets.c.token_hash == digest,
                    upload_tickets.c.consumed_at.is_(None),
                    upload_tickets.c.expires_at > now,
                )
                .values(consumed_at=now)
                .returning(
                    upload_tickets.c.account_id,
                    upload_tickets.c.call_id,
                    upload_tickets.c.created_by,
                    upload_tickets.c.max_bytes,
                )
            )
        ).first()
        if row is not None:
            return ClaimedTicket(row.account_id, row.call_id, row.created_by, row.max_bytes)
        seen = (
            await conn.execute(
                select(upload_tickets.c.consumed_at).where(upload_tickets.c.token_hash == digest)
            )
        ).first()
    if seen is None:
        return Refusal.UNKNOWN
    return Refusal.USED if seen.consumed_at is not None else Refusal.EXPIRED

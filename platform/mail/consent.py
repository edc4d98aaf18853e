"""Marketing consent: a user's explicit opt-in, kept on their platform row.

Nobody is opted in by default, and signing up never opts in: `marketing_opt_in_at` is
set only by the user's own `setMarketingConsent(optIn: true)`, and cleared (opt-out) by
`setMarketingConsent(optIn: false)`. The mail sender asks `opted_in` before it sends any
marketing message (see sender.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from audora.platform.auth.tables import users
from audora.platform.clock import Clock
from audora.platform.mail.sender import ConsentLookup


def consent_lookup(engine: AsyncEngine) -> ConsentLookup:
    """The sender's lookup: of these addresses, those of users who opted in."""

    async def opted_in(addresses: Collection[str]) -> set[str]:
        wanted = sorted({address.lower() for address in addresses})
        if not wanted:
            return set()
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(users.c.email).where(
                    func.lower(users.c.email).in_(wanted),
                    users.c.marketing_opt_in_at.is_not(None),
                )
            )
            return {str(email).lower() for email in rows.scalars()}

    return opted_in


async def marketing_opt_in(engine: AsyncEngine, user_id: uuid.UUID) -> bool:
    async with engine.connect() as conn:
        at = (
            await conn.execute(select(users.c.marketing_opt_in_at).where(users.c.id == user_id))
        ).scalar_one_or_none()
    return at is not None


async def set_marketing_consent(
    engine: AsyncEngine, clock: Clock, user_id: uuid.UUID, *, opt_in: bool
) -> bool:
    """Record the user's choice; opting in again keeps the first opt-in's time."""
    async with engine.begin() as conn:
        if opt_in:
            await conn.execute(
                update(users)
                .where(users.c.id == user_id, users.c.marketing_opt_in_at.is_(None))
                .values(marketing_opt_in_at=clock.now())
            )
        else:
            await conn.execute(
                update(users).where(users.c.id == user_id).values(marketing_opt_in_at=None)
            )
    return opt_in

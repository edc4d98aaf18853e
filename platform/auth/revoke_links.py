"""One-time links that end a session, carried by new-device alerts.

Whoever reads the alert may not be able to sign in (the password may be what was
stolen), so the link works without a session: its token is 256 random bits, of which
only the SHA-256 is kept on the session row. A session gets at most one link, made by
the alert job when it writes the email (never in Redis, never in the API's answer).

The link does one thing, end that session, and doing it twice is the same as once: a
second visit answers that the session has already ended. `GET` only asks for
confirmation and `POST` ends the session, because mail scanners and link previews
fetch every URL in a message: a `GET` that revoked would end the sessions of those it
is meant to protect, and tell an attacker's scanner nothing useful either way.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncEngine

from audora.platform.auth import repository
from audora.platform.auth.tokens import REVOKE_LINK_PREFIX, new_token, token_hash
from audora.platform.runtime import Runtime
from audora.tenants.audit.security_events import session_revoked

PATH = "/sessions/revoke/"
_MAX_TOKEN = 128


class LinkState(StrEnum):
    UNKNOWN = "UNKNOWN"
    LIVE = "LIVE"  # the session can still be ended
    ENDED = "ENDED"  # this visit ended it
    ALREADY_ENDED = "ALREADY_ENDED"


@dataclass(frozen=True)
class Link:
    state: LinkState
    session_created_at: datetime | None = None


def url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}{PATH}{token}"


async def issue(engine: AsyncEngine, session_id: uuid.UUID) -> str | None:
    """A new revoke token for the session, or None if it already has one."""
    token, digest = new_token(REVOKE_LINK_PREFIX)
    async with engine.begin() as conn:
        made = await repository.set_revoke_token_hash(conn, session_id, digest)
    return token if made else None


async def withdraw(engine: AsyncEngine, session_id: uuid.UUID, token: str) -> None:
    """Forget a link that was never delivered, so that a retry can make another."""
    async with engine.begin() as conn:
        await repository.clear_revoke_token_hash(conn, session_id, token_hash(token))


def _plausible(token: str) -> bool:
    return token.startswith(REVOKE_LINK_PREFIX) and len(token) <= _MAX_TOKEN


async def inspect(engine: AsyncEngine, token: str) -> Link:
    """What a link would do, changing nothing."""
    if not _plausible(token):
        return Link(LinkState.UNKNOWN)
    async with engine.connect() as conn:
        row = await repository.session_by_revoke_link(conn, token_hash(token))
    if row is None:
        return Link(LinkState.UNKNOWN)
    state = LinkState.ALREADY_ENDED if row["revoked_at"] is not None else LinkState.LIVE
    return Link(state, row["created_at"])


async def use(runtime: Runtime, token: str, *, ip: str | None) -> Link:
    """End the session the link names, if it is still live, and audit it."""
    if not _plausible(token):
        return Link(LinkState.UNKNOWN)
    async with runtime.platform_engine.begin() as conn:
        ended = await repository.revoke_by_link(conn, token_hash(token), runtime.clock.now())
    if ended is None:
        # Unknown, or ended before (by this link, the user, or the session limit).
        return await inspect(runtime.platform_engine, token)
    await session_revoked(
        runtime,
        ended["account_id"],
        ended["id"],
        user_id=ended["user_id"],
        ip=ip,
        reason="ended from the link in a new-device alert",
    )
    return Link(LinkState.ENDED)

"""Sessions: opened at login, turned back into a `Principal` on every request.

A session is an opaque token of which only the SHA-256 is stored. It expires after
`session_idle_hours` without use (sliding), is bound to the IP address and user agent
it was opened from (a token replayed from anywhere else is refused and the session
revoked), and a seat holds at most its plan's number at once: opening one more ends
the oldest.
"""

from __future__ import annotations

import ipaddress
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from audora.platform.auth import repository
from audora.platform.auth.principal import Principal, Role
from audora.platform.auth.tables import memberships, sessions
from audora.platform.auth.tokens import new_token, token_hash
from audora.platform.clock import Clock
from audora.platform.db.tenant_binding import TenantRef
from audora.platform.db.tenant_names import validate_tenant_schema
from audora.platform.errors import unauthenticated

USER_AGENT_CHARS = 512
# How stale a session's last use may be before a request writes it again. Writing it on
# every request would make each read a write; a minute's resolution is plenty for a
# 24-hour idle window (a session may end up to a minute early, never late).
SLIDE_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class ClientInfo:
    ip: str | None
    user_agent: str | None

    @property
    def agent(self) -> str:
        return (self.user_agent or "")[:USER_AGENT_CHARS]


@dataclass(frozen=True)
class IssuedSession:
    token: str
    session_id: uuid.UUID
    user_id: uuid.UUID
    account_id: uuid.UUID
    # Sessions this login ended to stay within the seat's limit.
    evicted: tuple[uuid.UUID, ...] = ()


class Revoked(Exception):
    """A session refused for being replayed from another client; it is now revoked."""

    def __init__(self, session_id: uuid.UUID, user_id: uuid.UUID, account_id: uuid.UUID) -> None:
        super().__init__("session replayed from another client")
        self.session_id = session_id
        self.user_id = user_id
        self.account_id = account_id


def _live(now: datetime, idle: timedelta) -> object:
    return (sessions.c.revoked_at.is_(None)) & (sessions.c.last_seen_at >= now - idle)


async def open_session(
    engine: AsyncEngine,
    clock: Clock,
    *,
    user_id: uuid.UUID,
    account_id: uuid.UUID,
    client: ClientInfo,
    limit: int,
    idle: timedelta,
) -> IssuedSession:
    async with engine.begin() as conn:
        return await open_session_in(
            conn,
            clock,
            user_id=user_id,
            account_id=account_id,
            client=client,
            limit=limit,
            idle=idle,
        )


async def open_session_in(
    conn: AsyncConnection,
    clock: Clock,
    *,
    user_id: uuid.UUID,
    account_id: uuid.UUID,
    client: ClientInfo,
    limit: int,
    idle: timedelta,
) -> IssuedSession:
    """`open_session` within the caller's transaction (accepting an invitation makes
    the seat and its first session together)."""
    token, digest = new_token()
    session_id = uuid.uuid4()
    now = clock.now()
    evicted = await _make_room(conn, user_id, account_id, now, limit=limit, idle=idle)
    await repository.insert_session(
        conn,
        id=session_id,
        token_hash=digest,
        user_id=user_id,
        account_id=account_id,
        created_at=now,
        last_seen_at=now,
        ip=client.ip,
        user_agent=client.agent,
    )
    return IssuedSession(token, session_id, user_id, account_id, evicted)


async def _make_room(
    conn: AsyncConnection,
    user_id: uuid.UUID,
    account_id: uuid.UUID,
    now: datetime,
    *,
    limit: int,
    idle: timedelta,
) -> tuple[uuid.UUID, ...]:
    """Revoke the oldest live sessions of the seat so that one more fits. The seat's
    membership row is locked first: two logins at once (even the seat's first two) take
    turns, and cannot both squeeze in."""
    await conn.execute(
        select(memberships.c.user_id)
        .where(memberships.c.user_id == user_id, memberships.c.account_id == account_id)
        .with_for_update()
    )
    live = (
        (
            await conn.execute(
                select(sessions.c.id)
                .where(
                    sessions.c.user_id == user_id,
                    sessions.c.account_id == account_id,
                    _live(now, idle),  # type: ignore[arg-type]
                )
                .order_by(sessions.c.created_at, sessions.c.id)
                .with_for_update()
            )
        )
        .scalars()
        .all()
    )
    excess = list(live[: max(0, len(live) - limit + 1)])
    if excess:
        await conn.execute(update(sessions).where(sessions.c.id.in_(excess)).values(revoked_at=now))
    return tuple(excess)


def _slide(now: datetime, idle: timedelta, client: ClientInfo) -> repository.Slide | None:
    """The lookup's slide of the idle window; none for an address that does not parse,
    which matches no session (`_same_ip`), so its request ends in a revocation."""
    try:
        ip = ipaddress.ip_address(client.ip) if client.ip is not None else None
    except ValueError:
        return None
    return repository.Slide(now=now, idle=idle, every=SLIDE_EVERY, ip=ip, agent=client.agent)


def _same_ip(stored: object, ip: str | None) -> bool:
    if stored is None or ip is None:
        return stored is None and ip is None
    try:
        return ipaddress.ip_address(str(stored)) == ipaddress.ip_address(ip)
    except ValueError:
        return False


async def authenticate(
    engine: AsyncEngine, clock: Clock, token: str, *, idle_timeout: timedelta, client: ClientInfo
) -> Principal:
    """The caller behind a bearer token, or UNAUTHENTICATED. Slides the idle window.
    Raises `Revoked` (after revoking) when the token comes from another client."""
    if len(token) > 128:
        raise unauthenticated("invalid or expired session")
    now = clock.now()
    slide = _slide(now, idle_timeout, client)
    async with engine.connect() as conn:
        # Every request comes through here: the lookup (which slides the idle window in
        # the same statement, see `repository.Slide`), then only when the token comes
        # from another client, the revocation. Each stands alone, so no BEGIN and COMMIT
        # round trips around them.
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        row = await repository.principal_row(conn, token_hash(token), slide)
        if (
            row is None
            or row["revoked_at"] is not None
            or now - row["last_seen_at"] > idle_timeout
            or row["account_status"] == "PURGED"
        ):
            raise unauthenticated("invalid or expired session")
        if not _same_ip(row["ip"], client.ip) or (row["user_agent"] or "") != client.agent:
            await repository.revoke_session(conn, row["session_id"], now)
            raise Revoked(row["session_id"], row["user_id"], row["account_id"])
    ids = row["client_profile_ids"]
    return Principal(
        session_id=row["session_id"],
        user_id=row["user_id"],
        email=row["email"],
        full_name=row["full_name"],
        account_id=row["account_id"],
        account_name=row["account_name"],
        account_status=row["account_status"],
        role=Role(row["role"]),
        tenant=TenantRef(validate_tenant_schema(row["schema_name"])),
        client_profile_ids=tuple(ids) if ids is not None else None,
        account_purge_after=row["account_purge_after"],
        account_moving=bool(row["account_moving"]),
    )


async def revoke(
    engine: AsyncEngine,
    clock: Clock,
    principal: Principal,
    *,
    session_id: uuid.UUID | None = None,
    all_but_current: bool = False,
) -> list[uuid.UUID]:
    """End one of the caller's own sessions, or all but the current one; the ids ended.
    Another user's session id is simply not found."""
    now = clock.now()
    query = (
        update(sessions)
        .where(
            sessions.c.user_id == principal.user_id,
            sessions.c.account_id == principal.account_id,
            sessions.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .returning(sessions.c.id)
    )
    if session_id is not None:
        query = query.where(sessions.c.id == session_id)
    if all_but_current:
        query = query.where(sessions.c.id != principal.session_id)
    async with engine.begin() as conn:
        return list((await conn.execute(query)).scalars())


async def revoke_everywhere(
    engine: AsyncEngine, clock: Clock, user_id: uuid.UUID, *, keep: uuid.UUID
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """End every live session of the user in every account but `keep`; (session,
    account) of each one ended."""
    async with engine.begin() as conn:
        rows = await conn.execute(
            update(sessions)
            .where(
                sessions.c.user_id == user_id,
                sessions.c.revoked_at.is_(None),
                sessions.c.id != keep,
            )
            .values(revoked_at=clock.now())
            .returning(sessions.c.id, sessions.c.account_id)
        )
        return [(row.id, row.account_id) for row in rows]


async def log_out(engine: AsyncEngine, clock: Clock, principal: Principal) -> None:
    async with engine.begin() as conn:
        await repository.revoke_session(conn, principal.session_id, clock.now())

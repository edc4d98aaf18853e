"""SQL over users, memberships and sessions (platform schema, application role)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from sqlalchemy import RowMapping, bindparam, exists, func, select, update
from sqlalchemy.dialects.postgresql import INET
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from audora.platform.auth.tables import (
    known_devices,
    memberships,
    sessions,
    users,
    webauthn_credentials,
)
from audora.tenants.registry.tables import accounts, tenant_placements


async def find_user_by_email(conn: AsyncConnection, email: str) -> RowMapping | None:
    result = await conn.execute(select(users).where(users.c.email == email))
    return result.mappings().first()


async def email_taken(conn: AsyncConnection, email: str) -> bool:
    result = await conn.execute(select(users.c.id).where(users.c.email == email))
    return result.first() is not None


async def first_membership(conn: AsyncConnection, user_id: uuid.UUID) -> RowMapping | None:
    """The account a login lands in: the user's oldest membership of a live account."""
    result = await conn.execute(
        select(memberships.c.account_id, accounts.c.plan, accounts.c.schema_name)
        .join(accounts, accounts.c.id == memberships.c.account_id)
        .where(memberships.c.user_id == user_id, accounts.c.status != "PURGED")
        .order_by(memberships.c.created_at)
        .limit(1)
    )
    return result.mappings().first()


async def insert_session(conn: AsyncConnection, **values: Any) -> None:
    await conn.execute(sessions.insert().values(**values))


@dataclass(frozen=True)
class Slide:
    """When a session lookup may also slide the session's idle window: the session is
    live at `now` (not revoked, used within `idle`), was last seen more than `every`
    ago, and the request comes from the address (already parsed; None when the client
    has none) and user agent the session is bound to."""

    now: datetime
    idle: timedelta
    every: timedelta
    ip: IPv4Address | IPv6Address | None
    agent: str


# Built once, with bound parameters, because every request runs them: SQLAlchemy then
# finds the compiled form by the statement object's memoised cache key, where a
# statement built per call costs a fifth of a millisecond of the API's CPU to build and
# key (a five-table join) before it is even looked up.
_PRINCIPAL = (
    select(
        sessions.c.id.label("session_id"),
        sessions.c.last_seen_at,
        sessions.c.revoked_at,
        sessions.c.ip,
        sessions.c.user_agent,
        users.c.id.label("user_id"),
        users.c.email,
        users.c.full_name,
        accounts.c.id.label("account_id"),
        accounts.c.name.label("account_name"),
        accounts.c.status.label("account_status"),
        accounts.c.purge_after.label("account_purge_after"),
        accounts.c.schema_name,
        memberships.c.role,
        memberships.c.client_profile_ids,
        tenant_placements.c.moving_since.is_not(None).label("account_moving"),
    )
    .join(users, users.c.id == sessions.c.user_id)
    .join(accounts, accounts.c.id == sessions.c.account_id)
    .outerjoin(tenant_placements, tenant_placements.c.account_id == accounts.c.id)
    .join(
        memberships,
        (memberships.c.account_id == sessions.c.account_id)
        & (memberships.c.user_id == sessions.c.user_id),
    )
    .where(sessions.c.token_hash == bindparam("hashed"))
)
# PostgreSQL runs a data-modifying WITH once whether or not the query reads it, and the
# SELECT sees the rows as they were before it. (No parameter is named after a column of
# `sessions`: in an UPDATE, SQLAlchemy takes such a name as a value to SET.)
_PRINCIPAL_SLIDING = _PRINCIPAL.add_cte(
    update(sessions)
    .where(
        sessions.c.token_hash == bindparam("hashed"),
        sessions.c.revoked_at.is_(None),
        sessions.c.last_seen_at >= bindparam("live_since"),
        sessions.c.last_seen_at < bindparam("stale_before"),
        sessions.c.ip.is_not_distinct_from(bindparam("client_ip", type_=INET)),
        func.coalesce(sessions.c.user_agent, bindparam("no_agent", ""))
        == bindparam("client_agent"),
        exists().where(
            accounts.c.id == sessions.c.account_id,
            accounts.c.status != bindparam("purged", "PURGED"),
        ),
    )
    .values(last_seen_at=bindparam("now"))
    .returning(sessions.c.id)
    .cte("slid")
)


async def principal_row(
    conn: AsyncConnection, token_hash: bytes, slide: Slide | None = None
) -> RowMapping | None:
    """The session behind a token hash with its user, account and membership, as it was
    before this statement. With `slide`, the same statement also moves the session's
    last use to `slide.now` when every condition of `Slide` holds: a request's lookup and
    its idle window's slide are one round trip, not two (at thousands of tenants almost
    every request is a session's first in over a minute)."""
    if slide is None:
        result = await conn.execute(_PRINCIPAL, {"hashed": token_hash})
    else:
        result = await conn.execute(
            _PRINCIPAL_SLIDING,
            {
                "hashed": token_hash,
                "now": slide.now,
                "live_since": slide.now - slide.idle,
                "stale_before": slide.now - slide.every,
                "client_ip": slide.ip,
                "client_agent": slide.agent,
            },
        )
    return result.mappings().first()


async def has_webauthn(conn: AsyncConnection, user_id: uuid.UUID) -> bool:
    result = await conn.execute(
        select(webauthn_credentials.c.id).where(webauthn_credentials.c.user_id == user_id).limit(1)
    )
    return result.first() is not None


async def webauthn_credentials_of(conn: AsyncConnection, user_id: uuid.UUID) -> list[RowMapping]:
    result = await conn.execute(
        select(webauthn_credentials)
        .where(webauthn_credentials.c.user_id == user_id)
        .order_by(webauthn_credentials.c.created_at, webauthn_credentials.c.id)
    )
    return list(result.mappings())


async def webauthn_credential_for_update(
    conn: AsyncConnection, user_id: uuid.UUID, credential_id: bytes
) -> RowMapping | None:
    """The user's credential with this WebAuthn id, locked; None if it is not theirs."""
    result = await conn.execute(
        select(webauthn_credentials)
        .where(
            webauthn_credentials.c.user_id == user_id,
            webauthn_credentials.c.credential_id == credential_id,
        )
        .with_for_update()
    )
    return result.mappings().first()


async def insert_webauthn_credential(conn: AsyncConnection, **values: Any) -> RowMapping | None:
    """The new row, or None when that credential id is registered already (to anyone)."""
    statement = (
        pg_insert(webauthn_credentials)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[webauthn_credentials.c.credential_id])
        .returning(*webauthn_credentials.c)
    )
    result = await conn.execute(statement)
    return result.mappings().first()


async def record_webauthn_use(
    conn: AsyncConnection, id: uuid.UUID, sign_count: int, now: datetime
) -> None:
    await conn.execute(
        update(webauthn_credentials)
        .where(webauthn_credentials.c.id == id)
        .values(sign_count=sign_count, last_used_at=now)
    )


async def delete_webauthn_credential(
    conn: AsyncConnection, user_id: uuid.UUID, id: uuid.UUID
) -> RowMapping | None:
    result = await conn.execute(
        webauthn_credentials.delete()
        .where(webauthn_credentials.c.user_id == user_id, webauthn_credentials.c.id == id)
        .returning(webauthn_credentials.c.id, webauthn_credentials.c.name)
    )
    return result.mappings().first()


async def set_password_hash(
    conn: AsyncConnection,
    user_id: uuid.UUID,
    password_hash: str,
    *,
    changed_at: datetime | None,
    replacing: str | None = None,
) -> None:
    """Store a new hash; with `replacing`, only if the stored hash is still that one."""
    values: dict[str, Any] = {"password_hash": password_hash}
    if changed_at is not None:
        values["password_changed_at"] = changed_at
    query = update(users).where(users.c.id == user_id)
    if replacing is not None:
        query = query.where(users.c.password_hash == replacing)
    await conn.execute(query.values(**values))


async def revoke_session(conn: AsyncConnection, session_id: uuid.UUID, now: datetime) -> None:
    await conn.execute(
        update(sessions)
        .where(sessions.c.id == session_id, sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def account_members(
    conn: AsyncConnection, account_id: uuid.UUID, user_ids: list[uuid.UUID]
) -> list[RowMapping]:
    """Users by id, restricted to members of one account, so a lookup can never
    reveal a user of another tenant."""
    result = await conn.execute(
        select(users.c.id, users.c.email, users.c.full_name, memberships.c.role)
        .join(memberships, memberships.c.user_id == users.c.id)
        .where(memberships.c.account_id == account_id, users.c.id.in_(user_ids))
    )
    return list(result.mappings())


async def live_sessions(
    conn: AsyncConnection, user_id: uuid.UUID, account_id: uuid.UUID
) -> list[RowMapping]:
    result = await conn.execute(
        select(sessions)
        .where(
            sessions.c.user_id == user_id,
            sessions.c.account_id == account_id,
            sessions.c.revoked_at.is_(None),
        )
        .order_by(sessions.c.created_at.desc())
    )
    return list(result.mappings())


async def remember_device(
    conn: AsyncConnection, user_id: uuid.UUID, fingerprint: bytes, now: datetime
) -> tuple[bool, bool]:
    """Record that `user_id` used the device `fingerprint` now: (new, had_others), that
    is whether the device was unknown, and whether the user had other devices."""
    inserted = (
        await conn.execute(
            pg_insert(known_devices)
            .values(
                id=uuid.uuid4(),
                user_id=user_id,
                fingerprint=fingerprint,
                first_seen_at=now,
                last_seen_at=now,
            )
            .on_conflict_do_nothing(index_elements=["user_id", "fingerprint"])
            .returning(known_devices.c.id)
        )
    ).first()
    if inserted is None:
        await conn.execute(
            update(known_devices)
            .where(known_devices.c.user_id == user_id, known_devices.c.fingerprint == fingerprint)
            .values(last_seen_at=now)
        )
        return False, True
    others = await conn.execute(
        select(known_devices.c.id)
        .where(known_devices.c.user_id == user_id, known_devices.c.fingerprint != fingerprint)
        .limit(1)
    )
    return True, others.first() is not None


async def set_revoke_token_hash(
    conn: AsyncConnection, session_id: uuid.UUID, digest: bytes
) -> bool:
    """Give a session its revoke link, once: False if it has one (or is gone)."""
    result = await conn.execute(
        update(sessions)
        .where(sessions.c.id == session_id, sessions.c.revoke_token_hash.is_(None))
        .values(revoke_token_hash=digest)
        .returning(sessions.c.id)
    )
    return result.first() is not None


async def clear_revoke_token_hash(
    conn: AsyncConnection, session_id: uuid.UUID, digest: bytes
) -> None:
    await conn.execute(
        update(sessions)
        .where(sessions.c.id == session_id, sessions.c.revoke_token_hash == digest)
        .values(revoke_token_hash=None)
    )


async def revoke_by_link(conn: AsyncConnection, digest: bytes, now: datetime) -> RowMapping | None:
    """End the live session a revoke link names; None if there is none to end."""
    result = await conn.execute(
        update(sessions)
        .where(sessions.c.revoke_token_hash == digest, sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(sessions.c.id, sessions.c.user_id, sessions.c.account_id)
    )
    return result.mappings().first()


async def session_by_revoke_link(conn: AsyncConnection, digest: bytes) -> RowMapping | None:
    result = await conn.execute(
        select(sessions.c.id, sessions.c.created_at, sessions.c.revoked_at).where(
            sessions.c.revoke_token_hash == digest
        )
    )
    return result.mappings().first()

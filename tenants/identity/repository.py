"""SQL for new-device alerts (platform schema, application role)."""

from __future__ import annotations

import uuid

from sqlalchemy import RowMapping, select
from sqlalchemy.ext.asyncio import AsyncConnection

from audora.platform.auth.principal import Role
from audora.platform.auth.tables import memberships, sessions, users
from audora.tenants.registry.tables import accounts


async def alerted_session(
    conn: AsyncConnection, user_id: uuid.UUID, account_id: uuid.UUID, session_id: uuid.UUID
) -> RowMapping | None:
    """The session a new-device alert is about, with its user and account."""
    result = await conn.execute(
        select(
            sessions.c.created_at,
            sessions.c.ip,
            sessions.c.user_agent,
            users.c.email,
            users.c.full_name,
            accounts.c.name.label("account_name"),
        )
        .join(users, users.c.id == sessions.c.user_id)
        .join(accounts, accounts.c.id == sessions.c.account_id)
        .where(
            sessions.c.id == session_id,
            sessions.c.user_id == user_id,
            sessions.c.account_id == account_id,
        )
    )
    return result.mappings().first()


async def owner_emails(conn: AsyncConnection, account_id: uuid.UUID) -> list[str]:
    result = await conn.execute(
        select(users.c.email)
        .join(memberships, memberships.c.user_id == users.c.id)
        .where(memberships.c.account_id == account_id, memberships.c.role == Role.OWNER.value)
        .order_by(memberships.c.created_at)
    )
    return list(result.scalars())

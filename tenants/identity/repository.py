"""SQL for invitations, seats and new-device alerts (platform schema, application role)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, Select, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from audora.platform.auth.principal import Role
from audora.platform.auth.tables import invitations, memberships, sessions, users
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


async def email_of(conn: AsyncConnection, user_id: uuid.UUID) -> str | None:
    result = await conn.execute(select(users.c.email).where(users.c.id == user_id))
    email: str | None = result.scalar_one_or_none()
    return email


async def is_member(conn: AsyncConnection, account_id: uuid.UUID, email: str) -> bool:
    result = await conn.execute(
        select(memberships.c.user_id)
        .join(users, users.c.id == memberships.c.user_id)
        .where(memberships.c.account_id == account_id, users.c.email == email)
    )
    return result.first() is not None


async def insert_invitation(conn: AsyncConnection, **values: Any) -> None:
    await conn.execute(insert(invitations).values(**values))


async def revoke_pending(
    conn: AsyncConnection, account_id: uuid.UUID, email: str, now: datetime, *, keep: uuid.UUID
) -> list[uuid.UUID]:
    """Withdraw the account's open invitations to `email` but `keep`, the one that
    replaces them."""
    result = await conn.execute(
        update(invitations)
        .where(
            invitations.c.account_id == account_id,
            invitations.c.email == email,
            invitations.c.accepted_at.is_(None),
            invitations.c.revoked_at.is_(None),
            invitations.c.id != keep,
        )
        .values(revoked_at=now)
        .returning(invitations.c.id)
    )
    return list(result.scalars())


async def delete_invitation(conn: AsyncConnection, invitation_id: uuid.UUID) -> None:
    await conn.execute(delete(invitations).where(invitations.c.id == invitation_id))


def _invitation_query(token_hash: bytes) -> Select[tuple[Any, ...]]:
    return (
        select(
            invitations,
            accounts.c.name.label("account_name"),
            accounts.c.plan,
            accounts.c.status.label("account_status"),
        )
        .join(accounts, accounts.c.id == invitations.c.account_id)
        .where(invitations.c.token_hash == token_hash)
    )


async def invitation_by_token(conn: AsyncConnection, token_hash: bytes) -> RowMapping | None:
    """An invitation by its token's hash, with its account's name, plan and status."""
    result = await conn.execute(_invitation_query(token_hash))
    row: RowMapping | None = result.mappings().first()
    return row


async def invitation_for_update(conn: AsyncConnection, token_hash: bytes) -> RowMapping | None:
    """The same, locked: two acceptances of one token wait for each other."""
    result = await conn.execute(_invitation_query(token_hash).with_for_update(of=invitations))
    row: RowMapping | None = result.mappings().first()
    return row


async def mark_accepted(conn: AsyncConnection, invitation_id: uuid.UUID, now: datetime) -> None:
    await conn.execute(
        update(invitations).where(invitations.c.id == invitation_id).values(accepted_at=now)
    )


async def insert_user(conn: AsyncConnection, **values: Any) -> None:
    await conn.execute(insert(users).values(**values))


async def insert_membership(conn: AsyncConnection, **values: Any) -> None:
    await conn.execute(insert(memberships).values(**values))


def _member_columns() -> tuple[Any, ...]:
    return (
        users.c.id.label("user_id"),
        users.c.email,
        users.c.full_name,
        memberships.c.role,
        memberships.c.client_profile_ids,
        memberships.c.created_at.label("joined_at"),
    )


async def members_of(conn: AsyncConnection, account_id: uuid.UUID) -> list[RowMapping]:
    """The account's seats with their users, oldest first."""
    result = await conn.execute(
        select(*_member_columns())
        .join(users, users.c.id == memberships.c.user_id)
        .where(memberships.c.account_id == account_id)
        .order_by(memberships.c.created_at, memberships.c.user_id)
    )
    return list(result.mappings())


async def lock_members(conn: AsyncConnection, account_id: uuid.UUID) -> list[RowMapping]:
    """The same, every seat locked (in one order, so two changes take turns rather than
    deadlock): rules that count owners see the rows as they are when the lock is held."""
    result = await conn.execute(
        select(*_member_columns())
        .join(users, users.c.id == memberships.c.user_id)
        .where(memberships.c.account_id == account_id)
        .order_by(memberships.c.user_id)
        .with_for_update(of=memberships)
    )
    return list(result.mappings())


async def update_membership(
    conn: AsyncConnection,
    account_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    role: str,
    client_profile_ids: list[uuid.UUID] | None,
) -> None:
    await conn.execute(
        update(memberships)
        .where(memberships.c.account_id == account_id, memberships.c.user_id == user_id)
        .values(role=role, client_profile_ids=client_profile_ids)
    )


async def delete_membership(
    conn: AsyncConnection, account_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    await conn.execute(
        delete(memberships).where(
            memberships.c.account_id == account_id, memberships.c.user_id == user_id
        )
    )


async def revoke_seat_sessions(
    conn: AsyncConnection, account_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> list[uuid.UUID]:
    """End every live session of the user in this account (their other accounts keep
    theirs)."""
    result = await conn.execute(
        update(sessions)
        .where(
            sessions.c.account_id == account_id,
            sessions.c.user_id == user_id,
            sessions.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .returning(sessions.c.id)
    )
    return list(result.scalars())


async def revoke_sent_by(
    conn: AsyncConnection, account_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> list[uuid.UUID]:
    """Withdraw the open invitations a member sent in this account."""
    result = await conn.execute(
        update(invitations)
        .where(
            invitations.c.account_id == account_id,
            invitations.c.invited_by == user_id,
            invitations.c.accepted_at.is_(None),
            invitations.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .returning(invitations.c.id)
    )
    return list(result.scalars())

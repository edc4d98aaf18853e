"""Logging in and out, and turning a bearer token into a `Principal`.

This foundation keeps sessions simple (opaque token, idle expiry); binding to IP and user
agent, lockout and MFA harden it in the identity capability.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from audora.platform.auth import repository
from audora.platform.auth.passwords import verify_password
from audora.platform.auth.principal import Principal, Role
from audora.platform.auth.tokens import new_token, token_hash
from audora.platform.auth.validation import normalize_email
from audora.platform.clock import Clock
from audora.platform.db.tenant_binding import TenantRef
from audora.platform.db.tenant_names import validate_tenant_schema
from audora.platform.errors import AppError, unauthenticated


@dataclass(frozen=True)
class ClientInfo:
    ip: str | None
    user_agent: str | None


@dataclass(frozen=True)
class IssuedSession:
    token: str
    session_id: uuid.UUID
    user_id: uuid.UUID
    account_id: uuid.UUID


async def open_session(
    engine: AsyncEngine,
    clock: Clock,
    *,
    user_id: uuid.UUID,
    account_id: uuid.UUID,
    client: ClientInfo,
) -> IssuedSession:
    token, digest = new_token()
    session_id = uuid.uuid4()
    now = clock.now()
    async with engine.begin() as conn:
        await repository.insert_session(
            conn,
            id=session_id,
            token_hash=digest,
            user_id=user_id,
            account_id=account_id,
            created_at=now,
            last_seen_at=now,
            ip=client.ip,
            user_agent=(client.user_agent or "")[:512],
        )
    return IssuedSession(token, session_id, user_id, account_id)


_BAD_CREDENTIALS = "email or password is incorrect"


async def log_in(
    engine: AsyncEngine, clock: Clock, *, email: str, password: str, client: ClientInfo
) -> IssuedSession:
    try:
        email = normalize_email(email)
    except AppError:
        # A malformed address is answered like a wrong password, after the same work.
        await verify_password(None, password)
        raise unauthenticated(_BAD_CREDENTIALS) from None
    # No connection is held while argon2 runs: slow hashing must not drain the pool.
    async with engine.connect() as conn:
        user = await repository.find_user_by_email(conn, email)
    ok = await verify_password(user["password_hash"] if user else None, password)
    if user is None or not ok:
        raise unauthenticated(_BAD_CREDENTIALS)
    async with engine.connect() as conn:
        membership = await repository.first_membership(conn, user["id"])
    if membership is None:
        raise unauthenticated(_BAD_CREDENTIALS)
    return await open_session(
        engine, clock, user_id=user["id"], account_id=membership["account_id"], client=client
    )


async def authenticate(
    engine: AsyncEngine, clock: Clock, token: str, *, idle_timeout: timedelta
) -> Principal:
    """The caller behind a bearer token, or UNAUTHENTICATED. Slides the idle window."""
    if len(token) > 128:
        raise unauthenticated("invalid or expired session")
    now = clock.now()
    async with engine.begin() as conn:
        row = await repository.principal_row(conn, token_hash(token))
        if (
            row is None
            or row["revoked_at"] is not None
            or _idle(row["last_seen_at"], now, idle_timeout)
        ):
            raise unauthenticated("invalid or expired session")
        if row["account_status"] == "PURGED":
            raise unauthenticated("invalid or expired session")
        # Writing last_seen on every request would make each read a write; a minute's
        # resolution is plenty for a 24-hour idle window.
        if now - row["last_seen_at"] > timedelta(minutes=1):
            await repository.touch_session(conn, row["session_id"], now)
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
    )


def _idle(last_seen: datetime, now: datetime, idle_timeout: timedelta) -> bool:
    return now - last_seen > idle_timeout


async def log_out(engine: AsyncEngine, clock: Clock, principal: Principal) -> None:
    async with engine.begin() as conn:
        await repository.revoke_session(conn, principal.session_id, clock.now())

"""Just-in-time grants: an approved request, activated by the staff member who filed it
with a fresh assertion of their security key, opens a session bound to that tenant and
scope.

The grant's token (`asg_...`) is a bearer token for `POST /graphql`, where
`RequestContext` turns it into a `Principal` through `authenticate_grant`: no role, only
the scope's read permissions (`Principal.staff`), the tenant taken from the approved
request, so reads go through the same tenant binding (the tenant's own database role)
and field-level rules as a customer's. Every use checks, each time: the grant is live
(not past its expiry, not revoked by the customer, not ended by staff), the staff
sign-in it was opened from is live and is where the request comes from (its IP address
and user agent), and the approval's signature verifies with the tenant's key
(`approvals.py`): an approval row edited in the database opens nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import RowMapping, select
from sqlalchemy.ext.asyncio import AsyncConnection

from audora.platform import ids
from audora.platform.auth.principal import Principal, Role, StaffGrant
from audora.platform.auth.service import ClientInfo
from audora.platform.auth.tokens import new_token, token_hash
from audora.platform.db.tenant_binding import tenant_transaction
from audora.platform.errors import AppError, ErrorCode, not_found, unauthenticated
from audora.platform.runtime import Runtime
from audora.platform.staff import audit, keys
from audora.platform.staff.accounts import StaffSession
from audora.platform.staff.tables import (
    access_grants,
    access_requests,
    staff_sessions,
    staff_users,
)
from audora.tenants.registry.tables import accounts
from audora.tenants.staff_access import approvals
from audora.tenants.staff_access.access import (
    SCOPES,
    end_grant_in,
    expire_due,
    public_id,
    staff_actor,
)

GRANT_PREFIX = "asg_"


async def _own_request(
    conn: AsyncConnection, session: StaffSession, request_id: uuid.UUID, *, lock: bool = False
) -> RowMapping:
    query = select(access_requests).where(
        access_requests.c.id == request_id, access_requests.c.staff_id == session.staff_id
    )
    row = (await conn.execute(query.with_for_update() if lock else query)).mappings().first()
    if row is None:
        raise not_found("access request")
    return row


async def _activatable(conn: AsyncConnection, row: RowMapping, now: datetime) -> None:
    opened = await conn.execute(
        select(access_grants.c.id).where(access_grants.c.request_id == row["id"])
    )
    if opened.first() is not None:
        raise AppError("the request's grant was opened already", code=ErrorCode.CONFLICT)
    if row["status"] != "APPROVED":
        raise AppError(
            f"the request is {row['status'].lower()}, not approved", code=ErrorCode.CONFLICT
        )
    # An approval is for now-ish, not for whenever: it must be used within the window
    # the request itself had.
    if row["expires_at"] <= now:
        raise AppError("the approval was not used in time", code=ErrorCode.CONFLICT)


async def activation_options(runtime: Runtime, session: StaffSession, request_id: uuid.UUID) -> str:
    """Assertion options for activating the staff member's approved request."""
    async with runtime.platform_engine.connect() as conn:
        row = await _own_request(conn, session, request_id)
        await _activatable(conn, row, runtime.clock.now())
        return await keys.assertion_options(runtime, conn, session.staff_id, "staff-activate")


async def activate(
    runtime: Runtime,
    session: StaffSession,
    request_id: uuid.UUID,
    assertion: str,
    client: ClientInfo,
) -> tuple[uuid.UUID, str, datetime]:
    """Open the grant: its id, token and end. UNAUTHENTICATED if the key's answer is
    refused, FORBIDDEN if the approval's signature does not verify."""
    now = runtime.clock.now()
    async with runtime.platform_engine.begin() as conn:
        row = await _own_request(conn, session, request_id, lock=True)
        await _activatable(conn, row, now)
        if not await keys.verify_assertion(
            runtime, conn, session.staff_id, "staff-activate", assertion
        ):
            raise unauthenticated("the security key's answer was refused")
        tenant = audit.tenant_of(row["account_id"])
        async with tenant_transaction(runtime.tenant_engines, tenant) as uow:
            signed = await approvals.verify(uow, runtime.keys, row["account_id"], row)
        if not signed:
            await _refuse_unsigned(runtime, row, client)
        grant_id = uuid.uuid4()
        token, digest = new_token(GRANT_PREFIX)
        expires = now + timedelta(minutes=row["requested_minutes"])
        await conn.execute(
            access_grants.insert().values(
                id=grant_id,
                request_id=request_id,
                staff_session_id=session.id,
                token_hash=digest,
                activated_at=now,
                expires_at=expires,
            )
        )
        await audit.both(
            runtime,
            conn,
            now,
            "staff_access.activated",
            account_id=row["account_id"],
            actor=staff_actor(session.staff_id),
            staff_id=session.staff_id,
            target=public_id(request_id),
            ip=client.ip,
            details={
                "grant": ids.encode(ids.Kind.ACCESS_GRANT, grant_id),
                "scope": list(row["scope"]),
                "expiresAt": expires.isoformat(),
            },
        )
    return grant_id, token, expires


async def _refuse_unsigned(runtime: Runtime, row: RowMapping, client: ClientInfo) -> None:
    """Record, in transactions of their own, that an approval failed its signature."""
    at = runtime.clock.now()
    async with runtime.platform_engine.begin() as conn:
        await audit.both(
            runtime,
            conn,
            at,
            "security.staff_approval_invalid",
            account_id=row["account_id"],
            actor=staff_actor(row["staff_id"]),
            staff_id=row["staff_id"],
            target=public_id(row["id"]),
            ip=client.ip,
        )
    raise AppError("the approval's signature does not verify", code=ErrorCode.FORBIDDEN)


async def end_with_session(runtime: Runtime, session: StaffSession, client: ClientInfo) -> None:
    """At sign-out, every live grant opened from the sign-in ends too (ENDED)."""
    async with runtime.platform_engine.begin() as conn:
        live = await conn.execute(
            select(access_grants.c.id, access_requests.c.account_id)
            .join(access_requests, access_requests.c.id == access_grants.c.request_id)
            .where(
                access_grants.c.staff_session_id == session.id,
                access_grants.c.ended_at.is_(None),
            )
        )
        for grant in live.all():
            await end_grant_in(
                runtime,
                conn,
                grant.id,
                grant.account_id,
                session.staff_id,
                "ENDED",
                runtime.clock.now(),
                actor=staff_actor(session.staff_id),
                ip=client.ip,
            )


async def end_by_staff(
    runtime: Runtime, session: StaffSession, grant_id: uuid.UUID, client: ClientInfo
) -> None:
    async with runtime.platform_engine.begin() as conn:
        row = (
            await conn.execute(
                select(access_requests.c.account_id)
                .join(access_grants, access_grants.c.request_id == access_requests.c.id)
                .where(
                    access_grants.c.id == grant_id,
                    access_requests.c.staff_id == session.staff_id,
                    access_grants.c.ended_at.is_(None),
                )
            )
        ).first()
        if row is None:
            raise not_found("access grant")
        await end_grant_in(
            runtime,
            conn,
            grant_id,
            row.account_id,
            session.staff_id,
            "ENDED",
            runtime.clock.now(),
            actor=staff_actor(session.staff_id),
            ip=client.ip,
        )


def _address(value: object) -> str | None:
    return str(value) if value is not None else None


async def authenticate_grant(runtime: Runtime, token: str, client: ClientInfo) -> Principal:
    """The principal of a live, validly signed grant; UNAUTHENTICATED otherwise."""
    now = runtime.clock.now()
    refused = unauthenticated("the access grant is not live")
    async with runtime.platform_engine.connect() as conn:
        row = (
            (
                await conn.execute(
                    select(
                        access_requests,
                        access_grants.c.id.label("grant_id"),
                        access_grants.c.expires_at.label("grant_expires_at"),
                        access_grants.c.ended_at.label("grant_ended_at"),
                        staff_sessions.c.ended_at.label("session_ended_at"),
                        staff_sessions.c.expires_at.label("session_expires_at"),
                        staff_sessions.c.ip.label("session_ip"),
                        staff_sessions.c.user_agent.label("session_agent"),
                        staff_users.c.full_name.label("staff_name"),
                        staff_users.c.email.label("staff_email"),
                        staff_users.c.disabled_at,
                        accounts.c.name.label("account_name"),
                        accounts.c.status.label("account_status"),
                    )
                    .join(access_grants, access_grants.c.request_id == access_requests.c.id)
                    .join(staff_sessions, staff_sessions.c.id == access_grants.c.staff_session_id)
                    .join(staff_users, staff_users.c.id == access_requests.c.staff_id)
                    .join(accounts, accounts.c.id == access_requests.c.account_id)
                    .where(access_grants.c.token_hash == token_hash(token))
                )
            )
            .mappings()
            .first()
        )
    if row is None or row["grant_ended_at"] is not None:
        raise refused
    if row["grant_expires_at"] <= now:
        await expire_due(runtime, row["account_id"])
        raise refused
    if (
        row["session_ended_at"] is not None
        or row["session_expires_at"] <= now
        or row["disabled_at"] is not None
        or row["status"] != "APPROVED"
        or row["account_status"] != "ACTIVE"
        # Bound, as customer sessions are, to where the staff member signed in from.
        or _address(row["session_ip"]) != _address(client.ip)
        or (row["session_agent"] or "") != client.agent
    ):
        raise refused
    tenant = audit.tenant_of(row["account_id"])
    async with tenant_transaction(runtime.tenant_engines, tenant) as uow:
        signed = await approvals.verify(uow, runtime.keys, row["account_id"], row)
    if not signed:
        await _refuse_unsigned(runtime, row, client)
    return Principal(
        session_id=row["grant_id"],
        user_id=row["staff_id"],
        email=row["staff_email"],
        full_name=row["staff_name"],
        account_id=row["account_id"],
        account_name=row["account_name"],
        account_status=row["account_status"],
        # Not consulted: `staff` is (permissions.principal_allows).
        role=Role.VIEWER,
        tenant=tenant,
        client_profile_ids=None,
        staff=StaffGrant(
            staff_id=row["staff_id"],
            staff_name=row["staff_name"],
            grant_id=row["grant_id"],
            request_id=row["id"],
            permissions=frozenset(SCOPES[s].value for s in row["scope"] if s in SCOPES),
        ),
    )

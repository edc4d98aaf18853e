"""Staff access requests and the customer's decisions on them.

A staff member asks for one tenant, with a reason, a support ticket reference, a scope
(data classes, read-only: there is no write scope) and a duration of at most
`MAX_MINUTES`. The account's owners and admins are emailed and see the request in
`accessRequests`; one of them approves or denies it with a note, and the decision is
signed with the tenant's key (`approvals.py`). A request nobody answered within
`UNANSWERED` is EXPIRED. Each step is audited on both sides (`platform/staff/audit.py`).

Expiry is applied by `expire_due`, which the worker's cron runs and which every read of
requests or grants runs first, so the answer never depends on when the cron last ran.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import RowMapping, Select, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from audora.platform import ids
from audora.platform.auth.permissions import Permission, principal_allows
from audora.platform.auth.principal import Principal, Role
from audora.platform.auth.service import ClientInfo
from audora.platform.auth.tables import memberships, users
from audora.platform.db.tenant_binding import tenant_transaction
from audora.platform.errors import AppError, ErrorCode, bad_input, forbidden, not_found
from audora.platform.input_text import clean_text
from audora.platform.mail.sender import Mail, MailKind
from audora.platform.runtime import Runtime
from audora.platform.staff import audit
from audora.platform.staff.accounts import StaffSession
from audora.platform.staff.tables import access_grants, access_requests, staff_users
from audora.tenants.registry.tables import accounts
from audora.tenants.staff_access import approvals

log = logging.getLogger(__name__)

# Data classes a grant may cover, and the one read permission each brings.
SCOPES: dict[str, Permission] = {
    "CLIENT_PROFILES": Permission.CLIENTS_READ,
    "CALLS": Permission.CALLS_READ,
    "TRANSCRIPTS": Permission.TRANSCRIPTS_READ,
    "DOCUMENTS": Permission.DOCUMENTS_READ,
}
MAX_MINUTES = 8 * 60
UNANSWERED = timedelta(hours=12)
MAX_REASON = 2000
MAX_TICKET = 128
MAX_NOTE = 2000


def staff_actor(staff_id: uuid.UUID) -> str:
    return f"staff:{staff_id}"


def public_id(request_id: uuid.UUID) -> str:
    return ids.encode(ids.Kind.ACCESS_REQUEST, request_id)


@dataclass(frozen=True)
class AccessRequestRecord:
    id: uuid.UUID
    account_id: uuid.UUID
    staff_id: uuid.UUID
    staff_name: str
    reason: str
    ticket: str
    scope: tuple[str, ...]
    requested_minutes: int
    status: str
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None
    decision_note: str | None
    grant_id: uuid.UUID | None
    grant_expires_at: datetime | None
    grant_ended_at: datetime | None
    grant_end_reason: str | None

    @classmethod
    def from_row(cls, row: RowMapping) -> AccessRequestRecord:
        return cls(
            id=row["id"],
            account_id=row["account_id"],
            staff_id=row["staff_id"],
            staff_name=row["staff_name"],
            reason=row["reason"],
            ticket=row["ticket"],
            scope=tuple(row["scope"]),
            requested_minutes=row["requested_minutes"],
            status=row["status"],
            created_at=row["created_at"],
            expires_at=row["expires_at"],
            decided_at=row["decided_at"],
            decision_note=row["decision_note"],
            grant_id=row["grant_id"],
            grant_expires_at=row["grant_expires_at"],
            grant_ended_at=row["grant_ended_at"],
            grant_end_reason=row["end_reason"],
        )


def _listing() -> Select[Any]:
    return (
        select(
            access_requests,
            staff_users.c.full_name.label("staff_name"),
            access_grants.c.id.label("grant_id"),
            access_grants.c.expires_at.label("grant_expires_at"),
            access_grants.c.ended_at.label("grant_ended_at"),
            access_grants.c.end_reason,
        )
        .join(staff_users, staff_users.c.id == access_requests.c.staff_id)
        .outerjoin(access_grants, access_grants.c.request_id == access_requests.c.id)
        .order_by(access_requests.c.created_at.desc(), access_requests.c.id)
    )


async def request_access(
    runtime: Runtime,
    session: StaffSession,
    account_id: uuid.UUID,
    *,
    reason: str,
    ticket: str,
    scope: list[str],
    minutes: int,
    client: ClientInfo,
) -> uuid.UUID:
    """File a request; the account's owners and admins are told by email."""
    reason = clean_text(reason, field="reason", limit=MAX_REASON, multiline=True)
    ticket = clean_text(ticket, field="ticket", limit=MAX_TICKET, multiline=True)
    chosen = sorted(set(scope))
    if not chosen or any(s not in SCOPES for s in chosen):
        raise bad_input(f"scope is one or more of {', '.join(SCOPES)}", field="scope")
    if not 1 <= minutes <= MAX_MINUTES:
        raise bad_input(f"a duration of 1 to {MAX_MINUTES} minutes", field="minutes")
    now = runtime.clock.now()
    request_id = uuid.uuid4()
    async with runtime.platform_engine.begin() as conn:
        account = (
            await conn.execute(
                select(accounts.c.status).where(accounts.c.id == account_id).with_for_update()
            )
        ).first()
        if account is None or account.status != "ACTIVE":
            raise not_found("account")
        await conn.execute(
            access_requests.insert().values(
                id=request_id,
                account_id=account_id,
                staff_id=session.staff_id,
                reason=reason,
                ticket=ticket,
                scope=chosen,
                requested_minutes=minutes,
                created_at=now,
                expires_at=now + UNANSWERED,
                status="PENDING",
            )
        )
        await audit.both(
            runtime,
            conn,
            now,
            "staff_access.requested",
            account_id=account_id,
            actor=staff_actor(session.staff_id),
            staff_id=session.staff_id,
            target=public_id(request_id),
            ip=client.ip,
            details={
                "staffName": session.full_name,
                "reason": reason,
                "ticket": ticket,
                "scope": chosen,
                "minutes": minutes,
            },
        )
        approvers = await _approver_emails(conn, account_id)
    await _tell_approvers(runtime, approvers, session.full_name, reason, ticket, chosen, minutes)
    return request_id


async def _approver_emails(conn: AsyncConnection, account_id: uuid.UUID) -> list[str]:
    result = await conn.execute(
        select(users.c.email)
        .join(memberships, memberships.c.user_id == users.c.id)
        .where(
            memberships.c.account_id == account_id,
            memberships.c.role.in_([Role.OWNER.value, Role.ADMIN.value]),
        )
        .order_by(memberships.c.created_at)
    )
    return list(result.scalars())


async def _tell_approvers(
    runtime: Runtime,
    to: list[str],
    staff_name: str,
    reason: str,
    ticket: str,
    scope: list[str],
    minutes: int,
) -> None:
    if not to:
        return
    text = (
        f"{staff_name}, of Audora support, asks to read your account's data.\n\n"
        f"Reason: {reason}\nTicket: {ticket}\n"
        f"Data: {', '.join(s.lower().replace('_', ' ') for s in scope)} (read only)\n"
        f"For: {minutes} minutes after you approve and they start.\n\n"
        "Nothing is shown to them unless an owner or admin approves. Approve or deny it "
        f"in Audora within {int(UNANSWERED.total_seconds() // 3600)} hours "
        "(accessRequests); unanswered, the request expires.\n"
    )
    try:
        await runtime.mail.send(
            Mail(
                to=tuple(to),
                subject="Audora support asks for access",
                text=text,
                kind=MailKind.TRANSACTIONAL,
            )
        )
    except Exception:
        # The request stands and shows in accessRequests; the mail is a courtesy.
        log.exception("could not email the approvers of a staff access request")


async def expire_due(runtime: Runtime, account_id: uuid.UUID | None = None) -> int:
    """Mark unanswered requests past their 12 hours EXPIRED, and grants past their end
    ended, auditing each; how many changed."""
    now = runtime.clock.now()
    changed = 0
    async with runtime.platform_engine.begin() as conn:
        due = select(
            access_requests.c.id, access_requests.c.account_id, access_requests.c.staff_id
        ).where(access_requests.c.status == "PENDING", access_requests.c.expires_at <= now)
        if account_id is not None:
            due = due.where(access_requests.c.account_id == account_id)
        for row in (await conn.execute(due.with_for_update(skip_locked=True))).all():
            await conn.execute(
                update(access_requests)
                .where(access_requests.c.id == row.id)
                .values(status="EXPIRED")
            )
            await audit.both(
                runtime,
                conn,
                now,
                "staff_access.request_expired",
                account_id=row.account_id,
                actor="system:staff_access",
                staff_id=row.staff_id,
                target=public_id(row.id),
            )
            changed += 1
        ended = (
            select(
                access_grants.c.id,
                access_grants.c.expires_at,
                access_requests.c.account_id,
                access_requests.c.staff_id,
            )
            .join(access_requests, access_requests.c.id == access_grants.c.request_id)
            .where(access_grants.c.ended_at.is_(None), access_grants.c.expires_at <= now)
        )
        if account_id is not None:
            ended = ended.where(access_requests.c.account_id == account_id)
        for grant in (await conn.execute(ended.with_for_update(skip_locked=True))).all():
            await end_grant_in(
                runtime,
                conn,
                grant.id,
                grant.account_id,
                grant.staff_id,
                "EXPIRED",
                grant.expires_at,
            )
            changed += 1
    return changed


async def end_grant_in(
    runtime: Runtime,
    conn: AsyncConnection,
    grant_id: uuid.UUID,
    account_id: uuid.UUID,
    staff_id: uuid.UUID,
    reason: str,
    at: datetime,
    *,
    actor: str = "system:staff_access",
    ip: str | None = None,
) -> bool:
    """End a live grant (EXPIRED, REVOKED or ENDED) in `conn`'s transaction, audited."""
    done = await conn.execute(
        update(access_grants)
        .where(access_grants.c.id == grant_id, access_grants.c.ended_at.is_(None))
        .values(ended_at=at, end_reason=reason)
    )
    if done.rowcount != 1:
        return False
    await audit.both(
        runtime,
        conn,
        at,
        f"staff_access.grant_{reason.lower()}",
        account_id=account_id,
        actor=actor,
        staff_id=staff_id,
        target=ids.encode(ids.Kind.ACCESS_GRANT, grant_id),
        ip=ip,
    )
    return True


def _may_approve(principal: Principal) -> None:
    # The schema checks the permission at the field; the service checks it again.
    if not principal_allows(principal, Permission.ACCESS_APPROVE):
        raise forbidden(f"your role does not have {Permission.ACCESS_APPROVE.value}")


async def requests_of_account(
    runtime: Runtime, principal: Principal, status: str | None
) -> list[AccessRequestRecord]:
    _may_approve(principal)
    await expire_due(runtime, principal.account_id)
    query = _listing().where(access_requests.c.account_id == principal.account_id)
    if status is not None:
        query = query.where(access_requests.c.status == status)
    async with runtime.platform_engine.connect() as conn:
        rows = (await conn.execute(query.limit(200))).mappings().all()
    return [AccessRequestRecord.from_row(r) for r in rows]


async def requests_of_staff(runtime: Runtime, staff_id: uuid.UUID) -> list[AccessRequestRecord]:
    await expire_due(runtime)
    query = _listing().where(access_requests.c.staff_id == staff_id)
    async with runtime.platform_engine.connect() as conn:
        rows = (await conn.execute(query.limit(100))).mappings().all()
    return [AccessRequestRecord.from_row(r) for r in rows]


async def decide(
    runtime: Runtime,
    principal: Principal,
    request_id: uuid.UUID,
    *,
    approve: bool,
    note: str | None,
    ip: str | None,
) -> AccessRequestRecord:
    """Approve or deny a pending request of the caller's account, signed with the
    tenant's key; NOT_FOUND for another account's, CONFLICT once answered or expired."""
    _may_approve(principal)
    note = (
        clean_text(note, field="note", limit=MAX_NOTE, multiline=True)
        if note is not None and note.strip()
        else None
    )
    await expire_due(runtime, principal.account_id)
    now = runtime.clock.now()
    async with runtime.platform_engine.begin() as conn:
        row = (
            (
                await conn.execute(
                    select(access_requests)
                    .where(
                        access_requests.c.id == request_id,
                        access_requests.c.account_id == principal.account_id,
                    )
                    .with_for_update()
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            raise not_found("access request")
        if row["status"] != "PENDING":
            raise AppError(
                f"the request is {row['status'].lower()} already", code=ErrorCode.CONFLICT
            )
        decided = {
            **row,
            "status": "APPROVED" if approve else "DENIED",
            "decided_by": principal.user_id,
            "decided_at": now,
            "decision_note": note,
        }
        # The signing key is made (on first use) and the audit entry written in one
        # tenant transaction, committed before the platform row: a signature never
        # refers to a key that a rollback took away.
        async with tenant_transaction(runtime.tenant_engines, principal.tenant) as uow:
            signature, version = await approvals.sign(
                uow, runtime.keys, principal.account_id, decided
            )
            await conn.execute(
                update(access_requests)
                .where(access_requests.c.id == request_id)
                .values(
                    status=decided["status"],
                    decided_by=principal.user_id,
                    decided_at=now,
                    decision_note=note,
                    signature=signature,
                    key_version=version,
                )
            )
            await audit.both(
                runtime,
                conn,
                now,
                "staff_access.approved" if approve else "staff_access.denied",
                account_id=principal.account_id,
                actor=f"user:{principal.user_id}",
                staff_id=row["staff_id"],
                target=public_id(request_id),
                ip=ip,
                details={"note": note} if note else {},
                uow=uow,
            )
            await uow.commit()
        listed = (
            (await conn.execute(_listing().where(access_requests.c.id == request_id)))
            .mappings()
            .one()
        )
    return AccessRequestRecord.from_row(listed)


async def revoke_grant(
    runtime: Runtime, principal: Principal, grant_id: uuid.UUID, ip: str | None
) -> AccessRequestRecord:
    """The customer ends a live grant of their account; NOT_FOUND if there is none."""
    _may_approve(principal)
    await expire_due(runtime, principal.account_id)
    async with runtime.platform_engine.begin() as conn:
        row = (
            await conn.execute(
                select(
                    access_grants.c.id,
                    access_requests.c.id.label("request_id"),
                    access_requests.c.staff_id,
                )
                .join(access_requests, access_requests.c.id == access_grants.c.request_id)
                .where(
                    access_grants.c.id == grant_id,
                    access_requests.c.account_id == principal.account_id,
                    access_grants.c.ended_at.is_(None),
                )
                .with_for_update(of=access_grants)
            )
        ).first()
        if row is None:
            raise not_found("access grant")
        await end_grant_in(
            runtime,
            conn,
            grant_id,
            principal.account_id,
            row.staff_id,
            "REVOKED",
            runtime.clock.now(),
            actor=f"user:{principal.user_id}",
            ip=ip,
        )
        listed = (
            (await conn.execute(_listing().where(access_requests.c.id == row.request_id)))
            .mappings()
            .one()
        )
    return AccessRequestRecord.from_row(listed)


async def staff_access_sweep_job(ctx: dict[str, Any]) -> int:
    """The worker's cron: unanswered requests expire, grants past their end end, each
    audited, even when nobody reads them."""
    runtime: Runtime = ctx["runtime"]
    return await expire_due(runtime)

"""Suspending an account (C1): on credible evidence of recording without consent, an
operator makes the account read-only, and lifts that later.

A suspended account keeps its data and its members can still sign in and read it; every
GraphQL mutation that writes tenant data is refused (`schema/read_only.py`), uploads are
refused (`tenants/recordings/ingest.py`), and jobs start no new processing for it
(`account_is_writable`). Each change is written to the tenant's own audit log with the
operator's reason, and that entry is committed before the status changes: the account's
status never moves without its record (the reverse, a record of a change that then
failed, says so by the status it left).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from audora.platform.db.tenant_binding import TenantRef
from audora.platform.db.tenant_names import tenant_schema
from audora.platform.errors import AppError, ErrorCode
from audora.platform.runtime import Runtime
from audora.tenants.audit.log import AuditEntry, append_alone
from audora.tenants.registry.tables import accounts, tenant_placements

ACTIVE = "ACTIVE"
SUSPENDED = "SUSPENDED"
# Statuses in which an account's data may change; anything else is read-only.
WRITABLE = frozenset({ACTIVE})
MAX_REASON_CHARS = 2000
# Not a suspension, and not said like one: the account is being copied to another
# database server (`audora tenants move`) and is writable again in a few minutes.
MOVING_REFUSAL = (
    "this account is read-only for a few minutes while it moves to another database "
    "server: data can be read but not changed; try again shortly"
)


@dataclass(frozen=True)
class StatusChange:
    account_id: uuid.UUID
    before: str
    after: str


async def account_status(platform_engine: AsyncEngine, account_id: uuid.UUID) -> str | None:
    """The account's status, or None for no such account."""
    async with platform_engine.connect() as conn:
        status: str | None = (
            await conn.execute(select(accounts.c.status).where(accounts.c.id == account_id))
        ).scalar_one_or_none()
    return status


async def account_is_writable(platform_engine: AsyncEngine, account_id: uuid.UUID) -> bool:
    """Whether jobs may start new processing for the account: not while it is read-only,
    nor while it moves to another cluster (the jobs wait, as for a suspension)."""
    async with platform_engine.connect() as conn:
        row = (
            await conn.execute(
                select(accounts.c.status, tenant_placements.c.moving_since)
                .outerjoin(tenant_placements, tenant_placements.c.account_id == accounts.c.id)
                .where(accounts.c.id == account_id)
            )
        ).first()
    return row is not None and row[0] in WRITABLE and row[1] is None


async def _change(
    runtime: Runtime,
    account_id: uuid.UUID,
    *,
    before: str,
    after: str,
    action: str,
    actor: str,
    details: dict[str, str],
) -> StatusChange:
    status = await account_status(runtime.platform_engine, account_id)
    if status is None:
        raise AppError("no such account", code=ErrorCode.NOT_FOUND)
    if status != before:
        raise AppError(
            f"the account is {status}; only a {before} account can become {after}",
            code=ErrorCode.CONFLICT,
        )
    await append_alone(
        runtime.tenant_engines,
        TenantRef(tenant_schema(account_id)),
        runtime.clock.now(),
        AuditEntry(actor=actor, action=action, target=f"account:{account_id}", details=details),
    )
    async with runtime.platform_engine.begin() as conn:
        changed = await conn.execute(
            update(accounts)
            .where(accounts.c.id == account_id, accounts.c.status == before)
            .values(status=after)
        )
    if changed.rowcount != 1:
        raise AppError("the account's status changed meanwhile", code=ErrorCode.CONFLICT)
    return StatusChange(account_id, before, after)


async def suspend(
    runtime: Runtime, account_id: uuid.UUID, reason: str, *, actor: str
) -> StatusChange:
    """Make an ACTIVE account read-only, recording why in its audit log."""
    reason = reason.strip()
    if not reason:
        raise AppError("a suspension needs a reason", code=ErrorCode.BAD_USER_INPUT)
    if len(reason) > MAX_REASON_CHARS:
        raise AppError(
            f"the reason is longer than {MAX_REASON_CHARS} characters",
            code=ErrorCode.BAD_USER_INPUT,
        )
    return await _change(
        runtime,
        account_id,
        before=ACTIVE,
        after=SUSPENDED,
        action="account.suspended",
        actor=actor,
        details={"reason": reason},
    )


async def unsuspend(
    runtime: Runtime, account_id: uuid.UUID, *, actor: str, reason: str = ""
) -> StatusChange:
    """Make a SUSPENDED account writable again."""
    details = {"reason": reason.strip()} if reason.strip() else {}
    return await _change(
        runtime,
        account_id,
        before=SUSPENDED,
        after=ACTIVE,
        action="account.unsuspended",
        actor=actor,
        details=details,
    )

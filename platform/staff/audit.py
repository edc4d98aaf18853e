"""Every break-glass step, written twice: to the tenant's own audit log (the customer
reads it in `auditLog`, chained and append-only) and to the staff audit log in the
platform schema (append-only by trigger, outliving the tenant). Both rows are written
before the step's answer leaves: a step that cannot be audited does not happen.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from audora.platform.db.tenant_binding import TenantRef, TenantUnitOfWork
from audora.platform.db.tenant_names import tenant_schema
from audora.platform.runtime import Runtime
from audora.platform.staff.tables import staff_audit_events
from audora.tenants.audit.log import AuditEntry, append, append_alone


def tenant_of(account_id: uuid.UUID) -> TenantRef:
    return TenantRef(tenant_schema(account_id))


async def staff_only(
    conn: AsyncConnection,
    at: datetime,
    action: str,
    *,
    staff_id: uuid.UUID | None,
    account_id: uuid.UUID | None = None,
    target: str | None = None,
    ip: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """A staff audit row within the caller's platform transaction (sign-in, enrollment:
    steps that concern no tenant)."""
    await conn.execute(
        staff_audit_events.insert().values(
            at=at,
            staff_id=staff_id,
            account_id=account_id,
            action=action,
            target=target,
            ip=ip,
            details=details or {},
        )
    )


async def both(
    runtime: Runtime,
    conn: AsyncConnection,
    at: datetime,
    action: str,
    *,
    account_id: uuid.UUID,
    actor: str,
    staff_id: uuid.UUID | None,
    target: str | None,
    ip: str | None = None,
    details: dict[str, Any] | None = None,
    uow: TenantUnitOfWork | None = None,
) -> None:
    """The step in the staff log (within `conn`'s transaction) and the tenant's log
    (within `uow` if given, else a transaction of its own, committed first: an audit
    entry for a step whose platform write then failed errs on the side of telling)."""
    details = details or {}
    await staff_only(
        conn,
        at,
        action,
        staff_id=staff_id,
        account_id=account_id,
        target=target,
        ip=ip,
        details=details,
    )
    entry = AuditEntry(actor=actor, action=action, target=target, ip=ip, details=details)
    if uow is not None:
        await append(uow, at, entry)
    else:
        await append_alone(runtime.tenant_engines, tenant_of(account_id), at, entry)

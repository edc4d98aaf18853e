"""Reading a tenant's audit log, newest first."""

from __future__ import annotations

from sqlalchemy import RowMapping, select

from audora.platform.db.tenant_binding import TenantUnitOfWork
from audora.tenants.audit.tables import audit_events


async def newest_events(
    uow: TenantUnitOfWork,
    *,
    limit: int,
    before_seq: int | None = None,
    action: str | None = None,
    action_prefix: str | None = None,
) -> list[RowMapping]:
    """Up to `limit` events older than `before_seq` (all, if None), newest first, whose
    action is `action` or starts with `action_prefix`."""
    query = select(audit_events).order_by(audit_events.c.seq.desc()).limit(limit)
    if before_seq is not None:
        query = query.where(audit_events.c.seq < before_seq)
    if action is not None:
        query = query.where(audit_events.c.action == action)
    if action_prefix is not None:
        # autoescape: "_" in an action is a character, not LIKE's wildcard.
        query = query.where(audit_events.c.action.startswith(action_prefix, autoescape=True))
    return list((await uow.execute(query)).mappings().all())

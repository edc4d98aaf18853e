"""Writing one access-log row: who asked, when, from where, for which operation, and how
it ended. Never what was asked: no variables, no query text, no answer."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import DBAPIError

from audora.platform.db.tenant_binding import (
    TenantRef,
    TenantUnitOfWork,
    moved_away,
    tenant_transaction,
)
from audora.platform.db.tenant_engines import TenantEngines
from audora.tenants.access_log.tables import (
    OPERATION_NAME_CHARS,
    OUTCOME_CHARS,
    USER_AGENT_CHARS,
    access_log,
)

OK = "ok"
# One statement object for every row: its compiled form is found by a memoised cache key
# instead of a statement being built and keyed on each request.
_INSERT = access_log.insert()


@dataclass(frozen=True)
class AccessEntry:
    at: datetime
    account_id: uuid.UUID
    user_id: uuid.UUID
    session_id: uuid.UUID
    ip: str | None
    user_agent: str | None
    operation_type: str | None
    operation_name: str | None
    outcome: str


def outcome_of(error_codes: Iterable[str]) -> str:
    """`ok` for an answer without errors, else its distinct error codes."""
    codes = sorted(set(error_codes))
    return " ".join(codes)[:OUTCOME_CHARS] if codes else OK


def _cut(value: str | None, chars: int) -> str | None:
    return value[:chars] if value is not None else None


async def write(engines: TenantEngines, tenant: TenantRef, entry: AccessEntry) -> None:
    """Insert `entry` in a short transaction of its own, bound to `tenant`; once more if
    the tenant moved to another cluster while the insert waited."""
    try:
        await _insert(engines, tenant, entry)
    except DBAPIError as exc:
        if not moved_away(exc):
            raise
        await _insert(engines, tenant, entry)


async def _insert(engines: TenantEngines, tenant: TenantRef, entry: AccessEntry) -> None:
    async with tenant_transaction(engines, tenant) as uow:
        await insert_in(uow, entry)
        await uow.commit()


async def insert_in(uow: TenantUnitOfWork, entry: AccessEntry) -> None:
    """Add `entry` to a transaction already bound to its tenant (a request's own: the
    row then commits, or fails, with what the request did)."""
    await uow.execute(
        _INSERT,
        {
            "at": entry.at,
            "account_id": entry.account_id,
            "user_id": entry.user_id,
            "session_id": entry.session_id,
            "ip": _cut(entry.ip, 64),
            "user_agent": _cut(entry.user_agent, USER_AGENT_CHARS),
            "operation_type": entry.operation_type,
            "operation_name": _cut(entry.operation_name, OPERATION_NAME_CHARS),
            "outcome": entry.outcome,
        },
    )

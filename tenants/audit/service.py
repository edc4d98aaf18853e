"""Reading the audit log and checking its chain, for callers holding audit:read.

Pages go newest first and are keyed by `seq`, the chain's own order: an event appended
while a reader pages never shifts the pages already read. The action filter is exact
(`login.failed`), or a prefix when it ends with a dot (`login.` matches `login.failed`
and `login.new_device`), so a family of events is one filter.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from audora.platform.auth.permissions import Permission, principal_allows
from audora.platform.auth.principal import Principal
from audora.platform.db.tenant_binding import TenantUnitOfWork
from audora.platform.errors import bad_input, forbidden
from audora.tenants.audit import repository
from audora.tenants.audit.log import ChainCheck, verify_chain

DEFAULT_PAGE = 50
MAX_PAGE = 200
# Dotted lower-case words, as every action is named; a trailing dot makes it a prefix.
_ACTION = re.compile(r"\A[a-z0-9_]+(\.[a-z0-9_]+)*\.?\Z")
_MAX_ACTION = 64


@dataclass(frozen=True)
class AuditEventRecord:
    seq: int
    id: uuid.UUID
    at: datetime
    actor: str
    action: str
    target: str | None
    ip: str | None
    details: dict[str, Any]
    hash: bytes


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEventRecord]
    has_more: bool


def _may_read(principal: Principal) -> None:
    # The schema checks the permission at the field; the service checks it again. The
    # log is the whole account's (targets and details name any profile), so a seat
    # scoped to some client profiles never reads it, whatever the matrix says.
    if not principal_allows(principal, Permission.AUDIT_READ):
        raise forbidden(f"your role does not have {Permission.AUDIT_READ.value}")
    if principal.client_profile_ids is not None:
        raise forbidden("the audit log is for seats that see every client profile")


def _action_filter(action: str | None) -> tuple[str | None, str | None]:
    """(exact action, action prefix): at most one of them set."""
    if action is None or action == "":
        return None, None
    if len(action) > _MAX_ACTION or not _ACTION.match(action):
        raise bad_input(
            "action is an event name such as login.failed, or a prefix ending in a dot",
            field="action",
        )
    return (None, action) if action.endswith(".") else (action, None)


async def list_events(
    uow: TenantUnitOfWork,
    principal: Principal,
    *,
    first: int = DEFAULT_PAGE,
    before_seq: int | None = None,
    action: str | None = None,
) -> AuditPage:
    """Up to `first` events older than `before_seq`, newest first."""
    _may_read(principal)
    if not 1 <= first <= MAX_PAGE:
        raise bad_input(f"first must be between 1 and {MAX_PAGE}", field="first")
    exact, prefix = _action_filter(action)
    rows = await repository.newest_events(
        uow, limit=first + 1, before_seq=before_seq, action=exact, action_prefix=prefix
    )
    events = [
        AuditEventRecord(
            seq=row["seq"],
            id=row["id"],
            at=row["at"],
            actor=row["actor"],
            action=row["action"],
            target=row["target"],
            ip=row["ip"],
            details=row["details"],
            hash=bytes(row["hash"]),
        )
        for row in rows[:first]
    ]
    return AuditPage(events, has_more=len(rows) > first)


async def check_chain(uow: TenantUnitOfWork, principal: Principal) -> ChainCheck:
    """Recompute the whole chain; the first event that does not match, if any."""
    _may_read(principal)
    return await verify_chain(uow)

"""Identity events written to the audit log of the tenant they concern.

Logins, failures, lockouts, MFA changes, revoked sessions, password changes and
invitations each land in the log of the account the user was signing in to (or acting
in), in a transaction of their own: a failed login's request keeps nothing else, but
its audit entry stays.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from audora.platform.db.tenant_binding import TenantRef
from audora.platform.db.tenant_names import tenant_schema
from audora.platform.runtime import Runtime
from audora.tenants.audit.log import AuditEntry, append_alone

log = logging.getLogger(__name__)


async def record(
    runtime: Runtime,
    account_id: uuid.UUID,
    action: str,
    *,
    user_id: uuid.UUID | None,
    ip: str | None,
    target: str | None = None,
    **details: Any,
) -> None:
    entry = AuditEntry(
        actor=f"user:{user_id}" if user_id else "system:identity",
        action=action,
        target=target or (f"user:{user_id}" if user_id else None),
        ip=ip,
        details=details,
    )
    try:
        await append_alone(
            runtime.tenant_engines, TenantRef(tenant_schema(account_id)), runtime.clock.now(), entry
        )
    except Exception:
        # The event is logged even if the audit write failed; the caller's answer stands.
        log.exception("could not audit %s for account %s", action, account_id)


async def session_revoked(
    runtime: Runtime,
    account_id: uuid.UUID,
    session_id: uuid.UUID,
    *,
    user_id: uuid.UUID,
    ip: str | None,
    reason: str,
    **details: Any,
) -> None:
    """The one shape of a `session.revoked` event, whoever ended the session."""
    await record(
        runtime,
        account_id,
        "session.revoked",
        user_id=user_id,
        ip=ip,
        target=f"session:{session_id}",
        reason=reason,
        **details,
    )


# Audit writes deferred past the answer (see `record_later`), kept referenced until done.
_pending: set[asyncio.Task[None]] = set()


def record_later(
    runtime: Runtime,
    account_id: uuid.UUID,
    action: str,
    *,
    user_id: uuid.UUID | None,
    ip: str | None,
    target: str | None = None,
    **details: Any,
) -> None:
    """`record`, after the current request has answered: for events whose write would
    otherwise make some answers measurably slower than others (a failed login of a
    known email against an unknown one)."""
    task = asyncio.get_running_loop().create_task(
        record(runtime, account_id, action, user_id=user_id, ip=ip, target=target, **details)
    )
    _pending.add(task)
    task.add_done_callback(_pending.discard)


async def settled() -> None:
    """Wait for deferred audit writes (shutdown, and tests that read the log)."""
    while _pending:
        await asyncio.gather(*list(_pending))

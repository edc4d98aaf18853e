"""Marking a call FAILED, for any of its jobs: the reason kept on the call (never
customer content), and the alert raised: an error in the worker's log and an entry in
the tenant's audit log, and the `audora_calls_failed_last_hour` gauge the shipped alert
rules watch (I4)."""

from __future__ import annotations

import logging
import uuid

from audora.platform.db.tenant_binding import TenantRef, tenant_transaction
from audora.platform.db.tenant_names import tenant_schema
from audora.platform.metrics.gauges import CALLS_FAILED, note_event
from audora.platform.runtime import Runtime
from audora.tenants.audit.log import AuditEntry, append
from audora.tenants.calls import repository as calls
from audora.tenants.calls.events import announce_status_change
from audora.tenants.calls.service import CallStatus

log = logging.getLogger(__name__)


async def fail_call(
    runtime: Runtime,
    tenant_id: uuid.UUID,
    call: uuid.UUID,
    reason: str,
    *,
    stage: CallStatus,
    actor: str,
    integrity_object: str | None = None,
) -> bool:
    """Mark the call FAILED with `reason` if it is still at `stage` (checked under its
    row lock: another delivery may have moved it on); with `integrity_object`, also
    audit the integrity failure of that object. True if it marked the call."""
    log.error("call %s FAILED: %s", call, reason)
    now = runtime.clock.now()
    async with tenant_transaction(
        runtime.tenant_engines, TenantRef(tenant_schema(tenant_id))
    ) as uow:
        row = await calls.get(uow, call, None, for_update=True)
        if row is None or row["status"] != stage:
            return False
        await calls.set_status(uow, call, CallStatus.FAILED, reason)
        entries = [
            AuditEntry(actor, "call.failed", f"call:{call}", details={"reason": reason}),
        ]
        if integrity_object is not None:
            entries.append(
                AuditEntry(
                    actor,
                    "security.integrity_failure",
                    f"call:{call}",
                    details={"object": integrity_object},
                )
            )
        for entry in entries:
            await append(uow, now, entry)
        await uow.commit()
    await note_event(runtime.redis, CALLS_FAILED, now)
    await announce_status_change(runtime, tenant_id, call)
    return True

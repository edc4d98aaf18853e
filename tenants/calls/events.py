"""A call's status changes, announced on Redis pub/sub for the `callStatus`
subscription.

A message says only that the call changed (no status, no content): a listener reads
the status again from the database, through the tenant binding and its seat's scope.
So nothing customer-related passes through Redis, and a lost or forged message can at
worst cause a needless read. Publishing happens after the change committed; a failure
is logged and never fails the change (listeners also re-read on a timer).
"""

from __future__ import annotations

import logging
import uuid

from audora.platform.runtime import Runtime

log = logging.getLogger(__name__)

# One channel per tenant and call: a listener hears only the call it asked about.
CHANNEL_PREFIX = "audora:call-status:"


def status_channel(tenant_id: uuid.UUID, call_id: uuid.UUID) -> str:
    return f"{CHANNEL_PREFIX}{tenant_id.hex}:{call_id.hex}"


async def announce_status_change(
    runtime: Runtime, tenant_id: uuid.UUID, call_id: uuid.UUID
) -> None:
    """Tell the call's listeners to look again; never raises."""
    try:
        await runtime.redis.publish(status_channel(tenant_id, call_id), "changed")
    except Exception:
        log.exception("could not announce the status change of call %s", call_id)

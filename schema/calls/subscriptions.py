"""`callStatus(callId)`: a call's status as it changes, over graphql-transport-ws.

The first message is the status now; then one per change until the call is READY or
FAILED, when the stream completes. Changes are announced on Redis pub/sub
(`tenants/calls/events.py`, messages without content); each one, and a timer besides
(a missed announcement costs at most `RECHECK_SECONDS`), makes the resolver read the
status again in a short transaction of its own: a subscription never holds a
transaction open while it waits. Before each read the session is checked again and
the seat rebuilt (expiry, revocation, a role or scope changed meanwhile all apply to
the next message, as on `/graphql`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from audora.platform import ids
from audora.platform.auth.permissions import Permission, allows
from audora.platform.auth.principal import Principal
from audora.platform.db.tenant_binding import tenant_transaction
from audora.platform.errors import forbidden
from audora.schema.calls.types import Progress
from audora.schema.context import RequestContext
from audora.schema.permissions import Requires
from audora.tenants.calls import repository as calls_repository
from audora.tenants.calls import service
from audora.tenants.calls.events import status_channel
from audora.tenants.calls.progress import progress_of
from audora.tenants.calls.service import CallStatus

RECHECK_SECONDS = 30.0
_DONE = (CallStatus.READY, CallStatus.FAILED)


@strawberry.type(description="A call's status at one moment of its processing.")
class CallStatusUpdate:
    call_id: strawberry.ID
    status: CallStatus
    failure_reason: str | None
    progress: Progress


async def _seat(context: RequestContext) -> Principal:
    """The caller as it is now: a fresh context authenticates the token again."""
    fresh = RequestContext(runtime=context.runtime, client=context.client, token=context.token)
    principal = await fresh.principal()
    if not allows(principal.role, Permission.CALLS_READ):
        raise forbidden(f"your role does not have {Permission.CALLS_READ.value}")
    return principal


async def _now(context: RequestContext, call_id: uuid.UUID) -> CallStatusUpdate:
    principal = await _seat(context)
    async with tenant_transaction(context.runtime.tenant_engines, principal.tenant) as uow:
        record = await service.get_call(uow, principal, call_id)  # NOT_FOUND outside scope
        transcribed = await calls_repository.has_transcript(uow, call_id)
    stage, percent = progress_of(record.status, transcribed=transcribed)
    return CallStatusUpdate(
        call_id=strawberry.ID(ids.encode(ids.Kind.CALL, call_id)),
        status=record.status,
        failure_reason=record.failure_reason,
        progress=Progress(stage=stage, percent=percent),
    )


@strawberry.type
class CallsSubscription:
    @strawberry.subscription(
        directives=[Requires(permission=Permission.CALLS_READ)],
        description="The call's status now, then at each change until READY or FAILED.",
    )
    async def call_status(
        self, info: Info[RequestContext, None], call_id: strawberry.ID
    ) -> AsyncGenerator[CallStatusUpdate, None]:
        context = info.context
        call = ids.decode(ids.Kind.CALL, call_id, field="callId")
        principal = await _seat(context)
        pubsub = context.runtime.redis.pubsub()
        # Listening before the first read: a change between the two is not missed.
        await pubsub.subscribe(status_channel(principal.account_id, call))
        try:
            last: CallStatusUpdate | None = None
            while True:
                update = await _now(context, call)
                if update != last:
                    yield update
                    last = update
                if update.status in _DONE:
                    return
                await pubsub.get_message(ignore_subscribe_messages=True, timeout=RECHECK_SECONDS)
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated

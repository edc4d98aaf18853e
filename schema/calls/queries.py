from __future__ import annotations

import strawberry
from strawberry.types import Info

from audora.platform import ids
from audora.platform.auth.permissions import Permission
from audora.schema.calls.types import Call
from audora.schema.context import RequestContext
from audora.schema.permissions import requires
from audora.tenants.calls import service


@strawberry.type
class CallsQuery:
    @strawberry.field(**requires(Permission.CALLS_READ))
    async def call(self, info: Info[RequestContext, None], id: strawberry.ID) -> Call:
        record = await service.get_call(
            await info.context.tenant_uow(),
            await info.context.principal(),
            ids.decode(ids.Kind.CALL, id),
        )
        return Call.from_record(record)

    @strawberry.field(**requires(Permission.CALLS_READ))
    async def calls(
        self, info: Info[RequestContext, None], client_profile_id: strawberry.ID
    ) -> list[Call]:
        records = await service.list_calls(
            await info.context.tenant_uow(),
            await info.context.principal(),
            ids.decode(ids.Kind.CLIENT_PROFILE, client_profile_id, field="clientProfileId"),
        )
        return [Call.from_record(r) for r in records]

from __future__ import annotations

import strawberry
from strawberry.types import Info

from audora.platform import ids
from audora.platform.auth.permissions import Permission
from audora.schema.clients.types import ClientProfile
from audora.schema.context import RequestContext
from audora.schema.permissions import requires
from audora.tenants.clients import service


@strawberry.type
class ClientsQuery:
    @strawberry.field(**requires(Permission.CLIENTS_READ))
    async def client_profiles(self, info: Info[RequestContext, None]) -> list[ClientProfile]:
        rows = await service.list_profiles(
            await info.context.tenant_uow(),
            info.context.runtime.keys,
            await info.context.principal(),
        )
        return [ClientProfile.from_record(row) for row in rows]

    @strawberry.field(**requires(Permission.CLIENTS_READ))
    async def client_profile(
        self, info: Info[RequestContext, None], id: strawberry.ID
    ) -> ClientProfile:
        profile_id = ids.decode(ids.Kind.CLIENT_PROFILE, id)
        row = await service.get_profile(
            await info.context.tenant_uow(),
            info.context.runtime.keys,
            await info.context.principal(),
            profile_id,
        )
        return ClientProfile.from_record(row)

from __future__ import annotations

import strawberry
from strawberry.types import Info

from audora.platform import ids
from audora.platform.auth.permissions import Permission
from audora.schema.clients.inputs import CreateClientProfileInput, UpdateClientProfileInput
from audora.schema.clients.types import ClientProfile
from audora.schema.context import RequestContext
from audora.schema.permissions import requires
from audora.tenants.clients import service
from audora.tenants.clients.service import ClientProfileChanges

_WRITE = requires(Permission.CLIENTS_WRITE)


def _changes(input: CreateClientProfileInput | UpdateClientProfileInput) -> ClientProfileChanges:
    return ClientProfileChanges(
        name=input.name,
        contact_email=input.contact_email,
        notes=input.notes,
        budget=input.budget,
    )


@strawberry.type
class ClientsMutation:
    @strawberry.mutation(**_WRITE)
    async def create_client_profile(
        self, info: Info[RequestContext, None], input: CreateClientProfileInput
    ) -> ClientProfile:
        row = await service.create_profile(
            await info.context.tenant_uow(),
            info.context.runtime.keys,
            await info.context.principal(),
            _changes(input),
        )
        return ClientProfile.from_record(row)

    @strawberry.mutation(**_WRITE)
    async def update_client_profile(
        self, info: Info[RequestContext, None], input: UpdateClientProfileInput
    ) -> ClientProfile:
        profile_id = ids.decode(ids.Kind.CLIENT_PROFILE, input.id)
        row = await service.update_profile(
            await info.context.tenant_uow(),
            info.context.runtime.keys,
            await info.context.principal(),
            profile_id,
            _changes(input),
        )
        return ClientProfile.from_record(row)

from __future__ import annotations

import strawberry
from strawberry.types import Info

from audora.platform import ids
from audora.platform.auth.permissions import Permission
from audora.schema.context import RequestContext
from audora.schema.integrations.types import Integration, Push
from audora.schema.permissions import requires
from audora.tenants.integrations import service


@strawberry.type
class IntegrationsQuery:
    @strawberry.field(
        **requires(Permission.DOCUMENTS_READ),
        description="The account's integrations, oldest first; credentials masked.",
    )
    async def integrations(self, info: Info[RequestContext, None]) -> list[Integration]:
        records = await service.list_integrations(
            await info.context.tenant_uow(),
            info.context.runtime.keys,
            await info.context.principal(),
        )
        return [Integration.from_record(r) for r in records]

    @strawberry.field(**requires(Permission.DOCUMENTS_READ))
    async def push(self, info: Info[RequestContext, None], id: strawberry.ID) -> Push:
        record = await service.get_push(
            await info.context.tenant_uow(),
            await info.context.principal(),
            ids.decode(ids.Kind.PUSH, id),
        )
        return Push.from_record(record)

    @strawberry.field(
        **requires(Permission.DOCUMENTS_READ),
        description="A document's pushes, newest first.",
    )
    async def pushes(
        self, info: Info[RequestContext, None], document_id: strawberry.ID
    ) -> list[Push]:
        records = await service.list_pushes(
            await info.context.tenant_uow(),
            await info.context.principal(),
            ids.decode(ids.Kind.DOCUMENT, document_id, field="documentId"),
        )
        return [Push.from_record(r) for r in records]

from __future__ import annotations

import strawberry
from strawberry.types import Info

from audora.platform import ids
from audora.platform.auth.permissions import Permission
from audora.schema.context import RequestContext
from audora.schema.documents.types import Document
from audora.schema.permissions import requires
from audora.tenants.documents import service

_READ = requires(Permission.DOCUMENTS_READ)


@strawberry.type
class DocumentsQuery:
    @strawberry.field(**_READ)
    async def document(self, info: Info[RequestContext, None], id: strawberry.ID) -> Document:
        record = await service.get_document(
            await info.context.tenant_uow(),
            info.context.runtime.keys,
            await info.context.principal(),
            ids.decode(ids.Kind.DOCUMENT, id),
        )
        return Document.from_record(record)

    @strawberry.field(**_READ, description="A document as it was at `version`.")
    async def document_version(
        self, info: Info[RequestContext, None], id: strawberry.ID, version: int
    ) -> Document:
        record = await service.get_version(
            await info.context.tenant_uow(),
            info.context.runtime.keys,
            await info.context.principal(),
            ids.decode(ids.Kind.DOCUMENT, id),
            version,
        )
        return Document.from_record(record)

from __future__ import annotations

import strawberry
from strawberry.types import Info

from audora.platform import ids
from audora.platform.auth.permissions import Permission
from audora.schema.context import RequestContext
from audora.schema.lifecycle.types import DataExport
from audora.schema.permissions import requires
from audora.tenants.lifecycle import export


@strawberry.type
class LifecycleQuery:
    @strawberry.field(
        **requires(Permission.ACCOUNT_EXPORT),
        description="One of the account's exports; a READY one carries a fresh download "
        "link. Another account's export id is NOT_FOUND.",
    )
    async def data_export(self, info: Info[RequestContext, None], id: strawberry.ID) -> DataExport:
        record = await export.get_export(
            info.context.runtime,
            await info.context.tenant_uow(),
            await info.context.principal(),
            ids.decode(ids.Kind.DATA_EXPORT, id),
            base_url=info.context.base_url,
        )
        return DataExport.from_record(record)

    @strawberry.field(
        **requires(Permission.ACCOUNT_EXPORT),
        description="The account's exports, newest first (links only through dataExport).",
    )
    async def data_exports(self, info: Info[RequestContext, None]) -> list[DataExport]:
        records = await export.list_exports(
            await info.context.tenant_uow(), await info.context.principal()
        )
        return [DataExport.from_record(r) for r in records]

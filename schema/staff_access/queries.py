from __future__ import annotations

import strawberry
from strawberry.types import Info

from audora.platform.auth.permissions import Permission
from audora.schema.context import RequestContext
from audora.schema.permissions import requires
from audora.schema.staff_access.types import AccessRequest, AccessRequestStatus
from audora.tenants.staff_access import access


@strawberry.type
class StaffAccessQuery:
    @strawberry.field(
        description="Staff requests to read this account's data, newest first. Owners and admins.",
        **requires(Permission.ACCESS_APPROVE),
    )
    async def access_requests(
        self, info: Info[RequestContext, None], status: AccessRequestStatus | None = None
    ) -> list[AccessRequest]:
        principal = await info.context.principal()
        records = await access.requests_of_account(
            info.context.runtime, principal, status.value if status else None
        )
        return [AccessRequest.from_record(r) for r in records]

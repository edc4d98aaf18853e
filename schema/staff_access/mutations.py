from __future__ import annotations

import strawberry
from strawberry.types import Info

from audora.platform import ids
from audora.platform.auth.permissions import Permission
from audora.schema.context import RequestContext
from audora.schema.permissions import requires
from audora.schema.staff_access.types import AccessRequest
from audora.tenants.staff_access import access


async def _decide(
    info: Info[RequestContext, None], id: strawberry.ID, note: str | None, *, approve: bool
) -> AccessRequest:
    principal = await info.context.principal()
    record = await access.decide(
        info.context.runtime,
        principal,
        ids.decode(ids.Kind.ACCESS_REQUEST, id),
        approve=approve,
        note=note,
        ip=info.context.client.ip,
    )
    return AccessRequest.from_record(record)


@strawberry.type
class StaffAccessMutation:
    @strawberry.mutation(
        description="Owners and admins: let the staff member activate the request, for "
        "its scope and duration. The approval is signed with this account's key.",
        **requires(Permission.ACCESS_APPROVE),
    )
    async def approve_access_request(
        self, info: Info[RequestContext, None], id: strawberry.ID, note: str | None = None
    ) -> AccessRequest:
        return await _decide(info, id, note, approve=True)

    @strawberry.mutation(
        description="Owners and admins: refuse the request.",
        **requires(Permission.ACCESS_APPROVE),
    )
    async def deny_access_request(
        self, info: Info[RequestContext, None], id: strawberry.ID, note: str | None = None
    ) -> AccessRequest:
        return await _decide(info, id, note, approve=False)

    @strawberry.mutation(
        description="Owners and admins: end a staff grant now (the grant's id, from "
        "AccessRequest.grant).",
        **requires(Permission.ACCESS_APPROVE),
    )
    async def revoke_access_grant(
        self, info: Info[RequestContext, None], id: strawberry.ID
    ) -> AccessRequest:
        principal = await info.context.principal()
        record = await access.revoke_grant(
            info.context.runtime,
            principal,
            ids.decode(ids.Kind.ACCESS_GRANT, id),
            info.context.client.ip,
        )
        return AccessRequest.from_record(record)

from __future__ import annotations

import strawberry
from strawberry.types import Info

from audora.platform.auth.permissions import Permission
from audora.schema.context import RequestContext
from audora.schema.members.types import Member
from audora.schema.permissions import requires
from audora.tenants.identity import members


@strawberry.type
class MembersQuery:
    @strawberry.field(
        **requires(Permission.MEMBERS_READ),
        description="The account's members, oldest seat first.",
    )
    async def members(self, info: Info[RequestContext, None]) -> list[Member]:
        records = await members.list_members(info.context.runtime, await info.context.principal())
        return [Member.from_record(r) for r in records]

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry.types import Info

from audora.platform import ids
from audora.platform.auth.permissions import Permission
from audora.schema.context import RequestContext
from audora.schema.identity.types import User
from audora.schema.permissions import Requires, RequiresPermission
from audora.tenants.clients.service import ClientProfileRecord


@strawberry.type
class ClientProfile:
    id: strawberry.ID
    name: str
    contact_email: str | None
    notes: str | None
    budget: str | None = strawberry.field(
        directives=[Requires(permission=Permission.FINANCIALS_READ)],
        extensions=[RequiresPermission(Permission.FINANCIALS_READ)],
    )
    created_at: datetime
    updated_at: datetime
    _created_by: strawberry.Private[uuid.UUID]

    @strawberry.field(description="The member who created the profile; null once removed.")
    async def created_by(self, info: Info[RequestContext, None]) -> User | None:
        principal = await info.context.principal()
        row = await info.context.members_loader(principal).load(self._created_by)
        return User.from_row(row) if row is not None else None

    @classmethod
    def from_record(cls, record: ClientProfileRecord) -> ClientProfile:
        return cls(
            id=strawberry.ID(ids.encode(ids.Kind.CLIENT_PROFILE, record.id)),
            name=record.name,
            contact_email=record.contact_email,
            notes=record.notes,
            budget=record.budget,
            created_at=record.created_at,
            updated_at=record.updated_at,
            _created_by=record.created_by,
        )

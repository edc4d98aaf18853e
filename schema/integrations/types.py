from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry.types import Info

from audora.platform import ids
from audora.platform.auth.permissions import Permission
from audora.schema.context import RequestContext
from audora.schema.identity.types import User
from audora.schema.permissions import Requires, RequiresPermission, requires_on_attribute
from audora.tenants.integrations import service
from audora.tenants.integrations.models import (
    Integration as IntegrationRecord,
)
from audora.tenants.integrations.models import (
    IntegrationKind,
    PushRecord,
    PushStatus,
)

strawberry.enum(IntegrationKind)
strawberry.enum(PushStatus)


@strawberry.type(
    description="A destination task lists can be pushed to. Its credential is never shown."
)
class Integration:
    id: strawberry.ID
    kind: IntegrationKind
    name: str
    url: str | None = strawberry.field(
        description="Where it sends (a webhook's URL may carry a token of the receiver's).",
        directives=[Requires(permission=Permission.INTEGRATIONS_MANAGE)],
        extensions=[RequiresPermission(Permission.INTEGRATIONS_MANAGE)],
    )
    team_id: str | None
    database_id: str | None
    credential_hint: str = strawberry.field(description="The credential, masked.")
    created_at: datetime

    @classmethod
    def from_record(cls, record: IntegrationRecord) -> Integration:
        return cls(
            id=strawberry.ID(ids.encode(ids.Kind.INTEGRATION, record.id)),
            kind=record.kind,
            name=record.name,
            url=record.config.url,
            team_id=record.config.team_id,
            database_id=record.config.database_id,
            credential_hint=record.credential_hint,
            created_at=record.created_at,
        )


@strawberry.type
class ConnectedIntegration:
    integration: Integration
    signing_secret: str | None = strawberry.field(
        description="A webhook's signing secret (Standard Webhooks, `whsec_...`): shown "
        "this once, never again. Null for other kinds."
    )


@strawberry.type(description="What a push sends: its items' titles, in order.")
class PushPreview:
    item_count: int
    titles: list[str]


@strawberry.type(description="A task list pushed to an integration, once a person confirms it.")
class Push:
    id: strawberry.ID
    integration_id: strawberry.ID
    document_id: strawberry.ID
    document_version: int
    status: PushStatus
    item_count: int
    attempts: int
    last_error: str | None
    prepared_at: datetime
    confirmed_at: datetime | None
    finished_at: datetime | None
    _record: strawberry.Private[PushRecord]

    @strawberry.field(description="Who confirmed the push; null before, or once removed.")
    async def confirmed_by(self, info: Info[RequestContext, None]) -> User | None:
        return await _member(info, self._record.confirmed_by)

    @strawberry.field(description="Who prepared the push; null once removed.")
    async def prepared_by(self, info: Info[RequestContext, None]) -> User | None:
        return await _member(info, self._record.prepared_by)

    @strawberry.field(
        **requires_on_attribute(Permission.DOCUMENTS_READ),
        description="What the push sends; null once the task list has changed since.",
    )
    async def preview(self, info: Info[RequestContext, None]) -> PushPreview | None:
        items = await service.preview(
            await info.context.tenant_uow(),
            info.context.runtime.keys,
            await info.context.principal(),
            self._record,
        )
        if items is None:
            return None
        return PushPreview(item_count=len(items), titles=[i.title for i in items])

    @classmethod
    def from_record(cls, record: PushRecord) -> Push:
        return cls(
            id=strawberry.ID(ids.encode(ids.Kind.PUSH, record.id)),
            integration_id=strawberry.ID(ids.encode(ids.Kind.INTEGRATION, record.integration_id)),
            document_id=strawberry.ID(ids.encode(ids.Kind.DOCUMENT, record.document_id)),
            document_version=record.document_version,
            status=record.status,
            item_count=record.item_count,
            attempts=record.attempts,
            last_error=record.last_error,
            prepared_at=record.prepared_at,
            confirmed_at=record.confirmed_at,
            finished_at=record.finished_at,
            _record=record,
        )


async def _member(info: Info[RequestContext, None], user_id: uuid.UUID | None) -> User | None:
    if user_id is None:
        return None
    principal = await info.context.principal()
    row = await info.context.members_loader(principal).load(user_id)
    return User.from_row(row) if row is not None else None

from __future__ import annotations

import strawberry
from strawberry.types import Info

from audora.platform import ids
from audora.platform.auth.permissions import Permission
from audora.platform.http.destinations import DestinationPolicy
from audora.schema.context import RequestContext
from audora.schema.integrations.inputs import ConnectIntegrationInput, PreparePushInput
from audora.schema.integrations.types import ConnectedIntegration, Integration, Push
from audora.schema.permissions import requires
from audora.tenants.integrations import service
from audora.tenants.integrations.jobs import queue_push
from audora.tenants.integrations.sweep import expect_push

_MANAGE = requires(Permission.INTEGRATIONS_MANAGE)
_PUSH = requires(Permission.DOCUMENTS_WRITE)


@strawberry.type
class IntegrationsMutation:
    @strawberry.mutation(
        **_MANAGE,
        description="Connect Linear, Notion or a signed webhook. A webhook's signing "
        "secret is in the answer, and only there.",
    )
    async def connect_integration(
        self, info: Info[RequestContext, None], input: ConnectIntegrationInput
    ) -> ConnectedIntegration:
        runtime = info.context.runtime
        connected = await service.connect_integration(
            await info.context.tenant_uow(),
            runtime.keys,
            await info.context.principal(),
            runtime.clock.now(),
            service.ConnectRequest(
                kind=input.kind,
                name=input.name,
                url=input.url,
                api_key=input.api_key,
                team_id=input.team_id,
                database_id=input.database_id,
            ),
            DestinationPolicy.from_settings(runtime.settings),
        )
        return ConnectedIntegration(
            integration=Integration.from_record(connected.integration),
            signing_secret=connected.signing_secret,
        )

    @strawberry.mutation(**_MANAGE)
    async def remove_integration(self, info: Info[RequestContext, None], id: strawberry.ID) -> bool:
        await service.remove_integration(
            await info.context.tenant_uow(),
            await info.context.principal(),
            info.context.runtime.clock.now(),
            ids.decode(ids.Kind.INTEGRATION, id),
        )
        return True

    @strawberry.mutation(
        **_PUSH,
        description="A push of a task list, with a preview of what it sends; nothing is "
        "sent until a person confirms it (confirmPush).",
    )
    async def prepare_push(self, info: Info[RequestContext, None], input: PreparePushInput) -> Push:
        record, _ = await service.prepare_push(
            await info.context.tenant_uow(),
            info.context.runtime.keys,
            await info.context.principal(),
            info.context.runtime.clock.now(),
            ids.decode(ids.Kind.DOCUMENT, input.document_id, field="documentId"),
            ids.decode(ids.Kind.INTEGRATION, input.integration_id, field="integrationId"),
        )
        return Push.from_record(record)

    @strawberry.mutation(
        **_PUSH,
        description="Confirm a prepared push: it is sent by a job, after this answer.",
    )
    async def confirm_push(self, info: Info[RequestContext, None], id: strawberry.ID) -> Push:
        runtime = info.context.runtime
        principal = await info.context.principal()
        # Before the request's transaction commits the confirmation.
        await expect_push(runtime, principal.account_id)
        record = await service.confirm_push(
            await info.context.tenant_uow(),
            principal,
            runtime.clock.now(),
            ids.decode(ids.Kind.PUSH, id),
        )

        async def queue() -> None:
            await queue_push(runtime, principal.account_id, record.id)

        info.context.after_commit(queue)
        return Push.from_record(record)

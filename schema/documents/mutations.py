from __future__ import annotations

import strawberry
from strawberry.types import Info

from audora.platform import ids
from audora.platform.auth.permissions import Permission
from audora.schema.calls.types import Call
from audora.schema.context import RequestContext
from audora.schema.documents.inputs import UpdateDocumentInput
from audora.schema.documents.types import Document
from audora.schema.permissions import requires
from audora.tenants.calls.content import DocumentKind
from audora.tenants.calls.events import announce_status_change
from audora.tenants.documents import service
from audora.tenants.documents.queueing import queue_generation
from audora.tenants.transcription.sweep import expect_generation

_WRITE = requires(Permission.DOCUMENTS_WRITE)


@strawberry.type
class DocumentsMutation:
    @strawberry.mutation(
        **_WRITE,
        description="Replace a document's Markdown with an edit: its next version; the "
        "one before stays in `versions`.",
    )
    async def update_document(
        self, info: Info[RequestContext, None], input: UpdateDocumentInput
    ) -> Document:
        context = info.context
        record = await service.update_document(
            await context.tenant_uow(),
            context.runtime.keys,
            await context.principal(),
            context.runtime.clock.now(),
            ids.decode(ids.Kind.DOCUMENT, input.id),
            input.markdown,
            expected_version=input.expected_version,
            ip=context.client.ip,
        )
        return Document.from_record(record)

    @strawberry.mutation(
        **_WRITE,
        description="Write the call's documents again (`kinds`, or all four), from its "
        "transcript: the call goes back to GENERATING, then READY; each document "
        "written is a new version, edits stay in its history.",
    )
    async def regenerate_documents(
        self,
        info: Info[RequestContext, None],
        call_id: strawberry.ID,
        kinds: list[DocumentKind] | None = None,
    ) -> Call:
        context = info.context
        principal = await context.principal()
        # Before the request's transaction commits the call to GENERATING.
        await expect_generation(context.runtime, principal.account_id)
        call, round_id = await service.regenerate_documents(
            await context.tenant_uow(),
            principal,
            context.runtime.clock.now(),
            ids.decode(ids.Kind.CALL, call_id, field="callId"),
            kinds,
            ip=context.client.ip,
        )

        async def queue() -> None:
            await announce_status_change(context.runtime, principal.account_id, call.id)
            await queue_generation(context.runtime, principal.account_id, call.id, round_id)

        context.after_commit(queue)
        return Call.from_record(call)

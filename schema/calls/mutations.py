from __future__ import annotations

import strawberry
from strawberry.types import Info

from audora.platform import ids
from audora.platform.auth.permissions import Permission
from audora.platform.errors import AppError, ErrorCode
from audora.schema.calls.inputs import CreateCallInput, DispatchMeetingBotInput
from audora.schema.calls.types import Call, RecordingUpload
from audora.schema.context import RequestContext
from audora.schema.permissions import requires
from audora.schema.scalars import ByteCount
from audora.tenants.calls import service
from audora.tenants.calls.service import CallStatus, Consent
from audora.tenants.meeting_bots.provider import BotProvider
from audora.tenants.meeting_bots.service import dispatch_bot
from audora.tenants.recordings import tickets
from audora.tenants.recordings.ingest import ticket_lifetime

_WRITE = requires(Permission.CALLS_WRITE)


@strawberry.type
class CallsMutation:
    @strawberry.mutation(**_WRITE)
    async def create_call(self, info: Info[RequestContext, None], input: CreateCallInput) -> Call:
        record = await service.create_call(
            await info.context.tenant_uow(),
            await info.context.principal(),
            ids.decode(ids.Kind.CLIENT_PROFILE, input.client_profile_id, field="clientProfileId"),
            input.title,
            Consent(
                participants_notified=input.consent.participants_notified,
                methods=tuple(input.consent.methods),
                jurisdiction=input.consent.jurisdiction,
            ),
        )
        return Call.from_record(record)

    @strawberry.mutation(
        **_WRITE,
        description="A one-time URL to PUT the call's audio to; it expires in minutes.",
    )
    async def create_recording_upload(
        self, info: Info[RequestContext, None], call_id: strawberry.ID
    ) -> RecordingUpload:
        runtime = info.context.runtime
        principal = await info.context.principal()
        call = await service.get_call(
            await info.context.tenant_uow(),
            principal,
            ids.decode(ids.Kind.CALL, call_id, field="callId"),
        )
        if call.status is not CallStatus.AWAITING_RECORDING:
            raise AppError("this call already has a recording", code=ErrorCode.CONFLICT)
        issued = await tickets.issue(
            runtime.platform_engine,
            account_id=principal.account_id,
            call_id=call.id,
            user_id=principal.user_id,
            now=runtime.clock.now(),
            lifetime=ticket_lifetime(runtime),
            max_bytes=runtime.settings.upload_max_bytes,
        )
        return RecordingUpload(
            upload_url=f"{info.context.base_url.rstrip('/')}/uploads/{issued.token}",
            expires_at=issued.expires_at,
            max_bytes=ByteCount(issued.max_bytes),
        )

    @strawberry.mutation(
        **_WRITE,
        description="Send the meeting-bot provider's bot to record the call's meeting (an "
        "https Zoom, Meet, Teams, Webex or GoTo link); its recording arrives by webhook.",
    )
    async def dispatch_meeting_bot(
        self, info: Info[RequestContext, None], input: DispatchMeetingBotInput
    ) -> Call:
        runtime = info.context.runtime
        principal = await info.context.principal()
        call_id = ids.decode(ids.Kind.CALL, input.call_id, field="callId")
        await dispatch_bot(
            runtime,
            principal,
            call_id,
            input.meeting_url,
            BotProvider.from_settings(runtime.settings),
        )
        record = await service.get_call(await info.context.tenant_uow(), principal, call_id)
        return Call.from_record(record)

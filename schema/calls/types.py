from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from audora.platform import ids
from audora.platform.auth.permissions import Permission
from audora.schema.context import RequestContext
from audora.schema.documents.types import Document
from audora.schema.permissions import requires_on_attribute
from audora.schema.scalars import ByteCount
from audora.tenants.calls import content
from audora.tenants.calls import repository as calls_repository
from audora.tenants.calls.content import DocumentKind
from audora.tenants.calls.progress import progress_of
from audora.tenants.calls.service import CallRecord, CallStatus, ConsentMethod
from audora.tenants.documents import service as documents
from audora.tenants.meeting_bots import repository as bots_repository
from audora.tenants.meeting_bots.service import BotRecord, BotStatus

# The domain's enums are the schema's: one definition, registered with strawberry here.
strawberry.enum(CallStatus)
strawberry.enum(ConsentMethod)
strawberry.enum(DocumentKind)
strawberry.enum(BotStatus, name="MeetingBotStatus")


@strawberry.enum
class RecordingStatus(Enum):
    STORED = "STORED"
    DELETED = "DELETED"


@strawberry.type
class Consent:
    participants_notified: bool
    methods: list[ConsentMethod]
    jurisdiction: str | None


@strawberry.type
class Recording:
    status: RecordingStatus
    size_bytes: ByteCount
    stored_at: datetime
    delete_after: datetime | None
    deleted_at: datetime | None


@strawberry.type(description="The meeting-bot provider's bot sent to the call's meeting.")
class MeetingBot:
    status: BotStatus
    dispatched_at: datetime
    recording_ready_at: datetime | None
    provider_deleted_at: datetime | None = strawberry.field(
        description="When the provider's copy of the media was verified deleted."
    )
    failure_reason: str | None

    @classmethod
    def from_record(cls, record: BotRecord) -> MeetingBot:
        return cls(
            status=record.status,
            dispatched_at=record.dispatched_at,
            recording_ready_at=record.recording_ready_at,
            provider_deleted_at=record.provider_deleted_at,
            failure_reason=record.failure_reason,
        )


@strawberry.type
class TranscriptSegment:
    start_seconds: float
    end_seconds: float
    speaker: str | None
    text: str


@strawberry.type
class Transcript:
    text: str
    segments: list[TranscriptSegment]


@strawberry.type(description="How far the call's processing got, for a progress bar.")
class Progress:
    stage: CallStatus
    percent: int = strawberry.field(
        description="0 to 100; a FAILED call keeps the figure of the stage it failed at."
    )


@strawberry.type
class Call:
    id: strawberry.ID
    client_profile_id: strawberry.ID
    title: str
    status: CallStatus
    failure_reason: str | None
    consent: Consent
    created_at: datetime
    _id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def recording(self, info: Info[RequestContext, None]) -> Recording | None:
        row = await calls_repository.recording_of(await info.context.tenant_uow(), self._id)
        if row is None:
            return None
        return Recording(
            status=RecordingStatus(row["status"]),
            size_bytes=ByteCount(row["size_bytes"]),
            stored_at=row["stored_at"],
            delete_after=row["delete_after"],
            deleted_at=row["deleted_at"],
        )

    @strawberry.field
    async def bot(self, info: Info[RequestContext, None]) -> MeetingBot | None:
        row = await bots_repository.of_call(await info.context.tenant_uow(), self._id)
        return None if row is None else MeetingBot.from_record(BotRecord.from_row(row))

    @strawberry.field(**requires_on_attribute(Permission.TRANSCRIPTS_READ))
    async def transcript(self, info: Info[RequestContext, None]) -> Transcript | None:
        principal = await info.context.principal()
        found = await content.read_transcript(
            await info.context.tenant_uow(),
            info.context.runtime.keys,
            principal.account_id,
            self._id,
        )
        if found is None:
            return None
        return Transcript(
            text=found.text,
            segments=[
                TranscriptSegment(
                    start_seconds=s.start_seconds,
                    end_seconds=s.end_seconds,
                    speaker=s.speaker,
                    text=s.text,
                )
                for s in found.segments
            ],
        )

    @strawberry.field(**requires_on_attribute(Permission.DOCUMENTS_READ))
    async def documents(self, info: Info[RequestContext, None]) -> list[Document] | None:
        principal = await info.context.principal()
        found = await content.read_documents(
            await info.context.tenant_uow(),
            info.context.runtime.keys,
            principal.account_id,
            self._id,
        )
        return [Document.from_record(documents.as_seen_by(principal, d)) for d in found]

    @strawberry.field(description="The stage and a percentage, for polling frontends.")
    async def progress(self, info: Info[RequestContext, None]) -> Progress:
        uow = await info.context.tenant_uow()
        transcribed = await calls_repository.has_transcript(uow, self._id)
        stage, percent = progress_of(self.status, transcribed=transcribed)
        return Progress(stage=stage, percent=percent)

    @classmethod
    def from_record(cls, record: CallRecord) -> Call:
        return cls(
            id=strawberry.ID(ids.encode(ids.Kind.CALL, record.id)),
            client_profile_id=strawberry.ID(
                ids.encode(ids.Kind.CLIENT_PROFILE, record.client_profile_id)
            ),
            title=record.title,
            status=record.status,
            failure_reason=record.failure_reason,
            consent=Consent(
                participants_notified=record.consent.participants_notified,
                methods=list(record.consent.methods),
                jurisdiction=record.consent.jurisdiction,
            ),
            created_at=record.created_at,
            _id=record.id,
        )


@strawberry.type(description="Where to PUT a recording's audio, once, before it expires.")
class RecordingUpload:
    upload_url: str
    expires_at: datetime
    max_bytes: ByteCount

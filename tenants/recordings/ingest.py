"""`PUT /uploads/{ticket}`, as a service: check the request, claim the ticket, stream
the audio into the tenant's bucket encrypted, then record it.

Everything that can be checked before a byte is stored is (content type, declared
length, ticket, account, call); what can only be seen in the body (empty, not audio,
longer than allowed) stops the stream. Any failure aborts the object store's upload,
so a failed upload leaves no object and no row.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError as UniqueViolation

from audora.platform.auth.permissions import Permission, allows
from audora.platform.auth.principal import Role
from audora.platform.auth.tables import memberships
from audora.platform.db.tenant_binding import TenantRef, TenantUnitOfWork, tenant_transaction
from audora.platform.db.tenant_names import tenant_schema
from audora.platform.errors import AppError, ErrorCode
from audora.platform.jobs.queue import enqueue
from audora.platform.runtime import Runtime
from audora.tenants.audit.log import AuditEntry, append
from audora.tenants.calls import repository as calls
from audora.tenants.calls.events import announce_status_change
from audora.tenants.calls.service import CallStatus
from audora.tenants.clients.repository import Scope
from audora.tenants.recordings import tickets
from audora.tenants.recordings.audio import discard_audio, store_audio
from audora.tenants.recordings.audio_format import (
    SNIFF_BYTES,
    acceptable_content_type,
    looks_like_audio,
)
from audora.tenants.recordings.timeline import seal_timeline
from audora.tenants.registry.suspension import MOVING_REFUSAL
from audora.tenants.registry.tables import accounts, tenant_placements
from audora.tenants.transcription.provider import SpeakerTurn
from audora.tenants.transcription.sweep import (
    TRANSCRIBE_JOB,
    expect_transcription,
    transcription_job_id,
)

log = logging.getLogger(__name__)


class UploadRefused(AppError):
    def __init__(self, status: int, message: str, code: ErrorCode) -> None:
        super().__init__(message, code=code)
        self.status = status


@dataclass(frozen=True)
class ReceivedRecording:
    recording_id: uuid.UUID
    call_id: uuid.UUID
    size_bytes: int


def _too_large(limit: int) -> UploadRefused:
    return UploadRefused(
        413, f"a recording may be at most {limit} bytes", ErrorCode.PAYLOAD_TOO_LARGE
    )


async def checked_audio(
    body: AsyncIterable[bytes], limit: int, counted: list[int]
) -> AsyncIterator[bytes]:
    """The body as it arrives, refused if empty, not audio, or over `limit` bytes; its
    length is appended to `counted` once it has all passed."""
    head = bytearray()
    total = 0
    sniffed = False
    async for piece in body:
        total += len(piece)
        if total > limit:
            raise _too_large(limit)
        if not sniffed:
            head += piece
            if len(head) < SNIFF_BYTES:
                continue
            if not looks_like_audio(bytes(head)):
                raise UploadRefused(400, "the body is not an audio file", ErrorCode.BAD_USER_INPUT)
            sniffed = True
            piece, head = bytes(head), bytearray()
        yield piece
    if total == 0:
        raise UploadRefused(400, "the body is empty", ErrorCode.BAD_USER_INPUT)
    if not sniffed:
        if not looks_like_audio(bytes(head)):
            raise UploadRefused(400, "the body is not an audio file", ErrorCode.BAD_USER_INPUT)
        yield bytes(head)
    counted.append(total)


def check_headers(content_type: str | None, content_length: str | None, limit: int) -> str:
    kind = (content_type or "").split(";")[0].strip().lower()
    if not acceptable_content_type(kind):
        raise UploadRefused(
            415, "send the recording as audio/* (or a video container)", ErrorCode.BAD_USER_INPUT
        )
    if content_length is not None:
        if not content_length.isdigit():
            raise UploadRefused(400, "Content-Length is not a number", ErrorCode.BAD_USER_INPUT)
        if int(content_length) > limit:
            raise _too_large(limit)
        if int(content_length) == 0:
            raise UploadRefused(400, "the body is empty", ErrorCode.BAD_USER_INPUT)
    return kind


_REFUSALS = {
    tickets.Refusal.UNKNOWN: UploadRefused(
        404, "this upload URL is not known", ErrorCode.NOT_FOUND
    ),
    tickets.Refusal.USED: UploadRefused(
        409, "this upload URL was already used; ask for a new one", ErrorCode.CONFLICT
    ),
    tickets.Refusal.EXPIRED: UploadRefused(
        410, "this upload URL has expired; ask for a new one", ErrorCode.NOT_FOUND
    ),
}


async def receive_recording(
    runtime: Runtime,
    token: str,
    content_type: str | None,
    content_length: str | None,
    body: AsyncIterable[bytes],
    *,
    ip: str | None,
) -> ReceivedRecording:
    limit = runtime.settings.upload_max_bytes
    kind = check_headers(content_type, content_length, limit)
    claimed = await tickets.claim(runtime.platform_engine, token, runtime.clock.now())
    if isinstance(claimed, tickets.Refusal):
        raise _REFUSALS[claimed]
    scope = await _check_uploader(runtime, claimed)
    async with tenant_transaction(
        runtime.tenant_engines, TenantRef(tenant_schema(claimed.account_id))
    ) as uow:
        call = await calls.get(uow, claimed.call_id, scope)
        if call is None:
            raise _REFUSALS[tickets.Refusal.UNKNOWN]
        if call["status"] != CallStatus.AWAITING_RECORDING:
            raise UploadRefused(409, "this call already has a recording", ErrorCode.CONFLICT)

    return await keep_recording(
        runtime,
        claimed.account_id,
        claimed.call_id,
        scope,
        body,
        limit=min(limit, claimed.max_bytes),
        content_type=kind,
        arrival=Arrival(actor=f"user:{claimed.created_by}", action="recording.uploaded", ip=ip),
    )


@dataclass(frozen=True)
class Arrival:
    """Who or what brought a recording, for the tenant's audit log."""

    actor: str
    action: str
    ip: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


async def keep_recording(
    runtime: Runtime,
    tenant_id: uuid.UUID,
    call_id: uuid.UUID,
    scope: Scope,
    body: AsyncIterable[bytes],
    *,
    limit: int,
    content_type: str,
    arrival: Arrival,
    timeline: Sequence[SpeakerTurn] = (),
    also: Callable[[TenantUnitOfWork, uuid.UUID], Awaitable[None]] | None = None,
) -> ReceivedRecording:
    """The step every way in shares (an upload, a meeting bot's media): stream `body`,
    checked as audio within `limit` bytes, encrypted into the tenant's bucket; then, in
    one transaction, record it (with its speaker `timeline`, sealed), move the call from
    AWAITING_RECORDING to TRANSCRIBING, audit `arrival`, and run `also` (the caller's
    own bookkeeping); after the commit, queue the transcription. Any failure, the body's
    own included (`UploadRefused`), leaves no object and no row."""
    recording_id = uuid.uuid4()
    counted: list[int] = []
    stored = await store_audio(
        runtime.keys,
        runtime.buckets,
        tenant_id,
        recording_id,
        checked_audio(body, limit, counted),
    )
    tenant = TenantRef(tenant_schema(tenant_id))
    try:
        await expect_transcription(runtime, tenant_id)
        async with tenant_transaction(runtime.tenant_engines, tenant) as uow:
            call = await calls.get(uow, call_id, scope, for_update=True)
            if call is None or call["status"] != CallStatus.AWAITING_RECORDING:
                raise UploadRefused(409, "this call already has a recording", ErrorCode.CONFLICT)
            await calls.add_recording(
                uow,
                id=recording_id,
                call_id=call_id,
                object_key=stored.object_key,
                size_bytes=counted[0],
                content_type=content_type,
                wrapped_key=stored.wrapped_key,
                speaker_timeline=await seal_timeline(
                    uow, runtime.keys, tenant_id, "recordings", recording_id, timeline
                ),
                stored_at=runtime.clock.now(),
            )
            await calls.set_status(uow, call_id, CallStatus.TRANSCRIBING)
            await append(
                uow,
                runtime.clock.now(),
                AuditEntry(
                    actor=arrival.actor,
                    action=arrival.action,
                    target=f"call:{call_id}",
                    ip=arrival.ip,
                    details={
                        "recording": str(recording_id),
                        "sizeBytes": counted[0],
                        **arrival.details,
                    },
                ),
            )
            if also is not None:
                await also(uow, recording_id)
            await uow.commit()
    except BaseException as exc:
        # The audio is stored but not recorded: take it back out.
        try:
            await discard_audio(runtime.buckets, tenant_id, stored.object_key)
        except Exception:
            log.exception("could not remove the audio of a failed recording %s", recording_id)
        if isinstance(exc, UniqueViolation):
            raise UploadRefused(
                409, "this call already has a recording", ErrorCode.CONFLICT
            ) from None
        raise
    await announce_status_change(runtime, tenant_id, call_id)
    await _queue_transcription(runtime, tenant_id, call_id)
    return ReceivedRecording(recording_id, call_id, counted[0])


async def _queue_transcription(runtime: Runtime, tenant_id: uuid.UUID, call_id: uuid.UUID) -> None:
    """Queue the call's transcription, after the recording committed. The upload has
    succeeded whatever happens here: if Redis cannot take the job, the call stays
    TRANSCRIBING with its audio stored, the failure is logged, and the worker's sweep
    (`requeue_stuck_calls_job`) queues it again later."""
    try:
        await enqueue(
            runtime.settings.redis_url,
            TRANSCRIBE_JOB,
            str(tenant_id),
            str(call_id),
            job_id=transcription_job_id(call_id),
        )
    except Exception:
        log.exception("could not queue the transcription of call %s", call_id)


async def _check_uploader(runtime: Runtime, claimed: tickets.ClaimedTicket) -> Scope:
    """The account still writable, and the member who asked for the URL still in it and
    still allowed to upload: their seat is judged as it is now, not as it was when the
    URL was handed out. Returns the seat's scope, within which the call must be."""
    async with runtime.platform_engine.connect() as conn:
        row = (
            await conn.execute(
                select(
                    accounts.c.status,
                    memberships.c.role,
                    memberships.c.client_profile_ids,
                    tenant_placements.c.moving_since,
                )
                .join(memberships, memberships.c.account_id == accounts.c.id)
                .outerjoin(tenant_placements, tenant_placements.c.account_id == accounts.c.id)
                .where(
                    accounts.c.id == claimed.account_id, memberships.c.user_id == claimed.created_by
                )
            )
        ).first()
    if row is None:
        raise _REFUSALS[tickets.Refusal.UNKNOWN]
    if row.status != "ACTIVE":
        raise UploadRefused(403, "this account is read-only", ErrorCode.FORBIDDEN)
    if row.moving_since is not None:
        # `audora tenants move`: read-only for a few minutes; the client may retry.
        raise UploadRefused(403, MOVING_REFUSAL, ErrorCode.FORBIDDEN)
    if not allows(Role(row.role), Permission.CALLS_WRITE):
        raise UploadRefused(403, "your role does not have calls:write", ErrorCode.FORBIDDEN)
    return tuple(row.client_profile_ids) if row.client_profile_ids is not None else None


def ticket_lifetime(runtime: Runtime) -> timedelta:
    return timedelta(minutes=runtime.settings.upload_ticket_minutes)

"""The meeting bot's recording, brought home: `fetch_bot_recording_job` streams the
media from the provider into the tenant's bucket exactly as an upload is stored (the
same checks, the same encryption, the same step that moves the call to TRANSCRIBING and
queues its transcription), with the speaker timeline kept sealed beside it. Then,
whatever became of the fetch, the provider is asked to delete its copy, and the job
checks that the media URL now answers 404 or 410 (S2). The tenant's audit log records
`recording.provider_deleted` with `verified` true or false; an unverified deletion is
tried again later by `delete_bot_media_job`, with a growing delay, and after
`DELETION_TRIES` the failure is audited, logged as an error and counted in the
`audora_bot_media_deletions_failed` gauge (the alert, I4) until a later try verifies it.

Both jobs are idempotent: each acts only from the bot row's state (RECORDING_READY to
fetch; FETCHED or FAILED with no deletion attempt yet, or DELETION_UNVERIFIED, to
delete), and writes under a row lock. A fetch that fails for a reason that will not go
away (not audio, empty, too large, a redirect, a URL that is not https to a public
address, a 4xx) marks the call FAILED at once; network errors and 5xx are retried with
a growing delay, and the last try marks it FAILED. Failure reasons never quote content.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from arq.worker import Retry

from audora.platform.db.tenant_binding import TenantRef, TenantUnitOfWork, tenant_transaction
from audora.platform.db.tenant_names import tenant_schema
from audora.platform.errors import AppError
from audora.platform.http.destinations import DestinationPolicy, guarded_client
from audora.platform.jobs.queue import enqueue
from audora.platform.metrics.gauges import (
    BOT_MEDIA_NOT_DELETED,
    CALLS_FAILED,
    mark_failing,
    note_event,
)
from audora.platform.runtime import Runtime
from audora.tenants.audit.log import AuditEntry, append
from audora.tenants.calls import repository as calls
from audora.tenants.calls.content import TRANSCRIPTS
from audora.tenants.calls.service import CallStatus
from audora.tenants.keys.data_keys import FieldSealer
from audora.tenants.keys.sealed_columns import sealed_object_id
from audora.tenants.meeting_bots import repository
from audora.tenants.meeting_bots.events import ACTOR
from audora.tenants.meeting_bots.provider import BotProvider, ProviderUnavailable
from audora.tenants.meeting_bots.service import BotStatus
from audora.tenants.recordings.audio_format import acceptable_content_type
from audora.tenants.recordings.ingest import Arrival, UploadRefused, keep_recording
from audora.tenants.recordings.timeline import open_timeline
from audora.tenants.registry.suspension import account_is_writable
from audora.tenants.transcription.provider import SpeakerTurn

log = logging.getLogger(__name__)

MAX_TRIES = 3
# Try n waits n times this long before the next.
RETRY_BACKOFF_SECONDS = 30
# A download of the largest recording allowed takes a while.
JOB_TIMEOUT_SECONDS = 3600
DELETE_JOB = "delete_bot_media_job"
DELETION_TRIES = 5
# Unverified deletion n is tried again after n times this long.
DELETION_RETRY_SECONDS = 600


def deletion_job_id(call_id: uuid.UUID | str, attempts: int) -> str:
    """The id of the deletion try that follows `attempts` unverified ones."""
    return f"bot-media-delete:{call_id}:{attempts}"


class MediaRefused(Exception):
    """The media cannot be taken, and trying again will not change that."""


class MediaUnavailable(Exception):
    """The provider did not hand the media over this time."""


@dataclass(frozen=True)
class _Bot:
    row_id: uuid.UUID
    bot_id: str
    status: BotStatus
    media_url: str | None
    timeline: tuple[SpeakerTurn, ...]
    deletion_attempts: int


def _provider(ctx: dict[str, Any], runtime: Runtime) -> BotProvider:
    given: BotProvider | None = ctx.get("bot_provider")
    return given or BotProvider.from_settings(runtime.settings)


async def _load(runtime: Runtime, tenant: uuid.UUID, call: uuid.UUID) -> _Bot | None:
    async with tenant_transaction(runtime.tenant_engines, TenantRef(tenant_schema(tenant))) as uow:
        row = await repository.of_call(uow, call)
        if row is None:
            return None
        sealer = FieldSealer(uow, runtime.keys, tenant, TRANSCRIPTS)
        media_url = await sealer.open(
            sealed_object_id("meeting_bots", row["id"], "media_url"), row["media_url"]
        )
        timeline = await open_timeline(
            uow, runtime.keys, tenant, "meeting_bots", row["id"], row["speaker_timeline"]
        )
    return _Bot(
        row["id"],
        row["provider_bot_id"],
        BotStatus(row["status"]),
        media_url,
        timeline,
        row["deletion_attempts"],
    )


async def fetch_bot_recording_job(ctx: dict[str, Any], tenant_id: str, call_id: str) -> str:
    """Fetch the bot's recording into the tenant, then have the provider delete its copy."""
    runtime: Runtime = ctx["runtime"]
    tenant, call = uuid.UUID(tenant_id), uuid.UUID(call_id)
    bot = await _load(runtime, tenant, call)
    if bot is None:
        return "nothing to do"
    if bot.status == BotStatus.RECORDING_READY:
        try:
            if not await account_is_writable(runtime.platform_engine, tenant):
                raise MediaRefused("the account is read-only; the recording was not kept")
            await _fetch(ctx, runtime, tenant, call, bot)
        except (MediaUnavailable, httpx.HTTPError) as exc:
            job_try: int = ctx.get("job_try", 1)
            if job_try < MAX_TRIES:
                log.warning("bot media for call %s not fetched (try %s): %r", call, job_try, exc)
                backoff = ctx.get("retry_backoff_seconds", RETRY_BACKOFF_SECONDS)
                raise Retry(defer=job_try * backoff) from None
            await _give_up(
                runtime,
                tenant,
                call,
                f"the meeting bot's recording could not be fetched after {job_try} tries",
            )
        except UploadRefused as refused:
            if refused.status == 409:  # an upload got there first: the call is fine
                await _give_up(runtime, tenant, call, refused.message, fail_call=False)
            else:
                await _give_up(
                    runtime, tenant, call, f"the meeting bot's recording: {refused.message}"
                )
        except (MediaRefused, AppError) as refused:  # a URL refused (SSRF, not https)
            await _give_up(runtime, tenant, call, f"the meeting bot's recording: {refused}")
        bot = await _load(runtime, tenant, call)
    if (
        bot is not None
        and bot.status in (BotStatus.FETCHED, BotStatus.FAILED)
        and bot.deletion_attempts == 0
    ):
        return await _delete_at_provider(ctx, runtime, tenant, call, bot)
    return "nothing to do"


async def delete_bot_media_job(ctx: dict[str, Any], tenant_id: str, call_id: str) -> str:
    """Ask the provider again to delete a copy whose deletion was not verified."""
    runtime: Runtime = ctx["runtime"]
    tenant, call = uuid.UUID(tenant_id), uuid.UUID(call_id)
    bot = await _load(runtime, tenant, call)
    if bot is None or bot.status != BotStatus.DELETION_UNVERIFIED:
        return "nothing to do"
    return await _delete_at_provider(ctx, runtime, tenant, call, bot)


async def _fetch(
    ctx: dict[str, Any], runtime: Runtime, tenant: uuid.UUID, call: uuid.UUID, bot: _Bot
) -> None:
    settings = runtime.settings
    if bot.media_url is None:
        raise MediaRefused("the provider named no media")
    # The media URL is the provider's word: still, public addresses only (SSRF), checked
    # now and again at connect time by the guarded client.
    policy = DestinationPolicy.from_settings(settings)
    url = await policy.vet_url(bot.media_url, field="the media URL")

    async def fetched(uow: TenantUnitOfWork, recording_id: uuid.UUID) -> None:
        # The timeline now lives with the recording; the bot's copy goes.
        await repository.change(uow, bot.row_id, status=BotStatus.FETCHED, speaker_timeline=None)

    async with guarded_client(policy) as client, client.stream("GET", url) as response:
        status = response.status_code
        if 300 <= status < 400:
            raise MediaRefused("the media URL redirected, and redirects are not followed")
        if status in (408, 429) or status >= 500:
            raise MediaUnavailable(f"the media URL answered {status}")
        if status != 200:
            raise MediaRefused(f"the media URL answered {status}")
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        await keep_recording(
            runtime,
            tenant,
            call,
            None,
            response.aiter_bytes(),
            limit=settings.upload_max_bytes,
            content_type=kind if acceptable_content_type(kind) else "application/octet-stream",
            arrival=Arrival(actor=ACTOR, action="recording.received", details={"bot": bot.bot_id}),
            timeline=bot.timeline,
            also=fetched,
        )


async def _give_up(
    runtime: Runtime, tenant: uuid.UUID, call: uuid.UUID, reason: str, *, fail_call: bool = True
) -> None:
    """The bot's recording will not be kept: the bot FAILED, and the call FAILED with
    `reason` (no customer content in it) unless it has a recording of its own; the
    alert is an error in the worker's log, `call.failed` in the audit log and the
    failed-calls gauge."""
    log.error("the meeting-bot recording of call %s FAILED: %s", call, reason)
    call_failed = False
    async with tenant_transaction(runtime.tenant_engines, TenantRef(tenant_schema(tenant))) as uow:
        bot = await repository.of_call(uow, call, for_update=True)
        if bot is None or bot["status"] != BotStatus.RECORDING_READY:
            return
        await repository.change(uow, bot["id"], status=BotStatus.FAILED, failure_reason=reason)
        row = await calls.get(uow, call, None, for_update=True)
        if fail_call and row is not None and row["status"] == CallStatus.AWAITING_RECORDING:
            await calls.set_status(uow, call, CallStatus.FAILED, reason)
            await append(
                uow,
                runtime.clock.now(),
                AuditEntry(ACTOR, "call.failed", f"call:{call}", details={"reason": reason}),
            )
            call_failed = True
        await uow.commit()
    if call_failed:
        await note_event(runtime.redis, CALLS_FAILED, runtime.clock.now())


async def _gone(runtime: Runtime, media_url: str) -> bool:
    """Does the media URL now answer 404 or 410? Anything else is not proof."""
    policy = DestinationPolicy.from_settings(runtime.settings)
    url = await policy.vet_url(media_url, field="the media URL")
    async with guarded_client(policy) as client, client.stream("GET", url) as response:
        return response.status_code in (404, 410)


async def _delete_at_provider(
    ctx: dict[str, Any], runtime: Runtime, tenant: uuid.UUID, call: uuid.UUID, bot: _Bot
) -> str:
    provider = _provider(ctx, runtime)
    verified = False
    try:
        await provider.delete_media(bot.bot_id)
        verified = bot.media_url is not None and await _gone(runtime, bot.media_url)
    except (ProviderUnavailable, httpx.HTTPError, AppError) as exc:
        log.warning("deleting the provider's copy for call %s failed: %r", call, exc)
    attempts = bot.deletion_attempts + 1
    retry = not verified and attempts < DELETION_TRIES
    now = runtime.clock.now()
    async with tenant_transaction(runtime.tenant_engines, TenantRef(tenant_schema(tenant))) as uow:
        row = await repository.of_call(uow, call, for_update=True)
        if row is None or row["deletion_attempts"] != bot.deletion_attempts:
            return "nothing to do"  # another delivery of this job got there first
        await repository.change(
            uow,
            bot.row_id,
            status=BotStatus.PROVIDER_DELETED if verified else BotStatus.DELETION_UNVERIFIED,
            deletion_attempts=attempts,
            provider_deleted_at=now if verified else None,
            **({"media_url": None} if verified else {}),
        )
        details: dict[str, Any] = {"bot": bot.bot_id, "verified": verified, "attempt": attempts}
        await append(
            uow,
            now,
            AuditEntry(
                ACTOR,
                "recording.provider_deleted",
                f"call:{call}",
                details={**details, "retryScheduled": retry},
            ),
        )
        if not verified and not retry:
            log.error("the provider's copy for call %s is not verified deleted; giving up", call)
            await append(
                uow,
                now,
                AuditEntry(
                    ACTOR, "recording.provider_deletion_failed", f"call:{call}", details=details
                ),
            )
        await uow.commit()
    given_up = not verified and not retry
    if verified or given_up:
        await mark_failing(runtime.redis, BOT_MEDIA_NOT_DELETED, call, given_up)
    if retry:
        delay = ctx.get("deletion_retry_seconds", DELETION_RETRY_SECONDS) * attempts
        try:
            await enqueue(
                runtime.settings.redis_url,
                DELETE_JOB,
                str(tenant),
                str(call),
                defer_seconds=delay,
                job_id=deletion_job_id(call, attempts),
            )
        except Exception:
            log.exception("could not queue the next deletion try for call %s", call)
        return f"provider copy not verified deleted (try {attempts}); trying again"
    return "provider copy deleted" if verified else "provider copy not verified deleted"

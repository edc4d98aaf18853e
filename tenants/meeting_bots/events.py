"""What the provider's webhook tells us, once its signature has been checked.

`recording.ready` (data: `bot_id`, `media_url`, `speaker_timeline`) is the one event
acted on: the media URL and the timeline are sealed into the tenant's bot row and the
fetch job is queued after the commit. Every other event type is acknowledged and
ignored. An event for a bot the platform does not know, or one already past this
point, is acknowledged the same way, so the answer says nothing about other tenants.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from audora.platform.db.tenant_binding import TenantRef, tenant_transaction
from audora.platform.db.tenant_names import tenant_schema
from audora.platform.jobs.queue import enqueue
from audora.platform.runtime import Runtime
from audora.tenants.audit.log import AuditEntry, append
from audora.tenants.calls.content import TRANSCRIPTS
from audora.tenants.keys.data_keys import FieldSealer
from audora.tenants.keys.sealed_columns import sealed_object_id
from audora.tenants.meeting_bots import repository
from audora.tenants.meeting_bots.provider import BOT_ID
from audora.tenants.meeting_bots.service import BotStatus
from audora.tenants.recordings.timeline import parse_timeline, seal_timeline
from audora.tenants.registry.due_work import Sweep, mark_due
from audora.tenants.transcription.provider import SpeakerTurn

RECORDING_READY = "recording.ready"
FETCH_JOB = "fetch_bot_recording_job"
MAX_MEDIA_URL = 4096
ACTOR = "system:meeting-bot"
# A recording announced this long ago and still not fetched has lost its job: the sweep
# (sweep.py) queues it again.
STUCK_AFTER = timedelta(minutes=30)


def fetch_job_id(call_id: uuid.UUID | str) -> str:
    return f"bot-recording:{call_id}"


@dataclass(frozen=True)
class RecordingReady:
    bot_id: str
    media_url: str
    timeline: tuple[SpeakerTurn, ...]


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    IGNORED = "ignored"


def parse_event(body: bytes) -> RecordingReady | None:
    """The `recording.ready` event in `body`, None for any other type; ValueError if
    the body is not a well-formed event."""
    try:
        event = json.loads(body)
    except (ValueError, RecursionError):
        raise ValueError("the body is not JSON") from None
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise ValueError("an event is an object with a type")
    if event["type"] != RECORDING_READY:
        return None
    data = event.get("data")
    if not isinstance(data, dict):
        raise ValueError("recording.ready carries a data object")
    bot_id, media_url = data.get("bot_id"), data.get("media_url")
    if not isinstance(bot_id, str) or not BOT_ID.match(bot_id):
        raise ValueError("data.bot_id is not a bot id")
    if not isinstance(media_url, str) or not 0 < len(media_url) <= MAX_MEDIA_URL:
        raise ValueError("data.media_url is not a URL")
    return RecordingReady(bot_id, media_url, parse_timeline(data.get("speaker_timeline")))


async def receive(runtime: Runtime, event: RecordingReady) -> Outcome:
    """Keep what the event says in the bot's tenant, then queue the fetch."""
    route = await repository.route(runtime.platform_engine, event.bot_id)
    if route is None:
        return Outcome.IGNORED
    tenant_id, call_id = route["account_id"], route["call_id"]
    async with tenant_transaction(
        runtime.tenant_engines, TenantRef(tenant_schema(tenant_id))
    ) as uow:
        bot = await repository.of_call(uow, call_id, for_update=True)
        if bot is None or bot["provider_bot_id"] != event.bot_id:
            return Outcome.IGNORED
        if bot["status"] == BotStatus.DISPATCHED:
            now = runtime.clock.now()
            # Before the commit: from here the sweep looks after the bot.
            await mark_due(runtime.platform_engine, tenant_id, Sweep.BOTS, now + STUCK_AFTER)
            sealer = FieldSealer(uow, runtime.keys, tenant_id, TRANSCRIPTS)
            await repository.change(
                uow,
                bot["id"],
                status=BotStatus.RECORDING_READY,
                recording_ready_at=now,
                media_url=await sealer.seal(
                    sealed_object_id("meeting_bots", bot["id"], "media_url"), event.media_url
                ),
                speaker_timeline=await seal_timeline(
                    uow, runtime.keys, tenant_id, "meeting_bots", bot["id"], event.timeline
                ),
            )
            await append(
                uow,
                now,
                AuditEntry(
                    actor=ACTOR,
                    action="bot.recording_ready",
                    target=f"call:{call_id}",
                    details={"bot": event.bot_id, "speakerTurns": len(event.timeline)},
                ),
            )
            await uow.commit()
        elif bot["status"] != BotStatus.RECORDING_READY:
            return Outcome.IGNORED  # fetched already: a late copy of the event
    # Queued after the commit. A RECORDING_READY bot is queued again: the provider's
    # retry of a delivery whose queueing failed must not be lost (the job id collapses
    # a job that is still waiting).
    await enqueue(
        runtime.settings.redis_url,
        FETCH_JOB,
        str(tenant_id),
        str(call_id),
        job_id=fetch_job_id(call_id),
    )
    return Outcome.ACCEPTED

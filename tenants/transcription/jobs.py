"""`transcribe_call_job`: a call's recording, decrypted in memory, turned into its
transcript; the call moves from TRANSCRIBING to GENERATING, and its documents'
generation is queued once that is committed.

arq delivers at least once, so the job is idempotent: it acts only on a call that is
still TRANSCRIBING, and checks again, under a row lock, before it writes. Nothing is
held open while the model runs (minutes, for a long call): one short transaction reads
what the job needs, another writes the result.

Failures: a recording that fails its integrity check will fail every time, so the call
is marked FAILED at once (and the tenant's audit log says so). Anything else is retried
with a growing delay (`Retry(defer=...)`) until the job's tries are used up; the last
try marks the call FAILED. Failure reasons never quote customer content.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from arq.worker import Retry

from audora.platform.crypto.envelope import IntegrityError
from audora.platform.db.tenant_binding import TenantRef, tenant_transaction
from audora.platform.db.tenant_names import tenant_schema
from audora.platform.runtime import Runtime
from audora.platform.subprocessors.records import announcements
from audora.platform.subprocessors.registry import SubprocessorNotEffective
from audora.tenants.audit.log import AuditEntry, append
from audora.tenants.calls import repository as calls
from audora.tenants.calls.content import store_transcript
from audora.tenants.calls.events import announce_status_change
from audora.tenants.calls.failure import fail_call
from audora.tenants.calls.service import CallStatus
from audora.tenants.documents.queueing import queue_generation
from audora.tenants.recordings.audio import read_audio
from audora.tenants.recordings.timeline import open_timeline
from audora.tenants.registry.due_work import Sweep, mark_due
from audora.tenants.registry.suspension import account_is_writable
from audora.tenants.transcription.choice import transcriber_from_settings
from audora.tenants.transcription.provider import Transcriber
from audora.tenants.transcription.sweep import TRANSCRIBE_JOB

log = logging.getLogger(__name__)

JOB = TRANSCRIBE_JOB
MAX_TRIES = 3
# Try n waits n times this long before the next: 20 s, then 40 s.
RETRY_BACKOFF_SECONDS = 20
# An hour of audio takes a few minutes on two cores; the upload limit allows hours.
JOB_TIMEOUT_SECONDS = 3600
ACTOR = "system:transcribe"


async def transcribe_call_job(ctx: dict[str, Any], tenant_id: str, call_id: str) -> str:
    """Transcribe the call's recording. Returns what it did, for arq's result log."""
    runtime: Runtime = ctx["runtime"]
    tenant, call = uuid.UUID(tenant_id), uuid.UUID(call_id)
    if not await account_is_writable(runtime.platform_engine, tenant):
        # Suspended or closed: no new processing. The call stays TRANSCRIBING and the
        # sweep queues it again once the account is writable.
        return "account read-only: not processed"
    ref = TenantRef(tenant_schema(tenant))
    async with tenant_transaction(runtime.tenant_engines, ref) as uow:
        row = await calls.get(uow, call, None)
        recording = await calls.recording_of(uow, call)
    if row is None or row["status"] != CallStatus.TRANSCRIBING or recording is None:
        return "nothing to do"
    try:
        transcriber: Transcriber = ctx.get("transcriber") or transcriber_from_settings(
            runtime.settings, runtime.clock.now(), await announcements(runtime.platform_engine)
        )
        # A meeting bot's recording says who spoke when: the segments get their speakers.
        async with tenant_transaction(runtime.tenant_engines, ref) as uow:
            timeline = await open_timeline(
                uow,
                runtime.keys,
                tenant,
                "recordings",
                recording["id"],
                recording["speaker_timeline"],
            )
        audio = bytearray()
        async for chunk in read_audio(
            runtime.keys, runtime.buckets, tenant, recording["id"], recording["wrapped_key"]
        ):
            audio += chunk
        transcript = await asyncio.to_thread(transcriber.transcribe, bytes(audio), timeline)
        del audio
    except IntegrityError:
        await _fail(
            runtime, tenant, call, "the recording failed its integrity check", integrity=True
        )
        return "failed: integrity"
    except SubprocessorNotEffective as refused:
        # No retry sends the audio: the operator must register it or wait for the date.
        await _fail(runtime, tenant, call, str(refused))
        return "failed: subprocessor not effective"
    except Exception:
        job_try: int = ctx.get("job_try", 1)
        if job_try < MAX_TRIES:
            log.exception("transcription of call %s failed (try %s); retrying", call, job_try)
            backoff = ctx.get("retry_backoff_seconds", RETRY_BACKOFF_SECONDS)
            raise Retry(defer=job_try * backoff) from None
        log.exception("transcription of call %s failed on its last try", call)
        await _fail(runtime, tenant, call, f"transcription failed after {job_try} tries")
        return "failed"

    now = runtime.clock.now()
    async with tenant_transaction(runtime.tenant_engines, ref) as uow:
        row = await calls.get(uow, call, None, for_update=True)
        if row is None or row["status"] != CallStatus.TRANSCRIBING:
            return "nothing to do"  # another delivery of this job got there first
        await store_transcript(uow, runtime.keys, tenant, call, transcript)
        delete_after = now + runtime.settings.audio_retention
        # Before the commit: retention must visit the tenant by the audio's deadline.
        await mark_due(runtime.platform_engine, tenant, Sweep.RETENTION, delete_after)
        await calls.mark_transcribed(uow, recording["id"], now, delete_after)
        # Straight on to the documents: the call enters its first generation round.
        generation = await calls.begin_generation(uow, call, now, kinds=None)
        await append(
            uow,
            now,
            AuditEntry(
                actor=ACTOR,
                action="call.transcribed",
                target=f"call:{call}",
                details={"recording": str(recording["id"]), "segments": len(transcript.segments)},
            ),
        )
        await uow.commit()
    await announce_status_change(runtime, tenant, call)
    await queue_generation(runtime, tenant, call, generation)
    return f"transcribed: {len(transcript.segments)} segments"


async def _fail(
    runtime: Runtime, tenant: uuid.UUID, call: uuid.UUID, reason: str, *, integrity: bool = False
) -> None:
    await fail_call(
        runtime,
        tenant,
        call,
        reason,
        stage=CallStatus.TRANSCRIBING,
        actor=ACTOR,
        integrity_object="recording" if integrity else None,
    )

"""`generate_documents_job`: a transcribed call's documents written by the generator;
the call moves from GENERATING to READY.

A call enters GENERATING as a round (`calls.begin_generation`): after its transcription,
or when a person asks to regenerate a READY call (or one that failed after its
transcript). The round's kinds are kept on the call, so whoever queues the job (the
transcription job, the API, the sweep) queues the same work.

arq delivers at least once, so the job is idempotent: it acts only on a call still
GENERATING, and checks again, under the call's row lock, that the round it read is the
round it writes. Nothing is held open while the generator runs (a hosted model can take
a minute): one short transaction reads the transcript, this call's title and its
client's name; another writes the documents, each as a new version (the one before is
kept), moves the call to READY and audits `call.documents_generated`.

Failures: a transcript that fails its integrity check will fail every time, so the call
is marked FAILED at once. Anything else, in the generator or in the write, is retried
with a growing delay until the job's tries are used up; the last try marks the call
FAILED (arq retries only what raises `Retry`: anything else escaping would leave the
call GENERATING for the sweep to queue again, failing the same way forever). Reasons never quote
customer content, and what the generator raised goes to the worker's log only.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Sequence
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
from audora.tenants.calls.content import DocumentKind, read_transcript, store_document
from audora.tenants.calls.events import announce_status_change
from audora.tenants.calls.failure import fail_call
from audora.tenants.calls.service import CallStatus
from audora.tenants.clients import repository as profiles
from audora.tenants.documents.generator import (
    ALL_KINDS,
    CallContext,
    DocumentGenerator,
    GeneratedDocument,
)
from audora.tenants.documents.providers import generator_from_settings
from audora.tenants.documents.queueing import GENERATE_JOB
from audora.tenants.registry.suspension import account_is_writable

log = logging.getLogger(__name__)

JOB = GENERATE_JOB
MAX_TRIES = 3
# Try n waits n times this long before the next: 15 s, then 30 s.
RETRY_BACKOFF_SECONDS = 15
# A hosted model writes four documents in a minute or two; the embedded one in seconds.
JOB_TIMEOUT_SECONDS = 600
ACTOR = "system:generate"


class GeneratorMisbehaved(Exception):
    """The generator answered with other kinds than it was asked for."""


def _kinds(asked: Collection[str] | None) -> frozenset[DocumentKind]:
    return frozenset(DocumentKind(k) for k in asked) if asked else ALL_KINDS


def _checked(
    documents: Sequence[GeneratedDocument], kinds: frozenset[DocumentKind]
) -> list[GeneratedDocument]:
    """Exactly one document per kind asked for, or the try fails."""
    by_kind = {d.kind: d for d in documents}
    if len(by_kind) != len(documents) or set(by_kind) != kinds:
        raise GeneratorMisbehaved(
            f"asked for {sorted(kinds)}, got {sorted(d.kind for d in documents)}"
        )
    return [by_kind[k] for k in sorted(kinds)]


async def generate_documents_job(
    ctx: dict[str, Any], tenant_id: str, call_id: str, kinds: list[str] | None = None
) -> str:
    """Write the call's documents (`kinds`, else the round's, else all four). Returns
    what it did, for arq's result log."""
    runtime: Runtime = ctx["runtime"]
    tenant, call = uuid.UUID(tenant_id), uuid.UUID(call_id)
    if not await account_is_writable(runtime.platform_engine, tenant):
        # Suspended or closed: no new processing. The call stays GENERATING and the
        # sweep queues it again once the account is writable.
        return "account read-only: not processed"
    ref = TenantRef(tenant_schema(tenant))
    try:
        async with tenant_transaction(runtime.tenant_engines, ref) as uow:
            row = await calls.get(uow, call, None)
            if row is None or row["status"] != CallStatus.GENERATING:
                return "nothing to do"
            transcript = await read_transcript(uow, runtime.keys, tenant, call)
            profile = await profiles.get(uow, row["client_profile_id"], None)
    except IntegrityError:
        await _fail(
            runtime, tenant, call, "the transcript failed its integrity check", "transcript"
        )
        return "failed: integrity"
    if transcript is None or profile is None:
        await _fail(runtime, tenant, call, "the call has no transcript to generate from")
        return "failed: no transcript"
    round_id = row["generation_id"]
    wanted = _kinds(kinds or row["generation_kinds"])
    context = CallContext(
        call_title=row["title"], client_name=profile["name"], call_date=row["created_at"].date()
    )
    try:
        # Made here, inside the try: a misconfigured hosted generator fails like one
        # that is down (retried, then FAILED), rather than leaving the call waiting.
        generator: DocumentGenerator = ctx.get("generator") or generator_from_settings(
            runtime.settings, runtime.clock.now(), await announcements(runtime.platform_engine)
        )
        documents = _checked(await generator.generate(transcript, context, wanted), wanted)
        versions = await _write(runtime, tenant, call, round_id, documents)
    except SubprocessorNotEffective as refused:
        # No retry sends the transcript: the operator must register it or wait for the date.
        await _fail(runtime, tenant, call, str(refused))
        return "failed: subprocessor not effective"
    except Exception:
        job_try: int = ctx.get("job_try", 1)
        if job_try < MAX_TRIES:
            log.exception("generation for call %s failed (try %s); retrying", call, job_try)
            backoff = ctx.get("retry_backoff_seconds", RETRY_BACKOFF_SECONDS)
            raise Retry(defer=job_try * backoff) from None
        log.exception("generation for call %s failed on its last try", call)
        await _fail(runtime, tenant, call, f"document generation failed after {job_try} tries")
        return "failed"
    if versions is None:
        return "nothing to do"  # another delivery got there first, or a new round began
    await announce_status_change(runtime, tenant, call)
    return f"generated: {', '.join(sorted(versions))}"


async def _write(
    runtime: Runtime,
    tenant: uuid.UUID,
    call: uuid.UUID,
    round_id: uuid.UUID,
    documents: Sequence[GeneratedDocument],
) -> dict[str, int] | None:
    """Store the round's documents and move the call to READY, if the call is still in
    that round; the version written of each kind, or None if it no longer was."""
    now = runtime.clock.now()
    async with tenant_transaction(runtime.tenant_engines, TenantRef(tenant_schema(tenant))) as uow:
        row = await calls.get(uow, call, None, for_update=True)
        if (
            row is None
            or row["status"] != CallStatus.GENERATING
            or row["generation_id"] != round_id
        ):
            return None
        versions: dict[str, int] = {}
        for document in documents:
            await store_document(
                uow,
                runtime.keys,
                tenant,
                call,
                document.kind,
                document.title,
                document.markdown,
                document.structured,
                at=now,
            )
            written = await calls.document_of_kind(uow, call, document.kind.value)
            versions[document.kind.value] = int(written["version"]) if written else 0
        await calls.set_status(uow, call, CallStatus.READY)
        await append(
            uow,
            now,
            AuditEntry(
                actor=ACTOR,
                action="call.documents_generated",
                target=f"call:{call}",
                details={"round": str(round_id), "versions": versions},
            ),
        )
        await uow.commit()
    return versions


async def _fail(
    runtime: Runtime, tenant: uuid.UUID, call: uuid.UUID, reason: str, integrity: str | None = None
) -> None:
    await fail_call(
        runtime,
        tenant,
        call,
        reason,
        stage=CallStatus.GENERATING,
        actor=ACTOR,
        integrity_object=integrity,
    )

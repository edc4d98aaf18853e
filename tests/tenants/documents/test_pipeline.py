"""P1: a call goes upload → transcript → documents → READY on the real stack, as arq
jobs; generation is idempotent (a second delivery changes nothing), retried with
backoff, and its last failed try marks the call FAILED with a reason and an alert; a
call whose generation job went missing is queued again by the sweep."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq.worker import Retry, func
from documents_testing import ScriptedGenerator, generate, generating_call, tenant_of
from sqlalchemy import Engine, select, text

from audora.platform.clock import FrozenClock
from audora.platform.db.tenant_binding import tenant_transaction
from audora.platform.jobs.queue import QUEUE
from audora.platform.runtime import Runtime
from audora.tenants.audit.tables import audit_events
from audora.tenants.calls.tables import document_versions
from audora.tenants.documents import jobs as generation
from audora.tenants.documents.generator import GeneratedDocument
from audora.tenants.documents.jobs import generate_documents_job
from audora.tenants.documents.queueing import queue_generation
from audora.tenants.transcription import jobs as transcription
from audora.tenants.transcription.jobs import transcribe_call_job
from audora.tenants.transcription.sweep import requeue_stuck_calls_job

from audora_testing import (
    GraphQL,
    create_call,
    create_profile,
    mark_due,
    raw_id,
    run_jobs,
    schema_of,
    sign_up,
    upload_path,
)

FLAC = Path(__file__).resolve().parents[2] / "fixtures" / "calls" / "brightside-dental.flac"

READ = """
query($id: ID!) {
  call(id: $id) {
    status failureReason progress { stage percent }
    documents { kind title markdown version versions { version source } }
  }
}
"""

WORKER = [
    func(transcribe_call_job, max_tries=transcription.MAX_TRIES),
    func(generate_documents_job, max_tries=generation.MAX_TRIES),
]


async def _read(gql: GraphQL, owner: dict[str, Any]) -> dict[str, Any]:
    result = await gql(READ, {"id": owner["call_id"]}, token=owner["token"])
    assert "errors" not in result, result
    call: dict[str, Any] = result["data"]["call"]
    return call


async def _audit(runtime: Runtime, owner: dict[str, Any], action: str) -> list[dict[str, Any]]:
    async with tenant_transaction(runtime.tenant_engines, tenant_of(owner["account"]["id"])) as uow:
        rows = await uow.execute(
            select(audit_events.c.details).where(audit_events.c.action == action)
        )
        return [dict(r) for r in rows.scalars()]


async def test_an_uploaded_call_is_transcribed_then_documented_and_ready(
    gql: GraphQL, api: httpx.AsyncClient, runtime: Runtime
) -> None:
    await runtime.redis.delete(QUEUE)
    owner = await sign_up(gql, "End To End")
    profile = await create_profile(gql, owner["token"], "Brightside Dental")
    call_id = await create_call(gql, owner["token"], profile["id"], "Discovery")
    owner["call_id"] = call_id
    response = await api.put(
        await upload_path(gql, owner["token"], call_id),
        content=FLAC.read_bytes(),
        headers={"content-type": "audio/flac"},
    )
    assert response.status_code == 201, response.text
    assert (await _read(gql, owner))["progress"] == {"stage": "TRANSCRIBING", "percent": 10}

    # One worker run, on the default (embedded) generator: the transcription job
    # queues the generation job after its commit.
    await run_jobs(runtime, WORKER)

    call = await _read(gql, owner)
    assert call["status"] == "READY", call
    assert call["progress"] == {"stage": "READY", "percent": 100}
    docs = {d["kind"]: d for d in call["documents"]}
    assert sorted(docs) == ["CLIENT_BRIEF", "PRD", "SOW", "TASK_LIST"]
    assert all(d["version"] == 1 for d in docs.values())
    assert all(d["versions"] == [{"version": 1, "source": "GENERATED"}] for d in docs.values())
    # What the call said reached the right documents.
    assert "booking" in docs["PRD"]["markdown"].lower()
    assert "## Budget" in docs["SOW"]["markdown"]
    (event,) = await _audit(runtime, owner, "call.documents_generated")
    assert event["versions"] == {"CLIENT_BRIEF": 1, "PRD": 1, "SOW": 1, "TASK_LIST": 1}


async def test_the_generator_is_given_this_calls_transcript_and_labels_only(
    gql: GraphQL, runtime: Runtime
) -> None:
    """P3: one call's transcript, title and client name in; nothing of another call."""
    await generating_call(gql, runtime, "Other Call", said="Other call's words")
    owner = await generating_call(gql, runtime, "Own Call", said="Own call's words")
    generator = ScriptedGenerator()
    assert (await generate(runtime, owner, generator=generator)).startswith("generated")
    ((transcript, context, kinds),) = generator.seen
    assert transcript.text == "Own call's words"
    assert (context.call_title, context.client_name) == ("Discovery", "Brightside Dental")
    assert len(kinds) == 4


async def test_a_second_delivery_of_the_generation_job_changes_nothing(
    gql: GraphQL, runtime: Runtime, clock: FrozenClock
) -> None:
    owner = await generating_call(gql, runtime, "Twice Delivered")
    assert (await _read(gql, owner))["progress"] == {"stage": "GENERATING", "percent": 70}
    assert (await generate(runtime, owner)).startswith("generated")
    before = await _read(gql, owner)
    assert before["status"] == "READY"

    clock.advance(timedelta(minutes=5))
    try:
        again = ScriptedGenerator()
        assert await generate(runtime, owner, generator=again) == "nothing to do"
    finally:
        clock.advance(-timedelta(minutes=5))
    assert again.seen == []  # not even run
    assert await _read(gql, owner) == before
    assert len(await _audit(runtime, owner, "call.documents_generated")) == 1
    async with tenant_transaction(runtime.tenant_engines, tenant_of(owner["account"]["id"])) as uow:
        kept = (await uow.execute(select(document_versions.c.id))).all()
    assert len(kept) == 4


async def test_a_generation_that_keeps_failing_is_retried_then_marked_failed_with_an_alert(
    gql: GraphQL, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    await runtime.redis.delete(QUEUE)
    owner = await generating_call(gql, runtime, "Always Failing", said="Secret roadmap Zeta")
    await runtime.redis.delete(QUEUE)
    assert await queue_generation(
        runtime, raw_id(owner["account"]["id"]), raw_id(owner["call_id"]), owner["round"]
    )
    broken = ScriptedGenerator(failures=99)
    with caplog.at_level(logging.ERROR):
        await run_jobs(
            runtime,
            [func(generate_documents_job, max_tries=generation.MAX_TRIES)],
            generator=broken,
            retry_backoff_seconds=0.05,
        )

    assert len(broken.seen) == generation.MAX_TRIES
    call = await _read(gql, owner)
    assert call["status"] == "FAILED"
    reason = f"document generation failed after {generation.MAX_TRIES} tries"
    assert call["failureReason"] == reason
    assert call["documents"] == []
    assert call["progress"] == {"stage": "FAILED", "percent": 70}
    assert "Zeta" not in json.dumps(call)
    # The alert: an error in the worker's log and an event in the tenant's audit log.
    assert any("FAILED" in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
    assert await _audit(runtime, owner, "call.failed") == [{"reason": reason}]


async def test_a_generation_that_fails_once_is_retried_and_finishes(
    gql: GraphQL, runtime: Runtime
) -> None:
    owner = await generating_call(gql, runtime, "Flaky Provider")
    flaky = ScriptedGenerator(failures=1)
    with pytest.raises(Retry):
        await generate(runtime, owner, generator=flaky, job_try=1)
    assert (await _read(gql, owner))["status"] == "GENERATING"
    assert (await generate(runtime, owner, generator=flaky, job_try=2)).startswith("generated")
    assert (await _read(gql, owner))["status"] == "READY"


async def test_a_call_whose_generation_job_went_missing_is_queued_again_and_finishes(
    gql: GraphQL, runtime: Runtime, clock: FrozenClock
) -> None:
    await runtime.redis.delete(QUEUE)
    owner = await generating_call(gql, runtime, "Lost Job")  # its job was never queued
    minutes = runtime.settings.generation_requeue_minutes + 1
    clock.advance(timedelta(minutes=minutes))
    try:
        assert await requeue_stuck_calls_job({"runtime": runtime}) >= 1
        # Queued once: a second sweep finds the round's job already waiting.
        assert await requeue_stuck_calls_job({"runtime": runtime}) == 0
        await run_jobs(
            runtime,
            [func(generate_documents_job, max_tries=generation.MAX_TRIES)],
            generator=ScriptedGenerator(),
        )
    finally:
        clock.advance(-timedelta(minutes=minutes))
    assert (await _read(gql, owner))["status"] == "READY"


async def test_a_call_left_generating_without_a_round_gets_one_from_the_sweep(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    """A call transcribed before generation existed sits in GENERATING with no round and
    no job: the next sweep gives it a round and queues it at once."""
    await runtime.redis.delete(QUEUE)
    owner = await generating_call(gql, runtime, "Before Generation")
    with superuser.begin() as conn:
        conn.execute(
            text(
                f"UPDATE {schema_of(owner['account']['id'])}.calls "
                "SET generation_id = NULL, generating_since = NULL"
            )
        )
    # Such calls predate the sweeps' marks: the migration that made the marks marked
    # every tenant due at once.
    mark_due(superuser, raw_id(owner["account"]["id"]), "calls", runtime.clock.now())
    assert await requeue_stuck_calls_job({"runtime": runtime}) >= 1
    await run_jobs(
        runtime,
        [func(generate_documents_job, max_tries=generation.MAX_TRIES)],
        generator=ScriptedGenerator(),
    )
    assert (await _read(gql, owner))["status"] == "READY"


class _UnstorableTitles(ScriptedGenerator):
    async def generate(self, *args: Any, **kwargs: Any) -> Sequence[GeneratedDocument]:
        made = await super().generate(*args, **kwargs)
        return [replace(d, title=d.title + "\x00") for d in made]


async def test_documents_that_cannot_be_stored_end_failed_not_stuck(
    gql: GraphQL, runtime: Runtime
) -> None:
    """A write that fails (PostgreSQL takes no NUL in text) is retried like a failed
    generation, then marks the call FAILED, rather than leaving it GENERATING."""
    owner = await generating_call(gql, runtime, "Unstorable")
    bad = _UnstorableTitles()
    for job_try in range(1, generation.MAX_TRIES):
        with pytest.raises(Retry):
            await generate(runtime, owner, generator=bad, job_try=job_try)
    assert await generate(runtime, owner, generator=bad, job_try=generation.MAX_TRIES) == "failed"
    call = await _read(gql, owner)
    assert (call["status"], call["documents"]) == ("FAILED", [])

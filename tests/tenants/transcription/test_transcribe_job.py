"""Transcription as an arq job, on the embedded model and the real stack: an uploaded
call ends GENERATING with its transcript, its audio due for deletion 72 hours later; a
second delivery changes nothing; a corrupted or untranscribable recording ends FAILED
with a reason; the decrypted audio never reaches a disk (E7)."""

from __future__ import annotations

import json
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq.worker import func

from audora.platform.clock import FrozenClock
from audora.platform.config import Settings
from audora.platform.jobs.queue import QUEUE
from audora.platform.runtime import Runtime
from audora.platform.stack.embedded import EmbeddedStack
from audora.tenants.calls.content import Transcript
from audora.tenants.recordings import ingest
from audora.tenants.transcription.jobs import MAX_TRIES, transcribe_call_job
from audora.tenants.transcription.sweep import requeue_stuck_calls_job, transcription_job_id

from audora_testing import (
    GraphQL,
    admin_s3,
    create_call,
    create_profile,
    raw_id,
    run_jobs,
    sign_up,
    tenant_bucket,
    upload_path,
)

# The project's copy of the shared synthetic calls: CI clones the repository alone.
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "calls"
FLAC = FIXTURES / "brightside-dental.flac"

READ = """
query($id: ID!) {
  call(id: $id) {
    status failureReason
    transcript { text segments { startSeconds endSeconds speaker text } }
    recording { deleteAfter }
  }
}
"""


def _fixture() -> Path:
    assert FLAC.is_file(), f"the fixture calls are missing from {FIXTURES}"
    return FLAC


async def _uploaded_call(gql: GraphQL, api: httpx.AsyncClient, runtime: Runtime) -> dict[str, Any]:
    # Jobs other tests' uploads queued would otherwise run in this test's worker.
    await runtime.redis.delete(QUEUE)
    owner = await sign_up(gql, "Transcribed Studio")
    profile = await create_profile(gql, owner["token"], "Brightside Dental")
    call_id = await create_call(gql, owner["token"], profile["id"], "Discovery")
    path = await upload_path(gql, owner["token"], call_id)
    response = await api.put(
        path, content=_fixture().read_bytes(), headers={"content-type": "audio/flac"}
    )
    assert response.status_code == 201, response.text
    return {**owner, "call_id": call_id}


async def _run_worker(runtime: Runtime, **ctx: Any) -> None:
    await run_jobs(runtime, [func(transcribe_call_job, max_tries=MAX_TRIES)], **ctx)


async def _read(gql: GraphQL, owner: dict[str, Any]) -> dict[str, Any]:
    result = await gql(READ, {"id": owner["call_id"]}, token=owner["token"])
    assert "errors" not in result, result
    call: dict[str, Any] = result["data"]["call"]
    return call


async def test_an_uploaded_call_is_transcribed_and_its_audio_due_72_hours_later(
    gql: GraphQL, api: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    owner = await _uploaded_call(gql, api, runtime)
    await _run_worker(runtime)

    call = await _read(gql, owner)
    assert call["status"] == "GENERATING", call
    text = call["transcript"]["text"].lower()
    # Distinctive words of the script, allowing the model its mishearings elsewhere.
    for word in ("booking", "insurance", "calendar", "june"):
        assert word in text, (word, text)
    segments = call["transcript"]["segments"]
    assert len(segments) > 5
    assert all(s["speaker"] is None for s in segments)  # an upload carries no timeline
    assert all(s["startSeconds"] < s["endSeconds"] for s in segments)
    assert segments[-1]["endSeconds"] > 60
    delete_after = datetime.fromisoformat(call["recording"]["deleteAfter"])
    assert delete_after == clock.now() + timedelta(hours=72)

    # A second delivery of the job (arq is at-least-once) finds nothing to do.
    tenant_id, call_id = str(raw_id(owner["account"]["id"])), str(raw_id(owner["call_id"]))
    clock.advance(timedelta(hours=1))
    try:
        done = await transcribe_call_job({"runtime": runtime}, tenant_id, call_id)
    finally:
        clock.advance(-timedelta(hours=1))
    assert done == "nothing to do"
    assert await _read(gql, owner) == call


async def test_a_corrupted_recording_ends_failed_with_a_reason(
    gql: GraphQL, api: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    owner = await _uploaded_call(gql, api, runtime)
    admin = admin_s3(settings)
    bucket = tenant_bucket(settings, owner["account"]["id"])
    (listed,) = admin.list_objects_v2(Bucket=bucket)["Contents"]
    sealed = bytearray(admin.get_object(Bucket=bucket, Key=listed["Key"])["Body"].read())
    sealed[len(sealed) // 2] ^= 0xFF
    admin.put_object(Bucket=bucket, Key=listed["Key"], Body=bytes(sealed))

    await _run_worker(runtime)

    call = await _read(gql, owner)
    assert call["status"] == "FAILED"
    assert call["failureReason"] == "the recording failed its integrity check"
    assert call["transcript"] is None


class _Broken:
    def __init__(self) -> None:
        self.calls = 0

    def transcribe(self, audio: bytes, timeline: Any = ()) -> Transcript:
        self.calls += 1
        raise RuntimeError("the model fell over")


async def test_a_transcription_that_keeps_failing_is_retried_then_marked_failed(
    gql: GraphQL, api: httpx.AsyncClient, runtime: Runtime
) -> None:
    owner = await _uploaded_call(gql, api, runtime)
    broken = _Broken()
    await _run_worker(runtime, transcriber=broken, retry_backoff_seconds=0.1)

    assert broken.calls == MAX_TRIES
    call = await _read(gql, owner)
    assert call["status"] == "FAILED"
    assert call["failureReason"] == f"transcription failed after {MAX_TRIES} tries"
    assert "model fell over" not in json.dumps(call)


def _files_holding(root: Path, needle: bytes) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink() and needle in path.read_bytes():
                found.append(path)
        except OSError:
            continue  # sockets, files of other users
    return found


async def test_transcription_leaves_no_plaintext_audio_on_disk(
    gql: GraphQL, api: httpx.AsyncClient, runtime: Runtime, stack: EmbeddedStack
) -> None:
    started = time.time()
    await _uploaded_call(gql, api, runtime)
    await _run_worker(runtime)
    audio = _fixture().read_bytes()
    needle = audio[len(audio) // 2 : len(audio) // 2 + 64]
    assert _files_holding(stack.data_dir, needle) == []
    # Any temporary file would be new: older files (another checkout's copy of the
    # fixtures, say) are not this run's doing.
    tmp = [
        p
        for p in _files_holding(Path(tempfile.gettempdir()), needle)
        if FIXTURES not in p.parents and p.stat().st_mtime >= started
    ]
    assert tmp == []


async def test_a_call_whose_job_went_missing_is_queued_again_and_finishes(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Redis refused the job at upload time: the upload still succeeded, the call sat
    in TRANSCRIBING, and the worker's sweep queued it again later; never stuck."""

    async def refused(*_: Any, **__: Any) -> bool:
        raise ConnectionError("redis is down")

    monkeypatch.setattr(ingest, "enqueue", refused)
    owner = await _uploaded_call(gql, api, runtime)
    monkeypatch.undo()
    assert (await _read(gql, owner))["status"] == "TRANSCRIBING"
    job_id = transcription_job_id(raw_id(owner["call_id"]))
    # Too soon: other tenants' calls may be due (the sweep covers them all), not this one.
    await requeue_stuck_calls_job({"runtime": runtime})
    assert await runtime.redis.zscore(QUEUE, job_id) is None
    clock.advance(timedelta(minutes=runtime.settings.transcription_requeue_minutes + 1))
    try:
        assert await requeue_stuck_calls_job({"runtime": runtime}) >= 1
        assert await runtime.redis.zscore(QUEUE, job_id) is not None
        # Queued once: a second sweep finds the job already waiting.
        assert await requeue_stuck_calls_job({"runtime": runtime}) == 0
        await _run_worker(runtime)
    finally:
        clock.advance(-timedelta(minutes=runtime.settings.transcription_requeue_minutes + 1))
    assert (await _read(gql, owner))["status"] == "GENERATING"

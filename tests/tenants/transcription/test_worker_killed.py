"""A worker killed mid-transcription never leaves the call stuck: real `audora worker`
processes, the first killed with SIGKILL while it transcribes, the second finishing
the call. The job renews a short lease on arq's in-progress mark (here two seconds), so
the second worker takes it up within that, not after the job's hour-long timeout."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from audora.platform.jobs.queue import QUEUE
from audora.platform.runtime import Runtime
from audora.tenants.transcription.sweep import transcription_job_id

from audora_testing import (
    REPO,
    GraphQL,
    create_call,
    create_profile,
    raw_id,
    sign_up,
    upload_path,
)

FLAC = Path(__file__).resolve().parents[2] / "fixtures" / "calls" / "brightside-dental.flac"
LEASE_SECONDS = 2
IN_PROGRESS = "arq:in-progress:"  # arq.constants.in_progress_key_prefix
CALL = "query($id: ID!) { call(id: $id) { status transcript { text } } }"


def _flac() -> bytes:
    return FLAC.read_bytes()


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "audora"), "worker"],
            cwd=REPO,
            env={**env, "AUDORA_JOB_LEASE_SECONDS": str(LEASE_SECONDS)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def _call(gql: GraphQL, token: str, call_id: str) -> dict[str, Any]:
    result = await gql(CALL, {"id": call_id}, token=token)
    assert "errors" not in result, result
    call: dict[str, Any] = result["data"]["call"]
    return call


async def test_a_worker_killed_mid_transcription_leaves_the_call_to_the_next_worker(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    stack_env: dict[str, str],
    tmp_path: Path,
) -> None:
    await runtime.redis.delete(QUEUE)
    owner = await sign_up(gql, "Interrupted Studio")
    profile = await create_profile(gql, owner["token"], "Brightside Dental")
    call_id = await create_call(gql, owner["token"], profile["id"])
    put = await api.put(
        await upload_path(gql, owner["token"], call_id),
        content=_flac(),
        headers={"content-type": "audio/flac"},
    )
    assert put.status_code == 201, put.text
    job_id = transcription_job_id(raw_id(call_id))

    workers: list[subprocess.Popen[bytes]] = []
    try:
        first = _worker(stack_env, tmp_path / "first.log")
        workers.append(first)
        # The job has started and holds its lease: arq's mark, shortened to the lease.
        deadline = time.monotonic() + 60
        while not 0 < await runtime.redis.pttl(IN_PROGRESS + job_id) <= LEASE_SECONDS * 1000:
            assert first.poll() is None, (tmp_path / "first.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "first.log").read_text()
            await asyncio.sleep(0.02)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)

        # Killed mid-job: the call is still transcribing and its job still queued.
        assert (await _call(gql, owner["token"], call_id))["status"] == "TRANSCRIBING"
        assert await runtime.redis.zscore(QUEUE, job_id) is not None

        second = _worker(stack_env, tmp_path / "second.log")
        workers.append(second)
        deadline = time.monotonic() + 60
        while (call := await _call(gql, owner["token"], call_id))["status"] == "TRANSCRIBING":
            assert second.poll() is None, (tmp_path / "second.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "second.log").read_text()
            await asyncio.sleep(0.2)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=30)
    # Transcribed by the second worker, which then goes on to the documents (it may
    # have finished them too before the poll looked).
    assert call["status"] in {"GENERATING", "READY"}, call
    text = call["transcript"]["text"].lower()
    assert all(word in text for word in ("booking", "insurance", "calendar", "june")), text

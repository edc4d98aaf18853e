"""C1: accounts can be suspended on credible evidence of recording without consent. An
operator command suspends (with a reason) and lifts it; each change is in the tenant's
own audit log; a suspended account's recordings are not processed until it is writable
again, and then they are."""

from __future__ import annotations

import getpass
import subprocess
import sys
from datetime import timedelta
from typing import Any

import httpx

from audora.platform.clock import FrozenClock
from audora.platform.jobs.queue import QUEUE
from audora.platform.jobs.worker import FUNCTIONS
from audora.platform.runtime import Runtime
from audora.tenants.transcription.sweep import TRANSCRIBE_JOB, requeue_stuck_calls_job

from audora_testing import (
    REPO,
    GraphQL,
    create_call,
    create_profile,
    raw_id,
    run_audora,
    run_jobs,
    sign_up,
    upload_path,
)

SAMPLE = REPO / "platform" / "demo" / "sample_call.ogg"


def _sample() -> bytes:
    return SAMPLE.read_bytes()


EVENTS = """
query { me { account { status } } auditLog(first: 10, action: "account.") {
  edges { node { actor action target details } } } }
"""
CALL = "query($id: ID!) { call(id: $id) { status transcript { text } } }"


def _audora(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "audora.platform.cli.main", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def _events(gql: GraphQL, token: str) -> tuple[str, list[dict[str, Any]]]:
    result = await gql(EVENTS, token=token)
    assert "errors" not in result, result
    nodes = [
        e["node"]
        for e in result["data"]["auditLog"]["edges"]
        if e["node"]["action"] in ("account.suspended", "account.unsuspended")
    ]
    return result["data"]["me"]["account"]["status"], nodes


async def test_an_operator_suspends_an_account_with_a_reason_its_audit_log_keeps(
    gql: GraphQL, stack_env: dict[str, str]
) -> None:
    owner = await sign_up(gql, "Reported Studio")
    account = owner["account"]["id"]
    reason = "client complaint #4411: call recorded without notice"

    out = run_audora(stack_env, "tenants", "suspend", "--tenant", account, "--reason", reason)
    assert out.strip() == f"{raw_id(account)} ACTIVE -> SUSPENDED"
    status, events = await _events(gql, owner["token"])
    assert status == "SUSPENDED"
    assert events == [
        {
            "actor": f"operator:{getpass.getuser()}",
            "action": "account.suspended",
            "target": f"account:{raw_id(account)}",
            "details": {"reason": reason},
        }
    ]

    # Twice is refused, as is a suspension without a reason; neither is recorded.
    again = _audora(stack_env, "tenants", "suspend", "--tenant", account, "--reason", "again")
    assert again.returncode == 1
    assert "SUSPENDED" in again.stderr
    assert len((await _events(gql, owner["token"]))[1]) == 1

    out = run_audora(stack_env, "tenants", "unsuspend", "--tenant", account, "--reason", "cleared")
    assert out.strip() == f"{raw_id(account)} SUSPENDED -> ACTIVE"
    status, events = await _events(gql, owner["token"])
    assert status == "ACTIVE"
    assert [(e["action"], e["details"]) for e in events] == [
        ("account.unsuspended", {"reason": "cleared"}),
        ("account.suspended", {"reason": reason}),
    ]
    blank = _audora(stack_env, "tenants", "suspend", "--tenant", account, "--reason", "  ")
    assert blank.returncode == 1
    assert "needs a reason" in blank.stderr
    assert (await _events(gql, owner["token"]))[0] == "ACTIVE"


async def test_a_suspended_accounts_recording_waits_and_is_processed_once_lifted(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    stack_env: dict[str, str],
) -> None:
    await runtime.redis.delete(QUEUE)
    owner = await sign_up(gql, "Paused Studio")
    profile = await create_profile(gql, owner["token"], "Harbor Cafe")
    call_id = await create_call(gql, owner["token"], profile["id"])
    put = await api.put(
        await upload_path(gql, owner["token"], call_id),
        content=_sample(),
        headers={"content-type": "audio/ogg"},
    )
    assert put.status_code == 201, put.text
    account = owner["account"]["id"]
    run_audora(stack_env, "tenants", "suspend", "--tenant", account, "--reason", "evidence")

    transcribe = [f for f in FUNCTIONS if getattr(f, "name", None) == TRANSCRIBE_JOB]
    assert len(transcribe) == 1
    await run_jobs(runtime, transcribe)
    call = (await gql(CALL, {"id": call_id}, token=owner["token"]))["data"]["call"]
    assert call == {"status": "TRANSCRIBING", "transcript": None}
    # The sweep leaves a suspended account alone.
    late = timedelta(minutes=runtime.settings.transcription_requeue_minutes + 1)
    clock.advance(late)
    try:
        assert await requeue_stuck_calls_job({"runtime": runtime}) == 0

        run_audora(stack_env, "tenants", "unsuspend", "--tenant", account)
        assert await requeue_stuck_calls_job({"runtime": runtime}) == 1
        await run_jobs(runtime, transcribe)
    finally:
        clock.advance(-late)
    call = (await gql(CALL, {"id": call_id}, token=owner["token"]))["data"]["call"]
    assert call["status"] == "GENERATING"
    assert "stripe" in call["transcript"]["text"].lower()

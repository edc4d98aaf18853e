"""`audora demo` against the API served over TLS as `make run` serves it, with a real
`audora worker` transcribing: it signs up a demo account, uploads the project's sample
call, follows its progress to READY and prints the transcript and the four documents,
then exits 0. Without a worker it gives up at its timeout and exits non-zero."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from audora.platform.jobs.queue import QUEUE
from audora.platform.runtime import Runtime

from audora_testing import REPO, Served


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "audora"), "worker"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _stop(worker: subprocess.Popen[bytes]) -> None:
    worker.terminate()
    worker.wait(timeout=30)


async def _demo(env: dict[str, str], served: Served, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "audora"),
        "demo",
        "--api-url",
        served.url,
        *args,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_the_demo_signs_up_uploads_the_sample_and_prints_its_transcript_and_documents(
    served: Served, stack_env: dict[str, str], runtime: Runtime, tmp_path: Path
) -> None:
    await runtime.redis.delete(QUEUE)
    log = tmp_path / "worker.log"
    worker = _worker(stack_env, log)
    demo = await _demo(stack_env, served, "--timeout", "150")
    try:
        async with asyncio.timeout(180):
            stdout, stderr = await demo.communicate()
    finally:
        if demo.returncode is None:
            demo.terminate()
            await demo.wait()
        _stop(worker)
    text = stdout.decode()
    assert demo.returncode == 0, text + stderr.decode() + log.read_text(errors="replace")
    assert f"Signed up a demo account on {served.url}" in text
    assert "password: " in text
    assert "Uploaded the sample call" in text
    transcript = text.split("## Transcript", 1)[1].lower()
    for words in ("harbor cafe", "stripe", "offline", "20,000", "march"):
        assert words in transcript, (words, transcript)
    documents = text.split("## Transcript", 1)[1]
    for heading in ("Product requirements", "Task list", "Statement of work", "Client brief"):
        assert f"## {heading}" in documents, (heading, documents)
    assert "$20,000" in documents
    assert "Stripe" in documents
    assert f"Explore them in GraphiQL: {served.url}/graphql" in text


async def test_without_a_worker_the_demo_times_out_and_exits_non_zero(
    served: Served, stack_env: dict[str, str], runtime: Runtime
) -> None:
    demo = await _demo(stack_env, served, "--timeout", "1")
    stdout, stderr = await demo.communicate()
    await runtime.redis.delete(QUEUE)  # the job this demo queued stays for no one
    assert demo.returncode == 2, stderr.decode()
    assert "Uploaded the sample call" in stdout.decode()
    assert "timed out after 1s with the call TRANSCRIBING" in stderr.decode()
    # Not a terminal: one progress line per stage, no bar redrawn in place.
    assert "[2/4] TRANSCRIBING after 0s" in stderr.decode()
    assert "\r" not in stderr.decode()

"""P1, end to end on the real stack: each synthetic client call of the fixtures is
uploaded through the API, transcribed by the embedded model and written up by the
embedded generator in the worker's jobs, and ends READY with its transcript and four
documents; read back over GraphQL, the documents hold the call's facts in the right
places (budget and deadline in the SOW and the brief, requirements, integrations and
constraints in the PRD, action items with their due words in the task list).

The documents are made from what the model heard, so a fact it garbled ("Dentrix" heard
as "then tricks") cannot be expected anywhere: the facts the transcript kept are all
checked, and most are kept. A recording carries no speaker labels, so an owner is
expected only where the call names them, and never someone else.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from audora.platform.jobs.queue import QUEUE
from audora.platform.jobs.worker import FUNCTIONS
from audora.platform.runtime import Runtime
from audora.tenants.calls.content import DocumentKind
from audora.tenants.documents.generator import GeneratedDocument

from audora_testing import GraphQL, create_call, create_profile, run_jobs, sign_up, upload_path
from fixture_facts import FIXTURES, NAMES, check_facts, fixture_call

READ = """
query($id: ID!) {
  call(id: $id) {
    status failureReason progress { stage percent }
    transcript { text segments { speaker } }
    recording { deleteAfter }
    documents { kind title markdown structured version }
  }
}
"""


async def _ready_call(
    name: str, gql: GraphQL, api: httpx.AsyncClient, runtime: Runtime
) -> dict[str, Any]:
    await runtime.redis.delete(QUEUE)  # nothing another test queued runs here
    owner = await sign_up(gql, f"Fixture {name}")
    profile = await create_profile(gql, owner["token"], fixture_call(name).data["client"])
    call_id = await create_call(
        gql, owner["token"], profile["id"], fixture_call(name).data["title"]
    )
    path = await upload_path(gql, owner["token"], call_id)
    audio = (FIXTURES / f"{name}.flac").read_bytes()
    response = await api.put(path, content=audio, headers={"content-type": "audio/flac"})
    assert response.status_code == 201, response.text

    # The worker's own job list: transcription, then the generation it queues.
    await run_jobs(runtime, FUNCTIONS)

    result = await gql(READ, {"id": call_id}, token=owner["token"])
    assert "errors" not in result, result
    call: dict[str, Any] = result["data"]["call"]
    return call


@pytest.mark.parametrize("name", NAMES)
async def test_an_uploaded_fixture_call_ends_ready_with_four_documents_holding_its_facts(
    name: str, gql: GraphQL, api: httpx.AsyncClient, runtime: Runtime
) -> None:
    call = await _ready_call(name, gql, api, runtime)
    assert call["status"] == "READY", call["failureReason"]
    assert call["failureReason"] is None
    assert call["recording"]["deleteAfter"] is not None  # the audio's 72 hours have begun
    said = call["transcript"]["text"]
    assert len(said) > 500

    docs = {
        DocumentKind(d["kind"]): GeneratedDocument(
            DocumentKind(d["kind"]), d["title"], d["markdown"], d["structured"]
        )
        for d in call["documents"]
    }
    assert set(docs) == set(DocumentKind)
    assert all(d["version"] == 1 for d in call["documents"])
    checked = check_facts(docs, fixture_call(name).facts, said=said)
    # Most facts survive the recogniser: the check is far from vacuous.
    assert checked >= 10, checked

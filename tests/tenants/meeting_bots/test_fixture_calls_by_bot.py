"""P1 and the meeting-bot path end to end: each fixture call arrives as a bot's
recording (a signed `recording.ready` with the media and the bot's speaker timeline),
is fetched, transcribed with speaker labels and written up by the worker's jobs; the
call ends READY and its documents hold the facts the model heard, and now that speakers
are known, every action item has its right owner ("I will send you a statement of
work by Friday" is Sam's because Sam said it).

The provider's stand-in reports who spoke when as a bot does: the fixture script's
turns laid over the recording's stretches of sound (`fixture_facts.turn_timeline`).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from audora.platform.clock import FrozenClock
from audora.platform.jobs.queue import QUEUE
from audora.platform.jobs.worker import FUNCTIONS
from audora.platform.runtime import Runtime
from audora.tenants.calls.content import DocumentKind
from audora.tenants.documents.generator import GeneratedDocument

from audora_testing import GraphQL, create_call, create_profile, run_jobs, sign_up
from bot_provider import ProviderState
from fixture_facts import FIXTURES, NAMES, check_facts, fixture_call, turn_timeline

DISPATCH = """
mutation($input: DispatchMeetingBotInput!) { dispatchMeetingBot(input: $input) { id } }
"""
READ = """
query($id: ID!) {
  call(id: $id) {
    status failureReason
    bot { status }
    transcript { text segments { speaker } }
    documents { kind title markdown structured }
  }
}
"""
MEETING = "https://meet.google.com/abc-defg-hij"


@pytest.mark.parametrize("name", NAMES)
async def test_a_fixture_call_recorded_by_the_bot_names_every_owner_in_its_task_list(
    name: str,
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    provider: ProviderState,
    sign: Any,
) -> None:
    await runtime.redis.delete(QUEUE)
    labels = fixture_call(name).data
    provider.media = (FIXTURES / f"{name}.flac").read_bytes()
    owner = await sign_up(gql, f"Bot fixture {name}")
    profile = await create_profile(gql, owner["token"], labels["client"])
    call_id = await create_call(gql, owner["token"], profile["id"], labels["title"])
    sent = await gql(
        DISPATCH, {"input": {"callId": call_id, "meetingUrl": MEETING}}, token=owner["token"]
    )
    assert "errors" not in sent, sent
    bot_id = provider.created[-1]["id"]

    timeline = turn_timeline(name)
    event = {
        "type": "recording.ready",
        "timestamp": clock.now().isoformat(),
        "data": {
            "bot_id": bot_id,
            "media_url": provider.media_url(bot_id),
            "speaker_timeline": timeline,
        },
    }
    body = json.dumps(event).encode()
    answer = await api.post(
        "/webhooks/meeting-bot", content=body, headers=sign(body, int(clock.now().timestamp()))
    )
    assert answer.status_code == 202, answer.text

    await run_jobs(runtime, FUNCTIONS)

    result = await gql(READ, {"id": call_id}, token=owner["token"])
    assert "errors" not in result, result
    call = result["data"]["call"]
    assert call["status"] == "READY", call["failureReason"]
    assert call["bot"]["status"] == "PROVIDER_DELETED"
    speakers = {s["speaker"] for s in call["transcript"]["segments"]}
    assert speakers == {turn["speaker"] for turn in timeline}

    docs = {
        DocumentKind(d["kind"]): GeneratedDocument(
            DocumentKind(d["kind"]), d["title"], d["markdown"], d["structured"]
        )
        for d in call["documents"]
    }
    assert set(docs) == set(DocumentKind)
    facts = fixture_call(name).facts
    checked = check_facts(docs, facts, said=call["transcript"]["text"], speakers_labelled=True)
    assert checked >= 10, checked
    owners = {item["owner"] for item in docs[DocumentKind.TASK_LIST].structured["items"]}
    for action in facts["action_items"]:
        assert any(o and action["owner"] in o for o in owners), (action, owners)

"""The meeting-bot path on the real stack, against a local TLS stand-in of the provider:
a bot is sent only for a consented call of an active account (C1); a correctly signed
`recording.ready` brings the media home encrypted as uploads are, the provider's copy is
deleted and that deletion verified and audited (S2), and the transcript carries the
bot's speaker labels; bad, stale, replayed or unknown deliveries change nothing."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import timedelta
from typing import Any

import httpx
import pytest
from arq.worker import func
from sqlalchemy import Engine, text

from audora.platform.clock import FrozenClock
from audora.platform.config import Settings
from audora.platform.jobs.queue import QUEUE
from audora.platform.metrics.gauges import BOT_MEDIA_NOT_DELETED, read_gauges
from audora.platform.runtime import Runtime
from audora.tenants.meeting_bots.events import fetch_job_id
from audora.tenants.meeting_bots.jobs import (
    DELETION_TRIES,
    MAX_TRIES,
    delete_bot_media_job,
    fetch_bot_recording_job,
)
from audora.tenants.meeting_bots.sweep import STUCK_AFTER, requeue_stuck_bot_jobs
from audora.tenants.transcription.jobs import transcribe_call_job

from audora_testing import (
    GraphQL,
    create_call,
    create_profile,
    error_codes,
    raw_id,
    raw_objects,
    run_jobs,
    schema_of,
    seat,
    sign_up,
)
from bot_provider import FIXTURE, ProviderState

DISPATCH = """
mutation($input: DispatchMeetingBotInput!) {
  dispatchMeetingBot(input: $input) { id status bot { status dispatchedAt } }
}
"""
MEETING = "https://us02web.zoom.us/j/81234567890?pwd=Zm9vYmFy"

CALL = """
query($id: ID!) {
  call(id: $id) {
    status failureReason
    bot { status recordingReadyAt providerDeletedAt failureReason }
    recording { status sizeBytes }
    transcript { segments { startSeconds endSeconds speaker text } }
  }
}
"""

AUDIT = """
query($action: String) {
  auditLog(first: 50, action: $action) { edges { node { actor action target details } } }
}
"""

# Who spoke when in the fixture call, roughly: enough for every segment to get a name.
TIMELINE = [
    {"speaker": "Sam (agency)", "start_seconds": 0.0, "end_seconds": 12.0},
    {"speaker": "Dr. Maria Chen", "start_seconds": 12.0, "end_seconds": 40.0},
    {"speaker": "Leo", "start_seconds": 40.0, "end_seconds": 3600.0},
]


async def _dispatched(gql: GraphQL, runtime: Runtime, provider: ProviderState) -> dict[str, Any]:
    await runtime.redis.delete(QUEUE)  # other tests' jobs would run in this test's worker
    owner = await sign_up(gql, "Bot Studio")
    profile = await create_profile(gql, owner["token"], "Brightside Dental")
    call_id = await create_call(gql, owner["token"], profile["id"], "Discovery")
    result = await gql(
        DISPATCH, {"input": {"callId": call_id, "meetingUrl": MEETING}}, token=owner["token"]
    )
    assert "errors" not in result, result
    assert result["data"]["dispatchMeetingBot"]["bot"]["status"] == "DISPATCHED"
    return {**owner, "call_id": call_id, "bot_id": provider.created[-1]["id"]}


def _event(bot_id: str, media_url: str, kind: str = "recording.ready") -> bytes:
    data = {"bot_id": bot_id, "media_url": media_url, "speaker_timeline": TIMELINE}
    return json.dumps({"type": kind, "timestamp": "2026-01-01T00:00:00Z", "data": data}).encode()


async def _deliver(api: httpx.AsyncClient, headers: dict[str, str], body: bytes) -> httpx.Response:
    return await api.post("/webhooks/meeting-bot", content=body, headers=headers)


async def _read(gql: GraphQL, owner: dict[str, Any]) -> dict[str, Any]:
    result = await gql(CALL, {"id": owner["call_id"]}, token=owner["token"])
    assert "errors" not in result, result
    call: dict[str, Any] = result["data"]["call"]
    return call


async def _audit(gql: GraphQL, owner: dict[str, Any], action: str) -> list[dict[str, Any]]:
    result = await gql(AUDIT, {"action": action}, token=owner["token"])
    assert "errors" not in result, result
    return [e["node"] for e in reversed(result["data"]["auditLog"]["edges"])]


async def _work(runtime: Runtime, *, transcribe: bool = False) -> None:
    functions: list[Any] = [
        func(fetch_bot_recording_job, max_tries=MAX_TRIES),
        delete_bot_media_job,
    ]
    if transcribe:
        functions.append(func(transcribe_call_job, max_tries=3))
    await run_jobs(runtime, functions, retry_backoff_seconds=0.01, deletion_retry_seconds=0.01)


async def test_a_signed_recording_ready_brings_the_recording_home_and_the_provider_deletes_its_copy(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    superuser: Engine,
    clock: FrozenClock,
    provider: ProviderState,
    sign: Any,
) -> None:
    owner = await _dispatched(gql, runtime, provider)
    (created,) = provider.created
    assert created["meeting_url"] == MEETING
    assert created["recording_config"] == {
        "retention": {"type": "timed", "hours": settings.bot_provider_retention_hours}
    }

    body = _event(owner["bot_id"], provider.media_url(owner["bot_id"]))
    response = await _deliver(api, sign(body, int(clock.now().timestamp())), body)
    assert response.status_code == 202, response.text
    assert (await _read(gql, owner))["bot"]["status"] == "RECORDING_READY"

    await _work(runtime, transcribe=True)

    call = await _read(gql, owner)
    assert call["status"] == "GENERATING", call
    assert call["recording"] == {"status": "STORED", "sizeBytes": len(FIXTURE.read_bytes())}
    assert call["bot"]["status"] == "PROVIDER_DELETED"
    assert call["bot"]["providerDeletedAt"] is not None
    # Speaker labels come from the bot's timeline.
    speakers = {s["speaker"] for s in call["transcript"]["segments"]}
    assert speakers == {"Sam (agency)", "Dr. Maria Chen", "Leo"}
    # The provider was asked to delete its copy, and it is gone.
    assert provider.deletions == [owner["bot_id"]]
    assert owner["bot_id"] in provider.deleted
    (deleted,) = await _audit(gql, owner, "recording.provider_deleted")
    assert deleted["actor"] == "system:meeting-bot"
    assert deleted["details"] == {
        "bot": owner["bot_id"],
        "verified": True,
        "attempt": 1,
        "retryScheduled": False,
    }
    assert [e["action"] for e in await _audit(gql, owner, "bot.")] == [
        "bot.dispatched",
        "bot.recording_ready",
    ]
    # Stored encrypted, as uploads are.
    (stored,) = raw_objects(settings, owner["account"]["id"]).values()
    audio = FIXTURE.read_bytes()
    assert audio[len(audio) // 2 : len(audio) // 2 + 64] not in stored
    # Participants' names are sealed at rest; the spent media URL is gone.
    schema = schema_of(owner["account"]["id"])
    with superuser.connect() as conn:
        timeline = conn.execute(text(f"SELECT speaker_timeline FROM {schema}.recordings")).scalar()
        bot_row = conn.execute(
            text(f"SELECT media_url, speaker_timeline FROM {schema}.meeting_bots")
        ).one()
    assert timeline is not None
    assert b"Maria" not in bytes(timeline)
    assert tuple(bot_row) == (None, None)
    # A second delivery of the job (arq is at-least-once) finds nothing to do.
    tenant_id, call_id = str(raw_id(owner["account"]["id"])), str(raw_id(owner["call_id"]))
    assert await fetch_bot_recording_job({"runtime": runtime}, tenant_id, call_id) == (
        "nothing to do"
    )
    assert provider.deletions == [owner["bot_id"]]


async def test_bad_stale_replayed_and_unknown_deliveries_change_nothing(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    clock: FrozenClock,
    provider: ProviderState,
    sign: Any,
) -> None:
    owner = await _dispatched(gql, runtime, provider)
    body = _event(owner["bot_id"], provider.media_url(owner["bot_id"]))
    now = int(clock.now().timestamp())

    headers = sign(body, now)
    tampered = body.replace(b"recording.ready", b"recording.ready ")
    assert (await _deliver(api, headers, tampered)).status_code == 401
    wrong = {**headers, "webhook-signature": "v1," + "A" * 44}
    assert (await _deliver(api, wrong, body)).status_code == 401
    unsigned = {k: v for k, v in headers.items() if k != "webhook-signature"}
    assert (await _deliver(api, unsigned, body)).status_code == 401
    for missing in ("webhook-id", "webhook-timestamp"):
        partial = {k: v for k, v in headers.items() if k != missing}
        assert (await _deliver(api, partial, body)).status_code == 400
    # Signed six minutes ago (or ahead): outside the window, by the application clock.
    for skew in (-360, 360):
        stale = await _deliver(api, sign(body, now + skew), body)
        assert stale.status_code == 401
        assert "5-minute window" in stale.text
    # Over the size limit: refused unread.
    huge = b"{" + b" " * (1024 * 1024) + b"}"
    assert (await _deliver(api, sign(huge, now), huge)).status_code == 413
    # An unknown bot, correctly signed: acknowledged, nothing acts.
    other = _event("bot_unknown", provider.media_url("bot_unknown"))
    assert (await _deliver(api, sign(other, now), other)).json() == {"status": "ignored"}
    # Another event type: acknowledged and ignored.
    status = _event(owner["bot_id"], "https://x", kind="bot.status_change")
    assert (await _deliver(api, sign(status, now), status)).json() == {"status": "ignored"}
    assert (await _read(gql, owner))["bot"]["status"] == "DISPATCHED"
    assert await runtime.redis.zcard(QUEUE) == 0

    # The real delivery acts once; its replay, within the window, is acknowledged only.
    headers = sign(body, now, "msg_replayed")
    assert (await _deliver(api, headers, body)).status_code == 202
    assert await runtime.redis.zcard(QUEUE) == 1
    await runtime.redis.delete(QUEUE)
    replay = await _deliver(api, headers, body)
    assert (replay.status_code, replay.json()) == (200, {"status": "ignored"})
    assert await runtime.redis.zcard(QUEUE) == 0
    assert [e["action"] for e in await _audit(gql, owner, "bot.recording_ready")] == [
        "bot.recording_ready"
    ]
    # With no secret configured the endpoint does not exist.
    monkeypatch.setattr(settings, "bot_webhook_secret", "")
    assert (await _deliver(api, headers, body)).status_code == 404


async def test_a_bot_is_sent_only_for_a_call_the_seat_sees_of_an_active_account(
    gql: GraphQL,
    runtime: Runtime,
    superuser: Engine,
    provider: ProviderState,
) -> None:
    owner = await _dispatched(gql, runtime, provider)
    # A second bot for the same call: CONFLICT.
    again = await gql(
        DISPATCH,
        {"input": {"callId": owner["call_id"], "meetingUrl": MEETING}},
        token=owner["token"],
    )
    assert error_codes(again) == ["CONFLICT"]

    other = await sign_up(gql, "Other Studio")
    profile = await create_profile(gql, other["token"], "Client")
    own_call = await create_call(gql, other["token"], profile["id"])
    sent = len(provider.created)
    # Another tenant's call id: NOT_FOUND, exactly as a call that does not exist.
    theirs = await gql(
        DISPATCH,
        {"input": {"callId": owner["call_id"], "meetingUrl": MEETING}},
        token=other["token"],
    )
    assert error_codes(theirs) == ["NOT_FOUND"]
    # Links that are not https meeting links.
    for url in (
        "http://zoom.us/j/1",
        "https://evil.example/j/1",
        "https://zoom.us.evil.example/j/1",
        "https://user:pw@zoom.us/j/1",
        "https://zoom.us:8443/j/1",
        "zoom.us/j/1",
    ):
        bad = await gql(
            DISPATCH, {"input": {"callId": own_call, "meetingUrl": url}}, token=other["token"]
        )
        assert error_codes(bad) == ["BAD_USER_INPUT"], url
    # A viewer may not send one.
    viewer = await seat(gql, runtime, superuser, other, "VIEWER")
    refused = await gql(
        DISPATCH, {"input": {"callId": own_call, "meetingUrl": MEETING}}, token=viewer.token
    )
    assert error_codes(refused) == ["FORBIDDEN"]
    # A suspended account is read-only: no bot.
    with superuser.begin() as conn:
        conn.execute(
            text("UPDATE platform.accounts SET status = 'SUSPENDED' WHERE id = :id"),
            {"id": raw_id(other["account"]["id"])},
        )
    suspended = await gql(
        DISPATCH, {"input": {"callId": own_call, "meetingUrl": MEETING}}, token=other["token"]
    )
    assert error_codes(suspended) == ["FORBIDDEN"]
    assert len(provider.created) == sent


async def test_media_that_is_not_audio_fails_the_call_stores_nothing_and_is_still_deleted(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    clock: FrozenClock,
    provider: ProviderState,
    sign: Any,
) -> None:
    owner = await _dispatched(gql, runtime, provider)
    provider.media, provider.media_type = b"<html>not a recording</html>" * 10, "audio/flac"
    body = _event(owner["bot_id"], provider.media_url(owner["bot_id"]))
    assert (await _deliver(api, sign(body, int(clock.now().timestamp())), body)).status_code == 202
    await _work(runtime)

    call = await _read(gql, owner)
    assert call["status"] == "FAILED"
    assert call["failureReason"] == "the meeting bot's recording: the body is not an audio file"
    assert call["recording"] is None
    assert raw_objects(settings, owner["account"]["id"]) == {}
    assert call["bot"]["status"] == "PROVIDER_DELETED"
    assert provider.deletions == [owner["bot_id"]]


async def test_a_provider_that_keeps_the_file_is_audited_unverified_and_asked_again(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    provider: ProviderState,
    sign: Any,
) -> None:
    owner = await _dispatched(gql, runtime, provider)
    provider.keeps = 1  # the first deletion request is answered and ignored
    body = _event(owner["bot_id"], provider.media_url(owner["bot_id"]))
    assert (await _deliver(api, sign(body, int(clock.now().timestamp())), body)).status_code == 202
    await _work(runtime)

    events = await _audit(gql, owner, "recording.provider_deleted")
    assert [(e["details"]["verified"], e["details"]["retryScheduled"]) for e in events] == [
        (False, True),
        (True, False),
    ]
    assert provider.deletions == [owner["bot_id"]] * 2
    assert (await _read(gql, owner))["bot"]["status"] == "PROVIDER_DELETED"


async def test_a_provider_that_never_deletes_is_given_up_on_loudly(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    provider: ProviderState,
    sign: Any,
) -> None:
    owner = await _dispatched(gql, runtime, provider)
    provider.keeps = None
    before = await _undeleted(runtime)
    body = _event(owner["bot_id"], provider.media_url(owner["bot_id"]))
    assert (await _deliver(api, sign(body, int(clock.now().timestamp())), body)).status_code == 202
    await _work(runtime)

    events = await _audit(gql, owner, "recording.provider_deleted")
    assert [e["details"]["verified"] for e in events] == [False] * DELETION_TRIES
    assert [e["details"]["retryScheduled"] for e in events][-1] is False
    (failed,) = await _audit(gql, owner, "recording.provider_deletion_failed")
    assert failed["details"]["attempt"] == DELETION_TRIES
    assert (await _read(gql, owner))["bot"]["status"] == "DELETION_UNVERIFIED"
    # I4: the give-up is a gauge the alert rules page on, not only an error log...
    assert await _undeleted(runtime) == before + 1

    # ...until the provider deletes it and the operator's try verifies it.
    provider.keeps = 0
    job = {"runtime": runtime}
    tenant, call = str(raw_id(owner["account"]["id"])), str(raw_id(owner["call_id"]))
    assert await delete_bot_media_job(job, tenant, call) == "provider copy deleted"
    assert (await _read(gql, owner))["bot"]["status"] == "PROVIDER_DELETED"
    assert await _undeleted(runtime) == before


async def _undeleted(runtime: Runtime) -> float:
    gauges = await read_gauges(runtime.redis, runtime.clock.now())
    return gauges[BOT_MEDIA_NOT_DELETED.name]


async def test_media_fetch_follows_no_redirect_and_refuses_plain_http_and_private_hosts(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    clock: FrozenClock,
    provider: ProviderState,
    sign: Any,
) -> None:
    port = provider.base_url.rsplit(":", 1)[1]
    cases = {
        "redirect": (
            provider.base_url + "/media/{bot}.flac",
            "the meeting bot's recording: the media URL redirected, and redirects are not followed",
        ),
        "http": (
            f"http://localhost:{port}/media/{{bot}}.flac",
            "the meeting bot's recording: the media URL must be an https URL",
        ),
        "loopback": (
            f"https://127.0.0.1:{port}/media/{{bot}}.flac",
            "the meeting bot's recording: 127.0.0.1 resolves to a loopback address; "
            "it cannot be reached",
        ),
    }
    provider.redirect_to = "https://example.com/elsewhere.flac"
    for name, (url, reason) in cases.items():
        owner = await _dispatched(gql, runtime, provider)
        body = _event(owner["bot_id"], url.format(bot=owner["bot_id"]))
        delivered = await _deliver(api, sign(body, int(clock.now().timestamp())), body)
        assert delivered.status_code == 202
        await _work(runtime)
        call = await _read(gql, owner)
        assert (call["status"], call["failureReason"]) == ("FAILED", reason), name
        assert raw_objects(settings, owner["account"]["id"]) == {}


async def test_a_recording_whose_job_went_missing_is_fetched_and_deleted_after_the_sweep(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    provider: ProviderState,
    sign: Any,
) -> None:
    """Redis lost the fetch job after the webhook was answered: the recording is not
    left at the provider; the worker's sweep queues the job again."""
    owner = await _dispatched(gql, runtime, provider)
    body = _event(owner["bot_id"], provider.media_url(owner["bot_id"]))
    assert (await _deliver(api, sign(body, int(clock.now().timestamp())), body)).status_code == 202
    job_id = fetch_job_id(raw_id(owner["call_id"]))
    await runtime.redis.delete(QUEUE, f"arq:job:{job_id}")

    await requeue_stuck_bot_jobs({"runtime": runtime})  # (other tests' bots may be due)
    assert await runtime.redis.exists(f"arq:job:{job_id}") == 0  # too soon for this one
    clock.advance(STUCK_AFTER + timedelta(minutes=1))
    try:
        assert await requeue_stuck_bot_jobs({"runtime": runtime}) >= 1
        assert await runtime.redis.exists(f"arq:job:{job_id}") == 1
        await _work(runtime)
    finally:
        clock.advance(-(STUCK_AFTER + timedelta(minutes=1)))
    call = await _read(gql, owner)
    assert call["status"] == "TRANSCRIBING"
    assert call["bot"]["status"] == "PROVIDER_DELETED"
    assert owner["bot_id"] in provider.deletions


async def test_two_dispatches_racing_for_one_call_leave_one_bot_and_recall_the_other(
    gql: GraphQL, runtime: Runtime, provider: ProviderState
) -> None:
    owner = await sign_up(gql, "Racing Studio")
    profile = await create_profile(gql, owner["token"], "Client")
    call_id = await create_call(gql, owner["token"], profile["id"])
    variables = {"input": {"callId": call_id, "meetingUrl": MEETING}}
    provider.creations_together = threading.Barrier(2)  # both pass the first check
    results = await asyncio.gather(
        *(gql(DISPATCH, variables, token=owner["token"]) for _ in range(2))
    )
    assert sorted(error_codes(r) for r in results) == [[], ["CONFLICT"]]
    assert len(provider.created) == 2
    # The bot Audora could not record was called back; the other is the call's.
    (recalled,) = provider.recalled
    assert recalled in {b["id"] for b in provider.created}
    events = await _audit(gql, {**owner, "call_id": call_id}, "bot.dispatched")
    (kept,) = [e["details"]["bot"] for e in events]
    assert kept != recalled


async def test_a_suspended_accounts_bot_recording_is_not_kept_but_still_deleted_at_the_provider(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    superuser: Engine,
    clock: FrozenClock,
    provider: ProviderState,
    sign: Any,
) -> None:
    owner = await _dispatched(gql, runtime, provider)
    body = _event(owner["bot_id"], provider.media_url(owner["bot_id"]))
    assert (await _deliver(api, sign(body, int(clock.now().timestamp())), body)).status_code == 202
    with superuser.begin() as conn:
        conn.execute(
            text("UPDATE platform.accounts SET status = 'SUSPENDED' WHERE id = :id"),
            {"id": raw_id(owner["account"]["id"])},
        )
    await _work(runtime)

    call = await _read(gql, owner)
    assert (call["status"], call["failureReason"]) == (
        "FAILED",
        "the meeting bot's recording: the account is read-only; the recording was not kept",
    )
    assert raw_objects(settings, owner["account"]["id"]) == {}
    assert call["bot"]["status"] == "PROVIDER_DELETED"
    assert provider.deletions == [owner["bot_id"]]

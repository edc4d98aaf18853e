"""Pushing a task list to Linear, Notion or a signed webhook, on the real stack against
local stand-ins of those APIs (https, certificates from a test CA): nothing is sent
before a person confirms; a second push updates what the first made; credentials are
sealed; destinations that are not public https are refused; 5xx is retried and 401
fails with a reason (E6, A1, A2)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from arq.worker import func
from sqlalchemy import Engine, text

from audora.platform import ids
from audora.platform.clock import FrozenClock
from audora.platform.config import Settings
from audora.platform.db.tenant_binding import TenantRef, tenant_transaction
from audora.platform.db.tenant_names import tenant_schema
from audora.platform.http.destinations import DestinationPolicy
from audora.platform.jobs.queue import QUEUE
from audora.platform.runtime import Runtime
from audora.tenants.calls.content import DocumentKind, store_document
from audora.tenants.integrations.jobs import MAX_TRIES, push_job_id, push_task_list_job
from audora.tenants.integrations.sweep import STUCK_AFTER, requeue_stuck_pushes_job

from audora_testing import (
    GraphQL,
    create_call,
    create_profile,
    error_codes,
    moved,
    raw_id,
    run_jobs,
    schema_of,
    seat,
    sign_up,
)
from standins import (
    LINEAR_KEY,
    NOTION_TOKEN,
    LinearHandler,
    NotionHandler,
    StandIn,
    WebhookHandler,
    self_signed,
    serve,
    serve_trusted,
)

CONNECT = """
mutation Connect($input: ConnectIntegrationInput!) {
  connectIntegration(input: $input) {
    integration { id kind name url teamId databaseId credentialHint }
    signingSecret
  }
}
"""

PREPARE = """
mutation Prepare($input: PreparePushInput!) {
  preparePush(input: $input) { id status itemCount documentVersion preview { itemCount titles } }
}
"""

CONFIRM = """
mutation Confirm($id: ID!) {
  confirmPush(id: $id) { id status confirmedBy { email } confirmedAt }
}
"""

READ_PUSH = """
query Push($id: ID!) { push(id: $id) { id status attempts lastError finishedAt } }
"""

ITEMS = [
    {
        "id": "t1",
        "title": "Send the booking flow wireframes",
        "owner": "Dana",
        "due": "next Friday",
        "due_date": "2026-12-04",
        "priority": "high",
        "source_seconds": 61.5,
    },
    {
        "id": "t2",
        "title": "Confirm the insurance API access",
        "owner": "Sam",
        "due": None,
        "due_date": None,
        "priority": "medium",
        "source_seconds": 95,
    },
    {
        "id": "t3",
        "title": "Draft the statement of work",
        "owner": "Olive",
        "due": "June",
        "due_date": None,
        "priority": "low",
        "source_seconds": 130,
    },
]


@pytest.fixture(scope="module")
def linear(settings: Settings) -> Iterator[StandIn]:
    assert settings.outbound_ca_file is not None
    with serve_trusted(LinearHandler, settings.outbound_ca_file.parent) as stand_in:
        yield stand_in


@pytest.fixture(scope="module")
def notion(settings: Settings) -> Iterator[StandIn]:
    assert settings.outbound_ca_file is not None
    with serve_trusted(NotionHandler, settings.outbound_ca_file.parent) as stand_in:
        yield stand_in


@pytest.fixture(scope="module")
def receiver(settings: Settings) -> Iterator[StandIn]:
    assert settings.outbound_ca_file is not None
    with serve_trusted(WebhookHandler, settings.outbound_ca_file.parent) as stand_in:
        yield stand_in


async def _task_list(
    runtime: Runtime,
    owner: dict[str, Any],
    call_id: str,
    items: list[dict[str, Any]],
    kind: DocumentKind = DocumentKind.TASK_LIST,
) -> str:
    """Store (or store the next version of) the call's task list, as the generator does."""
    tenant = raw_id(owner["account"]["id"])
    async with tenant_transaction(runtime.tenant_engines, TenantRef(tenant_schema(tenant))) as uow:
        document = await store_document(
            uow,
            runtime.keys,
            tenant,
            raw_id(call_id),
            kind,
            "Tasks",
            "\n".join(f"- {i['title']}" for i in items),
            {"items": items},
        )
        await uow.commit()
    return ids.encode(ids.Kind.DOCUMENT, document)


async def _account_with_task_list(
    gql: GraphQL, runtime: Runtime, items: list[dict[str, Any]] = ITEMS
) -> dict[str, Any]:
    await runtime.redis.delete(QUEUE)
    owner = await sign_up(gql, "Pushing Studio")
    profile = await create_profile(gql, owner["token"], "Brightside Dental")
    call_id = await create_call(gql, owner["token"], profile["id"], "Discovery")
    owner["call_id"] = call_id
    owner["document_id"] = await _task_list(runtime, owner, call_id, items)
    return owner


async def _connect(gql: GraphQL, token: str, **fields: Any) -> dict[str, Any]:
    result = await gql(CONNECT, {"input": {"name": "Delivery", **fields}}, token=token)
    assert "errors" not in result, result
    connected: dict[str, Any] = result["data"]["connectIntegration"]
    return connected


async def _prepare(gql: GraphQL, owner: dict[str, Any], integration_id: str) -> dict[str, Any]:
    result = await gql(
        PREPARE,
        {"input": {"documentId": owner["document_id"], "integrationId": integration_id}},
        token=owner["token"],
    )
    assert "errors" not in result, result
    push: dict[str, Any] = result["data"]["preparePush"]
    return push


async def _confirm(gql: GraphQL, owner: dict[str, Any], push_id: str) -> dict[str, Any]:
    result = await gql(CONFIRM, {"id": push_id}, token=owner["token"])
    assert "errors" not in result, result
    confirmed: dict[str, Any] = result["data"]["confirmPush"]
    return confirmed


async def _read(gql: GraphQL, owner: dict[str, Any], push_id: str) -> dict[str, Any]:
    result = await gql(READ_PUSH, {"id": push_id}, token=owner["token"])
    assert "errors" not in result, result
    push: dict[str, Any] = result["data"]["push"]
    return push


async def _work(runtime: Runtime) -> None:
    await run_jobs(
        runtime,
        [func(push_task_list_job, max_tries=MAX_TRIES)],
        retry_backoff_seconds=0,
    )


async def _push(
    gql: GraphQL, runtime: Runtime, owner: dict[str, Any], integration_id: str
) -> dict[str, Any]:
    prepared = await _prepare(gql, owner, integration_id)
    await _confirm(gql, owner, prepared["id"])
    await _work(runtime)
    return await _read(gql, owner, prepared["id"])


def _audit_actions(superuser: Engine, owner: dict[str, Any]) -> list[str]:
    with superuser.connect() as conn:
        rows = conn.execute(
            text(
                f"SELECT action FROM {schema_of(owner['account']['id'])}.audit_events ORDER BY seq"
            )
        )
        return [r.action for r in rows]


async def test_a_task_list_reaches_linear_only_once_confirmed_and_a_second_push_updates_it(
    gql: GraphQL, runtime: Runtime, linear: StandIn, superuser: Engine
) -> None:
    owner = await _account_with_task_list(gql, runtime)
    linear.reset()
    connected = await _connect(
        gql,
        owner["token"],
        kind="LINEAR",
        url=linear.url + "/graphql",
        apiKey=LINEAR_KEY,
        teamId="team-eng",
    )
    integration = connected["integration"]
    assert integration["credentialHint"] == "…6789"
    assert connected["signingSecret"] is None

    prepared = await _prepare(gql, owner, integration["id"])
    assert prepared["status"] == "PENDING_CONFIRMATION"
    assert prepared["preview"] == {"itemCount": 3, "titles": [i["title"] for i in ITEMS]}
    await _work(runtime)
    assert linear.received == []  # nothing is sent before a person confirms

    confirmed = await _confirm(gql, owner, prepared["id"])
    assert confirmed["status"] == "CONFIRMED"
    assert confirmed["confirmedBy"]["email"] == owner["email"]
    await _work(runtime)
    done = await _read(gql, owner, prepared["id"])
    assert done["status"] == "DONE", done
    assert done["attempts"] == 1
    assert len(linear.records) == 3
    assert all(r.headers["authorization"] == LINEAR_KEY for r in linear.received)
    first = {issue["title"]: issue for issue in linear.records.values()}
    assert {i["title"] for i in ITEMS} == set(first)
    wireframes = first["Send the booking flow wireframes"]
    assert wireframes["teamId"] == "team-eng"
    assert wireframes["priority"] == 2
    assert wireframes["dueDate"] == "2026-12-04"
    assert "Dana" in wireframes["description"]
    assert "1:01" in wireframes["description"]

    # The task list is edited: one title changes, an item is added. The next push
    # updates the three issues and creates one: no duplicates.
    edited = [
        {**ITEMS[0], "title": "Send the booking wireframes v2"},
        *ITEMS[1:],
        {"id": "t4", "title": "Book the kickoff"},
    ]
    await _task_list(runtime, owner, owner["call_id"], edited)
    linear.received.clear()
    second = await _push(gql, runtime, owner, integration["id"])
    assert second["status"] == "DONE", second
    assert len(linear.records) == 4
    assert sorted(issue["title"] for issue in linear.records.values()) == sorted(
        i["title"] for i in edited
    )
    operations = [r.json()["query"] for r in linear.received]
    assert sum("issueUpdate" in q for q in operations) == 3
    assert sum("issueCreate" in q for q in operations) == 1

    actions = _audit_actions(superuser, owner)
    assert actions.count("integration.connected") == 1
    assert actions.count("push.confirmed") == 2
    assert actions.count("push.done") == 2


async def test_a_task_list_reaches_a_notion_database_and_a_second_push_updates_the_pages(
    gql: GraphQL, runtime: Runtime, notion: StandIn
) -> None:
    owner = await _account_with_task_list(gql, runtime)
    notion.reset()
    integration = (
        await _connect(
            gql,
            owner["token"],
            kind="NOTION",
            url=notion.url,
            apiKey=NOTION_TOKEN,
            databaseId="0f3c9a1b2c3d4e5f8a9b0c1d2e3f4a5b",
        )
    )["integration"]
    first = await _push(gql, runtime, owner, integration["id"])
    assert first["status"] == "DONE", first
    assert len(notion.records) == 3
    for received in notion.received:
        assert received.headers["authorization"] == f"Bearer {NOTION_TOKEN}"
        assert received.headers["notion-version"] == "2022-06-28"
    page = next(iter(notion.records.values()))
    assert page["parent"] == {"database_id": "0f3c9a1b2c3d4e5f8a9b0c1d2e3f4a5b"}

    await _task_list(
        runtime, owner, owner["call_id"], [{**ITEMS[0], "title": "Wireframes, revised"}, *ITEMS[1:]]
    )
    notion.received.clear()
    second = await _push(gql, runtime, owner, integration["id"])
    assert second["status"] == "DONE", second
    assert len(notion.records) == 3
    assert [r.method for r in notion.received] == ["PATCH"] * 3
    titles = {
        p["properties"]["Name"]["title"][0]["text"]["content"] for p in notion.records.values()
    }
    assert "Wireframes, revised" in titles


async def test_a_signed_webhook_is_retried_after_a_500_with_the_same_id_and_signature(
    gql: GraphQL, runtime: Runtime, receiver: StandIn
) -> None:
    owner = await _account_with_task_list(gql, runtime)
    receiver.reset()
    connected = await _connect(gql, owner["token"], kind="WEBHOOK", url=receiver.url + "/hooks")
    secret = connected["signingSecret"]
    assert secret.startswith("whsec_")
    receiver.fail_next.append(500)

    done = await _push(gql, runtime, owner, connected["integration"]["id"])
    assert done["status"] == "DONE", done
    assert done["attempts"] == 2
    assert [r.path for r in receiver.received] == ["/hooks", "/hooks"]
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    key = base64.b64decode(secret.removeprefix("whsec_"))
    for received in receiver.received:
        h = received.headers
        signed = f"{h['webhook-id']}.{h['webhook-timestamp']}.".encode() + received.body
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        assert h["webhook-signature"] == f"v1,{expected}"
    items = receiver.received[-1].json()["data"]["items"]
    assert [i["title"] for i in items] == [i["title"] for i in ITEMS]
    # The same item at the same version carries the same delivery id on every delivery.
    assert [i["deliveryId"] for i in receiver.received[0].json()["data"]["items"]] == [
        i["deliveryId"] for i in items
    ]

    # The secret is shown once: the integration never shows it again.
    listed = await gql("{ integrations { credentialHint } }", token=owner["token"])
    assert secret not in str(listed)


async def test_a_push_gives_up_failed_and_audited_after_its_tries(
    gql: GraphQL, runtime: Runtime, receiver: StandIn, superuser: Engine
) -> None:
    owner = await _account_with_task_list(gql, runtime)
    receiver.reset()
    connected = await _connect(gql, owner["token"], kind="WEBHOOK", url=receiver.url + "/hooks")
    receiver.fail_next.extend([503] * MAX_TRIES)
    failed = await _push(gql, runtime, owner, connected["integration"]["id"])
    assert failed["status"] == "FAILED"
    assert failed["attempts"] == MAX_TRIES
    assert (
        failed["lastError"]
        == f"the webhook endpoint answered HTTP 503; gave up after {MAX_TRIES} tries"
    )
    assert "push.failed" in _audit_actions(superuser, owner)


async def test_a_refused_credential_fails_the_push_with_a_reason(
    gql: GraphQL, runtime: Runtime, linear: StandIn
) -> None:
    owner = await _account_with_task_list(gql, runtime)
    linear.reset()
    integration = (
        await _connect(
            gql,
            owner["token"],
            kind="LINEAR",
            url=linear.url + "/graphql",
            apiKey="lin_api_revoked000000",
            teamId="team-eng",
        )
    )["integration"]
    failed = await _push(gql, runtime, owner, integration["id"])
    assert failed["status"] == "FAILED"
    assert failed["attempts"] == 1  # a refusal is not retried
    assert failed["lastError"] == "Linear refused the credentials"
    assert linear.records == {}


async def test_a_self_signed_destination_fails_the_push(
    gql: GraphQL, runtime: Runtime, tmp_path: Any
) -> None:
    owner = await _account_with_task_list(gql, runtime)
    cert, key = self_signed(tmp_path)
    with serve(WebhookHandler, cert, key) as impostor:
        connected = await _connect(gql, owner["token"], kind="WEBHOOK", url=impostor.url + "/in")
        failed = await _push(gql, runtime, owner, connected["integration"]["id"])
    assert failed["status"] == "FAILED"
    assert failed["lastError"] == "the webhook endpoint's TLS certificate did not verify"
    assert impostor.received == []


async def test_a_destination_that_now_resolves_to_loopback_fails_the_push_unsent(
    gql: GraphQL, runtime: Runtime, receiver: StandIn, settings: Settings
) -> None:
    owner = await _account_with_task_list(gql, runtime)
    receiver.reset()
    connected = await _connect(gql, owner["token"], kind="WEBHOOK", url=receiver.url + "/in")
    prepared = await _prepare(gql, owner, connected["integration"]["id"])
    await _confirm(gql, owner, prepared["id"])
    # Saved while allowed; at connect time the worker's guard (without the tests'
    # exemption for localhost) finds it resolving to loopback.
    strict = DestinationPolicy(extra_ca=settings.outbound_ca_file)
    await run_jobs(
        runtime, [func(push_task_list_job, max_tries=MAX_TRIES)], destination_policy=strict
    )
    failed = await _read(gql, owner, prepared["id"])
    assert failed["status"] == "FAILED"
    assert failed["lastError"] == "the webhook endpoint resolves to an address Audora does not call"
    assert receiver.received == []


async def test_credentials_and_destinations_are_sealed_in_the_database(
    gql: GraphQL, runtime: Runtime, linear: StandIn, superuser: Engine
) -> None:
    owner = await _account_with_task_list(gql, runtime)
    await _connect(
        gql,
        owner["token"],
        kind="LINEAR",
        url=linear.url + "/graphql",
        apiKey=LINEAR_KEY,
        teamId="team-sealed",
    )
    await _push(
        gql,
        runtime,
        owner,
        (await gql("{ integrations { id } }", token=owner["token"]))["data"]["integrations"][0][
            "id"
        ],
    )
    with superuser.connect() as conn:
        schema = schema_of(owner["account"]["id"])
        rows = conn.execute(text(f"SELECT * FROM {schema}.integrations")).mappings().all()
        links = conn.execute(text(f"SELECT * FROM {schema}.integration_links")).mappings().all()
    raw = b"".join(
        bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode()
        for row in [*rows, *links]
        for v in row.values()
    )
    for secret in (LINEAR_KEY, "team-sealed", "localhost", *linear.records):
        assert secret.encode() not in raw, secret
    assert len(links) == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/in",
        "https://127.0.0.1/hook",
        "https://10.0.0.8/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
    ],
)
async def test_destinations_that_are_not_public_https_are_refused_when_saved(
    gql: GraphQL, runtime: Runtime, url: str
) -> None:
    owner = await sign_up(gql, "Careful Studio")
    result = await gql(
        CONNECT, {"input": {"name": "Hook", "kind": "WEBHOOK", "url": url}}, token=owner["token"]
    )
    assert error_codes(result) == ["BAD_USER_INPUT"], result
    listed = await gql("{ integrations { id } }", token=owner["token"])
    assert listed["data"]["integrations"] == []


async def test_another_accounts_document_push_and_integration_are_not_found(
    gql: GraphQL, runtime: Runtime, receiver: StandIn
) -> None:
    owner = await _account_with_task_list(gql, runtime)
    mine = (await _connect(gql, owner["token"], kind="WEBHOOK", url=receiver.url + "/a"))[
        "integration"
    ]
    prepared = await _prepare(gql, owner, mine["id"])
    other = await _account_with_task_list(gql, runtime)
    theirs = (await _connect(gql, other["token"], kind="WEBHOOK", url=receiver.url + "/b"))[
        "integration"
    ]

    attempts = [
        (PREPARE, {"input": {"documentId": owner["document_id"], "integrationId": theirs["id"]}}),
        (PREPARE, {"input": {"documentId": other["document_id"], "integrationId": mine["id"]}}),
        (CONFIRM, {"id": prepared["id"]}),
        (READ_PUSH, {"id": prepared["id"]}),
        ("mutation($id: ID!) { removeIntegration(id: $id) }", {"id": mine["id"]}),
        ("query($d: ID!) { pushes(documentId: $d) { id } }", {"d": owner["document_id"]}),
    ]
    for query, variables in attempts:
        result = await gql(query, variables, token=other["token"])
        assert error_codes(result) == ["NOT_FOUND"], (query, result)
    assert (await _read(gql, owner, prepared["id"]))["status"] == "PENDING_CONFIRMATION"


async def test_a_viewer_cannot_push_and_a_member_cannot_connect(
    gql: GraphQL, runtime: Runtime, superuser: Engine, receiver: StandIn
) -> None:
    owner = await _account_with_task_list(gql, runtime)
    integration = (await _connect(gql, owner["token"], kind="WEBHOOK", url=receiver.url + "/v"))[
        "integration"
    ]
    prepared = await _prepare(gql, owner, integration["id"])
    viewer = await seat(gql, runtime, superuser, owner, "VIEWER")
    member = await seat(gql, runtime, superuser, owner, "MEMBER")

    refused = await gql(
        PREPARE,
        {"input": {"documentId": owner["document_id"], "integrationId": integration["id"]}},
        token=viewer.token,
    )
    assert error_codes(refused) == ["FORBIDDEN"]
    assert error_codes(await gql(CONFIRM, {"id": prepared["id"]}, token=viewer.token)) == [
        "FORBIDDEN"
    ]
    connect = await gql(
        CONNECT,
        {"input": {"name": "Mine", "kind": "WEBHOOK", "url": receiver.url}},
        token=member.token,
    )
    assert error_codes(connect) == ["FORBIDDEN"]
    # A member sees which integrations exist, not where they send.
    listed = await gql("{ integrations { id name url } }", token=member.token)
    assert listed["data"]["integrations"] == [
        {"id": integration["id"], "name": "Delivery", "url": None}
    ]
    assert error_codes(listed) == ["FORBIDDEN"]
    assert listed["errors"][0]["path"] == ["integrations", 0, "url"]
    # A member may push; the confirming person is recorded.
    confirmed = await _confirm(gql, {"token": member.token}, prepared["id"])
    assert confirmed["confirmedBy"]["email"] == member.email


async def test_a_seat_scoped_to_another_client_does_not_find_the_task_list(
    gql: GraphQL, runtime: Runtime, superuser: Engine, receiver: StandIn
) -> None:
    owner = await _account_with_task_list(gql, runtime)
    elsewhere = await create_profile(gql, owner["token"], "Another Client")
    integration = (await _connect(gql, owner["token"], kind="WEBHOOK", url=receiver.url))[
        "integration"
    ]
    prepared = await _prepare(gql, owner, integration["id"])
    scoped = await seat(gql, runtime, superuser, owner, "MEMBER", [elsewhere["id"]])
    attempts = [
        (
            PREPARE,
            {"input": {"documentId": owner["document_id"], "integrationId": integration["id"]}},
        ),
        (CONFIRM, {"id": prepared["id"]}),
        (READ_PUSH, {"id": prepared["id"]}),
    ]
    for query, variables in attempts:
        result = await gql(query, variables, token=scoped.token)
        assert error_codes(result) == ["NOT_FOUND"], (query, result)


async def test_only_a_task_list_can_be_pushed(
    gql: GraphQL, runtime: Runtime, receiver: StandIn
) -> None:
    owner = await _account_with_task_list(gql, runtime)
    prd = await _task_list(runtime, owner, owner["call_id"], ITEMS, DocumentKind.PRD)
    integration = (await _connect(gql, owner["token"], kind="WEBHOOK", url=receiver.url))[
        "integration"
    ]
    result = await gql(
        PREPARE,
        {"input": {"documentId": prd, "integrationId": integration["id"]}},
        token=owner["token"],
    )
    assert error_codes(result) == ["BAD_USER_INPUT"]
    unknown = ids.encode(ids.Kind.DOCUMENT, uuid.uuid4())
    result = await gql(
        PREPARE,
        {"input": {"documentId": unknown, "integrationId": integration["id"]}},
        token=owner["token"],
    )
    assert error_codes(result) == ["NOT_FOUND"]


async def test_a_push_whose_job_went_missing_mid_send_is_sent_after_the_sweep(
    gql: GraphQL, runtime: Runtime, receiver: StandIn, superuser: Engine, clock: FrozenClock
) -> None:
    owner = await _account_with_task_list(gql, runtime)
    receiver.reset()
    connected = await _connect(gql, owner["token"], kind="WEBHOOK", url=receiver.url + "/hooks")
    prepared = await _prepare(gql, owner, connected["integration"]["id"])
    await _confirm(gql, owner, prepared["id"])
    # A worker died mid-send on its last try: the push says SENDING, its job is gone.
    push_id = ids.decode(ids.Kind.PUSH, prepared["id"])
    await runtime.redis.delete(QUEUE, f"arq:job:{push_job_id(push_id)}")
    with superuser.begin() as conn:
        conn.execute(
            text(
                f"UPDATE {schema_of(owner['account']['id'])}.integration_pushes "
                "SET status = 'SENDING' WHERE id = :id"
            ),
            {"id": push_id},
        )

    assert await requeue_stuck_pushes_job({"runtime": runtime}) == 0  # not stuck yet
    with moved(clock, STUCK_AFTER + timedelta(minutes=1)):
        assert await requeue_stuck_pushes_job({"runtime": runtime}) == 1
        assert await requeue_stuck_pushes_job({"runtime": runtime}) == 0  # never doubled
        await _work(runtime)
    done = await _read(gql, owner, prepared["id"])
    assert done["status"] == "DONE", done
    assert [r.path for r in receiver.received] == ["/hooks"]

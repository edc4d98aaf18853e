"""Progress for frontends: `callStatus(callId)` over graphql-transport-ws on /graphql
answers the status now, then each change as it is committed, and completes at READY;
the connection needs a valid session; another tenant's call is NOT_FOUND; queries and
mutations are refused on the WebSocket, subscriptions on POST."""

from __future__ import annotations

from documents_testing import generate, generating_call
from socket_testing import connected
from starlette.applications import Starlette

from audora.platform.runtime import Runtime

from audora_testing import GraphQL, error_codes

SUBSCRIBE = """
subscription($id: ID!) {
  callStatus(callId: $id) { callId status failureReason progress { stage percent } }
}
"""


async def test_call_status_streams_each_change_until_ready(
    app: Starlette, gql: GraphQL, runtime: Runtime
) -> None:
    owner = await generating_call(gql, runtime, "Watching Studio")
    async with connected(app, owner["token"]) as socket:
        assert (await socket.message())["type"] == "connection_ack"
        await socket.send(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": SUBSCRIBE, "variables": {"id": owner["call_id"]}},
            }
        )
        first = await socket.message()
        assert first["type"] == "next", first
        assert first["payload"]["data"]["callStatus"] == {
            "callId": owner["call_id"],
            "status": "GENERATING",
            "failureReason": None,
            "progress": {"stage": "GENERATING", "percent": 70},
        }
        # The job commits and announces; the stream answers at once, not on a timer.
        assert (await generate(runtime, owner)).startswith("generated")
        ready = await socket.message()
        assert ready["payload"]["data"]["callStatus"]["status"] == "READY"
        assert ready["payload"]["data"]["callStatus"]["progress"]["percent"] == 100
        assert await socket.message() == {"id": "1", "type": "complete"}


async def test_another_tenants_call_is_not_found_on_the_stream(
    app: Starlette, gql: GraphQL, runtime: Runtime
) -> None:
    owner = await generating_call(gql, runtime, "Stream Tenant A")
    other = await generating_call(gql, runtime, "Stream Tenant B")
    async with connected(app, owner["token"]) as socket:
        assert (await socket.message())["type"] == "connection_ack"
        await socket.send(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": SUBSCRIBE, "variables": {"id": other["call_id"]}},
            }
        )
        refused = await socket.message()
        assert refused["type"] == "next", refused
        assert refused["payload"]["data"] is None
        assert [e["extensions"]["code"] for e in refused["payload"]["errors"]] == ["NOT_FOUND"]
        assert await socket.message() == {"id": "1", "type": "complete"}
        # A query is not served here.
        await socket.send(
            {"id": "2", "type": "subscribe", "payload": {"query": "{ me { user { id } } }"}}
        )
        query = await socket.message()
        assert query["type"] == "error", query
        assert [e["extensions"]["code"] for e in query["payload"]] == ["BAD_USER_INPUT"]


async def test_a_connection_without_a_valid_session_is_closed(
    app: Starlette, gql: GraphQL, runtime: Runtime
) -> None:
    for token in (None, "not-a-session"):
        async with connected(app, token) as socket:
            closed = await socket.receive()
            assert closed["type"] == "websocket.close"
            assert closed["code"] == 4403


async def test_a_subscription_over_http_is_refused(gql: GraphQL, runtime: Runtime) -> None:
    owner = await generating_call(gql, runtime, "Http Subscriber")
    result = await gql(SUBSCRIBE, {"id": owner["call_id"]}, token=owner["token"])
    assert error_codes(result) == ["BAD_USER_INPUT"]

"""A graphql-transport-ws client for the in-process app (importable because pytest puts
tests/ on the path)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette

from audora_testing import TEST_AGENT, TEST_IP


class Socket:
    """A WebSocket client speaking ASGI to the in-process app (no server, no thread)."""

    def __init__(self, app: Starlette) -> None:
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "wss",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "root_path": "",
            "query_string": b"",
            "headers": [
                (b"host", b"audora.test"),
                (b"user-agent", TEST_AGENT.encode()),
                (b"sec-websocket-protocol", b"graphql-transport-ws"),
            ],
            "subprotocols": ["graphql-transport-ws"],
            "client": (TEST_IP, 51000),
            "server": ("audora.test", 443),
        }
        self.task = asyncio.create_task(app(scope, self.outbox.get, self.inbox.put))

    async def receive(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.inbox.get(), timeout=10)

    async def send(self, message: dict[str, Any]) -> None:
        await self.outbox.put({"type": "websocket.receive", "text": json.dumps(message)})

    async def message(self) -> dict[str, Any]:
        event = await self.receive()
        assert event["type"] == "websocket.send", event
        decoded: dict[str, Any] = json.loads(event["text"])
        return decoded


@asynccontextmanager
async def connected(app: Starlette, token: str | None) -> AsyncIterator[Socket]:
    socket = Socket(app)
    await socket.outbox.put({"type": "websocket.connect"})
    accepted = await socket.receive()
    assert accepted["type"] == "websocket.accept", accepted
    assert accepted["subprotocol"] == "graphql-transport-ws"
    payload = {"authorization": f"Bearer {token}"} if token else {}
    await socket.send({"type": "connection_init", "payload": payload})
    try:
        yield socket
    finally:
        await socket.outbox.put({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(socket.task, timeout=10)

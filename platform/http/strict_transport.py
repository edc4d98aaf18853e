"""HSTS on every response, errors included: browsers that have seen it once refuse to
talk to Audora over plain HTTP for a year, subdomains too."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class StrictTransportSecurity:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_hsts(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0] != HSTS[0]]
                message["headers"] = [*headers, HSTS]
            await send(message)

        await self.app(scope, receive, send_with_hsts)

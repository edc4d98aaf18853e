"""`/graphql` over WebSocket: subscriptions (`callStatus`) with graphql-transport-ws.

Strawberry's ASGI view speaks the protocol; this subclass builds our request context
and signs the connection in. The session token travels in `connection_init`'s payload
(`{"authorization": "Bearer <token>"}`), since browsers cannot set headers on a
WebSocket, and it is checked there exactly as on `/graphql` (idle expiry, bound address
and user agent); a connection without a valid one is closed with 4403 before any
operation runs. Being a token rather than a cookie, a page of another origin cannot
ride a user's session, so no Origin list is needed. Queries and mutations are refused
here (`SubscriptionsOnly`): they belong to POST /graphql, whose boundary commits them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from audora.platform.auth.service import ClientInfo
from audora.platform.errors import AppError
from audora.platform.http.client_ip import client_ip
from audora.platform.runtime import Runtime
from audora.schema.build import Limits, build_subscription_schema
from audora.schema.context import RequestContext


def _token(params: dict[str, Any] | None) -> str | None:
    value = (params or {}).get("authorization")
    if not isinstance(value, str):
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class SubscriptionEndpoint(GraphQL[RequestContext, None]):
    def __init__(self, limits: Limits) -> None:
        super().__init__(
            build_subscription_schema(limits),
            graphql_ide=None,
            allow_queries_via_get=False,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=20,
        )

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        runtime: Runtime = request.app.state.runtime
        return RequestContext(
            runtime=runtime,
            client=ClientInfo(
                ip=client_ip(
                    request.client.host if request.client else None,
                    request.headers.get("x-forwarded-for"),
                    runtime.settings.trusted_proxies,
                ),
                user_agent=request.headers.get("user-agent"),
            ),
            token=None,
        )

    async def on_ws_connect(self, context: RequestContext) -> UnsetType | dict[str, object] | None:
        context.token = _token(context.connection_params)
        try:
            await context.principal()
        except AppError:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"}) from None
        return await super().on_ws_connect(context)

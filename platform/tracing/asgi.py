"""One server span per HTTP request, named by method and route template, made by our own
middleware rather than OpenTelemetry's ASGI instrumentation, which records the full
URL, the client's address and port, the user agent and the query string.

The span is a root: an incoming `traceparent` is not honoured (a client does not get to
join or sample our traces). Exceptions are not recorded as span events (a message can
quote customer content); a failed request is marked an error with no description.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from audora.platform.tracing.names import (
    GRAPHQL_OPERATION_TYPE,
    HTTP_METHOD,
    HTTP_ROUTE,
    HTTP_STATUS,
    graphql_operation,
)

# Any other method is reported as `_OTHER` (the semantic conventions' word): a method
# is a client-chosen token, and this keeps arbitrary text out of span names.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_template(scope: Scope, root_path: str, mounts: frozenset[str]) -> str | None:
    """The template of the route that answered (`/uploads/{ticket}`), never the path.
    Under a `Mount` Starlette leaves the innermost route in `scope["route"]` and the
    matched prefix, as requested, in `root_path`: it is used only when it is one of the
    app's mounts without parameters (`mounts`), where path and template are the same."""
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(route, BaseRoute) or not isinstance(path, str):
        return None
    prefix = str(scope.get("root_path", ""))[len(root_path) :]
    if prefix and prefix not in mounts:
        return None
    return prefix + path


class TracingMiddleware:
    def __init__(self, app: ASGIApp, tracer: Tracer, mounts: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.tracer = tracer
        self.mounts = mounts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = str(scope.get("method", "")).upper()
        method = method if method in KNOWN_METHODS else "_OTHER"
        state = scope.setdefault("state", {})
        root_path = str(scope.get("root_path", ""))
        status: int | None = None

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        with self.tracer.start_as_current_span(
            method,
            context=Context(),
            kind=SpanKind.SERVER,
            attributes={HTTP_METHOD: method},
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                await self.app(scope, receive, send_noting_status)
            except BaseException:
                span.set_status(Status(StatusCode.ERROR))
                raise
            finally:
                template = route_template(scope, root_path, self.mounts)
                if template is not None:
                    span.update_name(f"{method} {template}")
                    span.set_attribute(HTTP_ROUTE, template)
                if status is not None:
                    span.set_attribute(HTTP_STATUS, status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                operation = graphql_operation(state)
                if operation is not None:
                    span.set_attribute(GRAPHQL_OPERATION_TYPE, operation)

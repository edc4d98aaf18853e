"""Requests, latencies and per-tenant activity, counted by a plain ASGI middleware.

Plain ASGI (not BaseHTTPMiddleware): it wraps `send` only to read the status and count
body bytes as they pass, so streamed uploads and downloads stream exactly as before,
and WebSocket and lifespan scopes go through untouched.

Labels are the route TEMPLATE the router matched (`/documents/{id}/export`), never the
raw path; a path no route matched is `unmatched`. The endpoints that know more tell the
middleware through a `RequestNote` in `scope["state"]` (`note_request`): the tenant of
the authenticated principal (its requests count towards R2's per-tenant volume, staff
grants' reads included), whether the answer is customer data (its bytes count as that
tenant's egress), and, for GraphQL, the operation type.

Per request: one Redis pipeline, sent once the last byte has gone, so the client never
waits on it; a Redis failure is logged and the request is unaffected.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from audora.platform.metrics import activity
from audora.platform.metrics.counters import (
    GRAPHQL_REQUESTS,
    HTTP_LATENCY,
    HTTP_REQUESTS,
    add_count,
    add_observation,
)
from audora.platform.runtime import Runtime

log = logging.getLogger(__name__)

NOTE = "audora.request_note"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OPERATION_TYPES = frozenset({"query", "mutation", "subscription"})
UNMATCHED = "unmatched"


@dataclass
class RequestNote:
    """What an endpoint tells the middleware about its request."""

    tenant: uuid.UUID | None = None
    # The answer's body is customer data: its bytes count as the tenant's egress.
    customer_data: bool = False
    operation_type: str | None = None


def note_request(
    scope: Scope,
    *,
    tenant: uuid.UUID | None,
    customer_data: bool = False,
    operation_type: str | None = None,
) -> None:
    """Tell the metrics middleware who the request was for and what it served. Does
    nothing outside the middleware (an app built without it)."""
    note = scope.get("state", {}).get(NOTE)
    if isinstance(note, RequestNote):
        note.tenant = tenant
        note.customer_data = customer_data
        note.operation_type = operation_type


def route_templates(routes: list[BaseRoute], prefix: str = "") -> dict[int, str]:
    """Each route object's full path template, mounts included, by `id(route)`."""
    templates: dict[int, str] = {}
    for route in routes:
        path = prefix + str(getattr(route, "path", ""))
        if isinstance(route, Mount):
            templates[id(route)] = path
            templates.update(route_templates(route.routes, path))
        else:
            templates[id(route)] = path
    return templates


def status_class(status: int) -> str:
    return f"{status // 100}xx" if 100 <= status < 600 else "other"


class RequestMetrics:
    """Counts every HTTP request; `runtime` gives the open runtime (None before the
    lifespan has opened it) and `routes` the app's routes, read once."""

    def __init__(
        self,
        app: ASGIApp,
        runtime: Callable[[], Runtime | None],
        routes: Callable[[], list[BaseRoute]],
    ) -> None:
        self.app = app
        self.runtime = runtime
        self.routes = routes
        self._templates: dict[int, str] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        note = RequestNote()
        scope.setdefault("state", {})[NOTE] = note
        answer = _Answer()

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer.status = int(message["status"])
            elif message["type"] == "http.response.body":
                answer.bytes += len(message.get("body", b""))
                if not message.get("more_body", False):
                    answer.finished = time.perf_counter()
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        except Exception:
            # Starlette's error middleware has already answered 500 if it could.
            if answer.status is None:
                answer.status = 500
            await self._record(scope, note, answer, started)
            raise
        await self._record(scope, note, answer, started)

    def _route(self, scope: Scope) -> str:
        if self._templates is None:
            self._templates = route_templates(self.routes())
        route = scope.get("route")
        return self._templates.get(id(route), UNMATCHED) if route is not None else UNMATCHED

    async def _record(
        self, scope: Scope, note: RequestNote, answer: _Answer, started: float
    ) -> None:
        runtime = self.runtime()
        if runtime is None:
            return
        method = scope["method"] if scope["method"] in METHODS else "other"
        route = self._route(scope)
        status = status_class(answer.status or 500)
        try:
            pipe = runtime.redis.pipeline(transaction=False)
            add_count(pipe, HTTP_REQUESTS, method=method, route=route, status=status)
            add_observation(
                pipe,
                HTTP_LATENCY,
                (answer.finished or time.perf_counter()) - started,
                method=method,
                route=route,
            )
            if route == "/graphql" and method == "POST":
                kind = note.operation_type if note.operation_type in OPERATION_TYPES else "other"
                add_count(pipe, GRAPHQL_REQUESTS, operation_type=str(kind), status=status)
            if note.tenant is not None:
                tenant, now = str(note.tenant), runtime.clock.now()
                activity.add_activity(pipe, activity.REQUESTS, tenant, 1, now)
                if note.customer_data and answer.bytes:
                    activity.add_activity(pipe, activity.EGRESS, tenant, answer.bytes, now)
            await pipe.execute()
        except RedisError:
            log.warning("could not record the metrics of a request", exc_info=True)


@dataclass
class _Answer:
    status: int | None = None
    bytes: int = 0
    finished: float | None = None


def runtime_of(state: Any) -> Callable[[], Runtime | None]:
    """The runtime the app's lifespan keeps on `state`, once it is open."""
    return lambda: getattr(state, "runtime", None)

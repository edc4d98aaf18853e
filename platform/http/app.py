"""The ASGI application: routes declared up front (Starlette 1.x has no add_route), the
runtime opened in the lifespan and closed after the last request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import ASGIApp

from audora.admin.http import ROUTES as ADMIN_ROUTES
from audora.admin.incidents import ROUTES as INCIDENT_ROUTES
from audora.platform.clock import Clock
from audora.platform.config import Settings
from audora.platform.http.health import healthz, readyz
from audora.platform.http.metrics import metrics
from audora.platform.http.request_metrics import RequestMetrics, runtime_of
from audora.platform.http.security_headers import SecurityHeaders
from audora.platform.http.security_txt import PATH as SECURITY_TXT
from audora.platform.http.security_txt import security_txt
from audora.platform.http.session_revoke import revoke_page
from audora.platform.http.strict_transport import StrictTransportSecurity
from audora.platform.incidents import pages as status
from audora.platform.runtime import Runtime
from audora.platform.subprocessors import pages as subprocessors
from audora.platform.tracing.setup import API_SERVICE, tracing_from_settings
from audora.schema.build import Limits
from audora.schema.endpoint import graphql_get, graphql_post
from audora.schema.persisted import load_manifest
from audora.schema.websocket import SubscriptionEndpoint
from audora.tenants.documents.http import export_document
from audora.tenants.lifecycle.http import get_export
from audora.tenants.meeting_bots.http import meeting_bot_webhook
from audora.tenants.recordings.http import put_upload

if TYPE_CHECKING:
    from audora.platform.tracing.setup import Tracing


class AudoraApp(Starlette):
    tracing: Tracing | None = None

    def build_middleware_stack(self) -> ASGIApp:
        # Around Starlette's own error handling, so that even a 500 that escaped
        # everything else carries HSTS and the browser-hardening headers.
        app: ASGIApp = StrictTransportSecurity(SecurityHeaders(super().build_middleware_stack()))
        if self.tracing is not None:
            # Imported only when tracing is on: off, nothing of OpenTelemetry is loaded.
            from audora.platform.tracing.asgi import TracingMiddleware

            mounts = frozenset(
                r.path for r in self.routes if isinstance(r, Mount) and "{" not in r.path
            )
            app = TracingMiddleware(app, self.tracing.tracer, mounts)
        # The request metrics outermost of all: they see the final status and time the
        # whole answer, and their note (scope["state"]) is the one the span reads too.
        return RequestMetrics(app, runtime=runtime_of(self.state), routes=lambda: self.routes)


def create_app(
    settings: Settings, *, clock: Clock | None = None, tracing: Tracing | None = None
) -> Starlette:
    """The API. `tracing`, when given, replaces the one `AUDORA_OTEL_ENDPOINT` makes
    (tests give one with an in-memory exporter); either is shut down with the app."""
    tracing = tracing or tracing_from_settings(settings, API_SERVICE)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings.graphql_persisted_documents is not None:
            load_manifest(settings.graphql_persisted_documents)  # a broken one stops the start
        runtime = Runtime.open(settings, clock=clock)
        app.state.runtime = runtime
        try:
            yield
        finally:
            await runtime.close()
            if tracing is not None:
                tracing.shutdown()

    made = AudoraApp(
        routes=[
            Route("/graphql", graphql_post, methods=["POST"]),
            Route("/graphql", graphql_get, methods=["GET"]),
            WebSocketRoute("/graphql", SubscriptionEndpoint(Limits.of(settings))),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route(SECURITY_TXT, security_txt, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            Route(subprocessors.PATH, subprocessors.subprocessors_page, methods=["GET"]),
            Route(subprocessors.JSON_PATH, subprocessors.subprocessors_json, methods=["GET"]),
            Route(status.PATH, status.status_page, methods=["GET"]),
            Route(status.JSON_PATH, status.status_json, methods=["GET"]),
            Route(status.ATOM_PATH, status.status_feed, methods=["GET"]),
            Route("/uploads/{ticket}", put_upload, methods=["PUT"]),
            Route("/exports/{token}", get_export, methods=["GET"]),
            Route("/webhooks/meeting-bot", meeting_bot_webhook, methods=["POST"]),
            Route("/documents/{id}/export", export_document, methods=["GET"]),
            Route("/sessions/revoke/{token}", revoke_page, methods=["GET", "POST"]),
            Mount("/admin", routes=[*ADMIN_ROUTES, *INCIDENT_ROUTES]),
        ],
        lifespan=lifespan,
    )
    made.tracing = tracing
    return made

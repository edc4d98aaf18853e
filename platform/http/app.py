"""The ASGI application: routes declared up front (Starlette 1.x has no add_route), the
runtime opened in the lifespan and closed after the last request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import ASGIApp

from audora.admin.http import ROUTES as ADMIN_ROUTES
from audora.admin.incidents import ROUTES as INCIDENT_ROUTES
from audora.platform.clock import Clock
from audora.platform.config import Settings
from audora.platform.http.health import healthz, readyz
from audora.platform.http.metrics import metrics
from audora.platform.http.security_headers import SecurityHeaders
from audora.platform.http.security_txt import PATH as SECURITY_TXT
from audora.platform.http.security_txt import security_txt
from audora.platform.http.session_revoke import revoke_page
from audora.platform.http.strict_transport import StrictTransportSecurity
from audora.platform.incidents import pages as status
from audora.platform.runtime import Runtime
from audora.platform.subprocessors import pages as subprocessors
from audora.schema.build import Limits
from audora.schema.endpoint import graphql_get, graphql_post
from audora.schema.websocket import SubscriptionEndpoint
from audora.tenants.documents.http import export_document
from audora.tenants.lifecycle.http import get_export
from audora.tenants.meeting_bots.http import meeting_bot_webhook
from audora.tenants.recordings.http import put_upload


class AudoraApp(Starlette):
    def build_middleware_stack(self) -> ASGIApp:
        # Outermost, around Starlette's own error handling, so that even a 500 that
        # escaped everything else carries HSTS and the browser-hardening headers.
        return StrictTransportSecurity(SecurityHeaders(super().build_middleware_stack()))


def create_app(settings: Settings, *, clock: Clock | None = None) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime = Runtime.open(settings, clock=clock)
        app.state.runtime = runtime
        try:
            yield
        finally:
            await runtime.close()

    return AudoraApp(
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

"""Error monitoring with Sentry: off unless `AUDORA_SENTRY_DSN` is set.

Every event and breadcrumb passes through platform/scrub.py before it leaves; the SDK is
also told not to gather what the scrubber would only throw away (personal data, request
bodies, local variables).
"""

from __future__ import annotations

from typing import Any, cast

import sentry_sdk
from sentry_sdk.integrations.strawberry import StrawberryIntegration
from sentry_sdk.types import Breadcrumb, BreadcrumbHint, Event, Hint

from audora.platform.config import Settings
from audora.platform.scrub import scrub_breadcrumb, scrub_event


def _before_send(event: Event, hint: Hint) -> Event | None:
    return cast(Event, scrub_event(dict(event)))


def _before_breadcrumb(crumb: Breadcrumb, hint: BreadcrumbHint) -> Breadcrumb | None:
    return scrub_breadcrumb(dict(crumb))


def init_monitoring(settings: Settings, *, transport: Any = None) -> bool:
    """Starts the Sentry client if a DSN is configured; True if it did. `transport`
    replaces the network transport (tests capture what would leave)."""
    dsn = settings.sentry_dsn.get_secret_value()
    if not dsn:
        return False
    options: dict[str, Any] = {}
    if transport is not None:
        options["transport"] = transport
    sentry_sdk.init(
        dsn=dsn,
        environment=settings.env,
        # `data_collection` replaces `send_default_pii` (deprecated in 2.x; passing both only
        # adds a warning): collect nothing personal, the scrubber being the second line.
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_headers": {"request": {"mode": "allowlist", "terms": ["content-type"]}},
            "http_bodies": [],
            "url_query_params": {"mode": "off"},
            "graphql": {"document": False, "variables": False},
            "gen_ai": {"inputs": False, "outputs": False},
            "database_query_data": False,
            "queues": False,
            "stack_frame_variables": False,
            "frame_context_lines": 0,
        },
        include_local_variables=False,
        include_source_context=False,
        max_request_body_size="never",
        traces_sample_rate=0.0,
        # Not enabled on its own: it would add a (sync) extension to our async schema, and
        # our endpoint reports internal errors through the log (schema/errors.py), which
        # the logging integration sends, scrubbed.
        disabled_integrations=[StrawberryIntegration()],
        before_send=_before_send,
        before_breadcrumb=_before_breadcrumb,
        **options,
    )
    return True

"""What a span may say (PROMISES S4, E7): the names of the few attributes Audora's spans
carry, and where the HTTP span reads the GraphQL operation type (the request metrics'
note, which the endpoint fills).

This module imports nothing of OpenTelemetry: the endpoint uses it whether or not
tracing is on, and with tracing off nothing of the SDK is loaded.

Spans never carry what a request or a job was about: no URL path (tickets and tokens
travel in paths), no query string, body, GraphQL document, variables or operation name,
no header, client address, user, email, tenant or job argument. A span names the route
*template* (`/uploads/{ticket}`), the method, the status, the GraphQL operation type, or
the job function, its try and its outcome, and nothing else; `ALLOWED_ATTRIBUTES` is the
whole list, and the tests hold every exported span to it.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Final

from audora.platform.http.request_metrics import NOTE, RequestNote

HTTP_METHOD: Final = "http.request.method"
HTTP_ROUTE: Final = "http.route"
HTTP_STATUS: Final = "http.response.status_code"
GRAPHQL_OPERATION_TYPE: Final = "graphql.operation.type"
JOB_FUNCTION: Final = "audora.job.function"
JOB_TRY: Final = "audora.job.try"
JOB_OUTCOME: Final = "audora.job.outcome"

ALLOWED_ATTRIBUTES: Final = frozenset(
    {
        HTTP_METHOD,
        HTTP_ROUTE,
        HTTP_STATUS,
        GRAPHQL_OPERATION_TYPE,
        JOB_FUNCTION,
        JOB_TRY,
        JOB_OUTCOME,
    }
)
# The resource names the process and nothing else (no host name, no process arguments).
RESOURCE_ATTRIBUTES: Final = frozenset({"service.name"})


def graphql_operation(state: MutableMapping[str, Any]) -> str | None:
    """The operation type the GraphQL endpoint noted for the request metrics (one of
    three words from the parsed document, never the client's text), if any."""
    note = state.get(NOTE)
    return note.operation_type if isinstance(note, RequestNote) else None

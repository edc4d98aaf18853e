"""What a span may say (PROMISES S4, E7): the names of the few attributes Audora's spans
carry, and the one way the GraphQL endpoint tells the HTTP span its operation type.

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

# Where the GraphQL endpoint leaves the operation type for the HTTP span, in the
# request's `scope["state"]` (shared by the middleware and the endpoint).
_OPERATION_STATE_KEY: Final = "audora.graphql_operation_type"
_OPERATION_TYPES: Final = frozenset({"query", "mutation", "subscription"})


def note_graphql_operation(scope: MutableMapping[str, Any], operation_type: str) -> None:
    """Tell the request's span (if any) which kind of operation ran: one of three words
    taken from the parsed document, never the client's text."""
    if operation_type in _OPERATION_TYPES:
        scope.setdefault("state", {})[_OPERATION_STATE_KEY] = operation_type


def graphql_operation(state: MutableMapping[str, Any]) -> str | None:
    """The operation type the endpoint noted in a request's state, if any."""
    noted = state.get(_OPERATION_STATE_KEY)
    return noted if isinstance(noted, str) else None

"""The access-log row of a GraphQL request, written after the answer has been sent.

Recorded: requests during which the caller was authenticated (some field needed the
session and it was valid), in the caller's own tenant. Not recorded: requests that never
got that far (no token, an invalid or expired one, a document that did not parse or
validate, a body refused at the door), since they reached no account and there is no
tenant to write them to; failed logins and replayed tokens are in the audit log instead.

The endpoint hands `record_request` to Starlette as the response's background task: the
client has its answer before the insert starts, so logging adds nothing to its latency,
and the ASGI server still waits for the write before the request counts as finished
(graceful shutdown included). A subscription on the WebSocket gets its row when its
first answer or refusal is ready (`logged_stream`). The operation's name and type come
from the document the execution already parsed (`NoteDocument`; on the WebSocket, parsed
again); the variables never reach this module.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from graphql import DocumentNode, GraphQLError, OperationDefinitionNode, get_operation_ast, parse
from strawberry.extensions import SchemaExtension

from audora.platform.auth.principal import Principal
from audora.platform.auth.service import ClientInfo
from audora.platform.runtime import Runtime
from audora.tenants.access_log.log import AccessEntry, outcome_of, write

if TYPE_CHECKING:
    from audora.schema.context import RequestContext

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnsweredRequest:
    """What the endpoint knows once it has answered."""

    at: datetime
    principal: Principal
    client: ClientInfo
    operation: OperationDefinitionNode | None
    error_codes: tuple[str, ...]


class NoteDocument(SchemaExtension):
    """Keeps, on the request context, the document the execution parsed (none if it
    did not parse), so the access log need not parse the query again."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        if hasattr(context, "document"):
            context.document = self.execution_context.graphql_document


def operation_of(
    document: DocumentNode | None, operation_name: str | None
) -> OperationDefinitionNode | None:
    """The operation of the parsed document that ran, if there is exactly one."""
    return get_operation_ast(document, operation_name) if document is not None else None


def entry_of(answered: AnsweredRequest) -> AccessEntry:
    principal = answered.principal
    operation = answered.operation
    return AccessEntry(
        at=answered.at,
        account_id=principal.account_id,
        user_id=principal.user_id,
        session_id=principal.session_id,
        ip=answered.client.ip,
        user_agent=answered.client.user_agent,
        operation_type=operation.operation.value if operation else None,
        # From the parsed document only: a GraphQL name, never free text.
        operation_name=operation.name.value if operation and operation.name else None,
        outcome=outcome_of(answered.error_codes),
    )


async def record_request(runtime: Runtime, answered: AnsweredRequest) -> None:
    """Write the request's access-log row in a transaction of its own; a failure is
    logged, never raised (the answer is already gone)."""
    principal = answered.principal
    try:
        await write(runtime.tenant_engines, principal.tenant, entry_of(answered))
    except Exception:
        log.exception("could not write the access log of account %s", principal.account_id)


def _operation_in(query: str | None, operation_name: str | None) -> OperationDefinitionNode | None:
    try:
        return operation_of(parse(query), operation_name) if query else None
    except GraphQLError:
        return None


async def logged_stream(
    results: AsyncGenerator[Any, None],
    context: RequestContext,
    started: datetime,
    query: str | None,
    operation_name: str | None,
) -> AsyncGenerator[Any, None]:
    """A subscription's results, its access-log row written when its first answer (or
    refusal) is ready: on the WebSocket, that is when "the request" was answered."""
    first = True
    try:
        async for result in results:
            if first:
                first = False
                principal = context.known_principal()
                if principal is not None:
                    errors = getattr(result, "errors", None) or []
                    codes = tuple(str((e.extensions or {}).get("code", "INTERNAL")) for e in errors)
                    await record_request(
                        context.runtime,
                        AnsweredRequest(
                            started,
                            principal,
                            context.client,
                            _operation_in(query, operation_name),
                            codes,
                        ),
                    )
            yield result
    finally:
        await results.aclose()

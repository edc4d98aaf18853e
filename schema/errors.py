"""Every GraphQL error leaves with `extensions.code` from CONTRACT.md.

`AppError`s keep their message and code. Errors from GraphQL itself (syntax, unknown
fields, wrong argument types) are the client's: BAD_USER_INPUT. Anything else is masked as
INTERNAL with a correlation id; its details go to the log and never to the client.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from audora.platform.crypto.envelope import IntegrityError
from audora.platform.errors import AppError, ErrorCode

log = logging.getLogger(__name__)


def _root_cause(error: GraphQLError) -> BaseException | None:
    cause: BaseException | None = error.original_error
    while isinstance(cause, GraphQLError) and cause.original_error is not None:
        cause = cause.original_error
    return cause


def format_error(error: GraphQLError) -> GraphQLError:
    cause = _root_cause(error)
    if isinstance(cause, AppError):
        return GraphQLError(
            cause.message,
            nodes=error.nodes,
            path=error.path,
            extensions={"code": cause.code.value, **cause.extensions},
        )
    if cause is None or isinstance(cause, GraphQLError):
        return GraphQLError(
            error.message,
            nodes=error.nodes,
            path=error.path,
            extensions={"code": ErrorCode.BAD_USER_INPUT.value},
        )
    correlation = uuid.uuid4().hex
    if isinstance(cause, IntegrityError):
        # Tampered, moved or truncated ciphertext: never answered with garbage plaintext.
        log.error("integrity failure %s: %s", correlation, cause)
        return GraphQLError(
            "stored data failed its integrity check",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": ErrorCode.INTERNAL.value, "correlationId": correlation},
        )
    log.error("internal error %s", correlation, exc_info=cause)
    return GraphQLError(
        "internal error",
        nodes=error.nodes,
        path=error.path,
        extensions={"code": ErrorCode.INTERNAL.value, "correlationId": correlation},
    )


class ErrorPolicy(SchemaExtension):
    """Codes on every error; and a mutation that failed anywhere answers no data, because
    the request boundary rolls all of it back and partial data would claim otherwise."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            context = self.execution_context.context
            for error in result.errors:
                cause = _root_cause(error)
                if isinstance(cause, IntegrityError) and hasattr(context, "integrity_failures"):
                    context.integrity_failures.append(cause.object_id or "unknown")
            result.errors = [format_error(e) for e in result.errors]
            if self._is_mutation():
                result.data = None

    def _is_mutation(self) -> bool:
        if self.execution_context.graphql_document is None:
            return False  # it did not even parse: nothing ran
        try:
            return self.execution_context.operation_type is OperationType.MUTATION
        except RuntimeError:  # no operation of that name: nothing ran either
            return False


_SUGGESTION = re.compile(r"\s*Did you mean .*\?\s*\Z", re.DOTALL)


def without_suggestions(message: str) -> str:
    """The message without GraphQL's "Did you mean ...?" hint, which would spell out
    the schema's field, argument and type names to a caller probing it."""
    return _SUGGESTION.sub("", message)


class HideSuggestions(SchemaExtension):
    """Outside dev, errors name no field, argument or enum value the caller did not
    write. Listed before `ErrorPolicy`, so it edits the errors that policy formatted."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        for error in (result.errors or []) if result is not None else []:
            error.message = without_suggestions(error.message)

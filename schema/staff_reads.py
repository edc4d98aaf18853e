"""What a staff grant's bearer may send to `POST /graphql`, and its audit.

A grant is read-only and covers data classes, so its operations are queries whose root
fields are among `STAFF_FIELDS` (client profiles and calls, and what hangs under them,
each field then held to the grant's scope by the field rules). Anything else (a
mutation, `me`, `members`, `auditLog` ...) is FORBIDDEN before it runs. Each operation,
run or refused, is audited in the tenant's log and the staff log before anything else
happens: its name, and its variables with anything secret-looking redacted.
"""

from __future__ import annotations

from typing import Any

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType, parse

from audora.platform.auth.principal import Principal
from audora.platform.runtime import Runtime
from audora.platform.staff import audit
from audora.tenants.staff_access.grants import GRANT_PREFIX

STAFF_FIELDS = frozenset({"clientProfiles", "clientProfile", "calls", "call", "__typename"})
_SECRET_WORDS = ("password", "token", "secret", "code", "assertion", "credential")


def is_grant_token(token: str | None) -> bool:
    return bool(token) and str(token).startswith(GRANT_PREFIX)


def refusal(query: str, operation: str | None) -> str | None:
    """Why a staff grant may not run this document; None if it may."""
    try:
        document = parse(query)
    except GraphQLError:
        return None  # the execution reports the syntax error itself
    chosen = [
        d
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
        and (operation is None or (d.name is not None and d.name.value == operation))
    ]
    for definition in chosen:
        if definition.operation is not OperationType.QUERY:
            return "staff access is read-only"
        for selection in definition.selection_set.selections:
            if not isinstance(selection, FieldNode) or selection.name.value not in STAFF_FIELDS:
                return "staff access reads client profiles and calls only"
    return None


def operation_name(query: str, operation: str | None) -> str | None:
    """The operation's name: `operationName`, or the name of the document's only one."""
    if operation is not None:
        return operation
    try:
        document = parse(query)
    except GraphQLError:
        return None
    names = [
        d.name.value if d.name else None
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    ]
    return names[0] if len(names) == 1 else None


def _redacted(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: "[redacted]" if any(w in k.lower() for w in _SECRET_WORDS) else _redacted(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


async def audit_operation(
    runtime: Runtime,
    principal: Principal,
    operation: str | None,
    variables: dict[str, Any] | None,
    ip: str | None,
    *,
    refused: str | None = None,
) -> None:
    grant = principal.staff
    if grant is None:
        return
    details: dict[str, Any] = {
        "operation": operation or "anonymous",
        "variables": _redacted(variables or {}),
        "grant": str(grant.grant_id),
    }
    if refused is not None:
        details["refused"] = refused
    async with runtime.platform_engine.begin() as conn:
        await audit.both(
            runtime,
            conn,
            runtime.clock.now(),
            "staff_access.operation_refused" if refused else "staff_access.operation",
            account_id=principal.account_id,
            actor=f"staff:{grant.staff_id}",
            staff_id=grant.staff_id,
            target=operation or "anonymous",
            ip=ip,
            details=details,
        )

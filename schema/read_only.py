"""A suspended (or closed) account is read-only: every mutation is refused for it,
except the few that only manage the caller's own sign-in.

Enforced in one place so that no new mutation can forget it: `read_only_guard` gives
every field of the Mutation type the `AccountWritable` extension when the schema is
built, unless the field is named in `WRITABLE_WHEN_READ_ONLY`. A test enumerates the
schema's mutations and checks each is either refused for a suspended account or listed
here. Queries are untouched: a suspended account's members still read their data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from strawberry.extensions.field_extension import FieldExtension
from strawberry.types import Info
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.utils.str_converters import to_camel_case

from audora.platform.auth.principal import Principal
from audora.platform.errors import forbidden, unauthenticated
from audora.schema.context import RequestContext
from audora.tenants.registry.suspension import MOVING_REFUSAL, WRITABLE

# Mutations a read-only account may still run, and why each is safe:
WRITABLE_WHEN_READ_ONLY = frozenset(
    {
        # Signing in and out, and ending one's own sessions, keep the account secure
        # and write no tenant data beyond the security events they audit.
        "logIn",
        "logOut",
        "revokeSession",
        "revokeOtherSessions",
        # Unauthenticated: a new account is ACTIVE; an invitation into an account that is
        # not ACTIVE is refused by the invitation service itself.
        "signUp",
        "acceptInvitation",
        # Unauthenticated and about Audora, not the account: anyone, a member of a
        # suspended account included, may report a vulnerability (writes no tenant data).
        "reportVulnerability",
        # Refusing or ending staff access protects the account and changes no data of
        # it: a read-only account must still be able to shut staff out.
        "denyAccessRequest",
        "revokeAccessGrant",
        # The point of a closure's grace: the owner may change their mind, and owners
        # and admins may take their data with them. Each service checks the status
        # itself (reopening only a CLOSED account; exporting only an ACTIVE, CLOSED or
        # LAPSED one: not a SUSPENDED one).
        "reopenAccount",
        "requestExport",
        # The caller's own preference on their platform user row, not the account's data;
        # and withdrawing consent to marketing must never be harder than giving it.
        "setMarketingConsent",
    }
)


def _refusal(status: str) -> Exception:
    return forbidden(
        f"this account is {status.lower()} and read-only: data can be read but not changed"
    )


def _judge(principal: Principal) -> None:
    if principal.account_status not in WRITABLE:
        raise _refusal(principal.account_status)
    if principal.account_moving:
        raise forbidden(MOVING_REFUSAL)


class AccountWritable(FieldExtension):
    """Refuse the mutation with FORBIDDEN when the caller's account is not writable."""

    def resolve(
        self,
        next_: Callable[..., Any],
        source: Any,
        info: Info[RequestContext, None],
        **kwargs: Any,
    ) -> Any:
        principal = info.context.known_principal()
        if principal is None:
            raise unauthenticated()
        _judge(principal)
        return next_(source, info, **kwargs)

    async def resolve_async(
        self,
        next_: Callable[..., Awaitable[Any]],
        source: Any,
        info: Info[RequestContext, None],
        **kwargs: Any,
    ) -> Any:
        principal = await info.context.principal()
        _judge(principal)
        return await next_(source, info, **kwargs)


def read_only_guard(mutation_type: type) -> type:
    """Give every field of `mutation_type` but the allowlisted ones `AccountWritable`,
    as the first extension (outermost): the account is judged before anything else."""
    definition: StrawberryObjectDefinition = mutation_type.__strawberry_definition__  # type: ignore[attr-defined]  # strawberry sets it on decorated types
    for field in definition.fields:
        name = field.graphql_name or to_camel_case(field.python_name)
        if name in WRITABLE_WHEN_READ_ONLY:
            continue
        if not any(isinstance(e, AccountWritable) for e in field.extensions):
            field.extensions.insert(0, AccountWritable())
    return mutation_type

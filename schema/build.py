"""The GraphQL schema: every domain's queries and mutations merged into one."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from audora.platform.config import Settings
from audora.schema.access_log import NoteDocument, logged_stream
from audora.schema.audit.queries import AuditQuery
from audora.schema.calls.mutations import CallsMutation
from audora.schema.calls.queries import CallsQuery
from audora.schema.calls.subscriptions import CallsSubscription
from audora.schema.clients.mutations import ClientsMutation
from audora.schema.clients.queries import ClientsQuery
from audora.schema.directive_limits import directive_limiter
from audora.schema.documents.mutations import DocumentsMutation
from audora.schema.documents.queries import DocumentsQuery
from audora.schema.errors import ErrorPolicy, HideSuggestions, format_error, without_suggestions
from audora.schema.identity.mutations import IdentityMutation
from audora.schema.identity.queries import IdentityQuery
from audora.schema.integrations.mutations import IntegrationsMutation
from audora.schema.integrations.queries import IntegrationsQuery
from audora.schema.lifecycle.mutations import LifecycleMutation
from audora.schema.lifecycle.queries import LifecycleQuery
from audora.schema.members.mutations import MembersMutation
from audora.schema.members.queries import MembersQuery
from audora.schema.persisted import load_manifest, persisted_only
from audora.schema.read_only import read_only_guard
from audora.schema.rules import (
    NoSubscriptionsOverHttp,
    StandaloneIdentityMutations,
    SubscriptionsOnly,
    operation_limits,
)
from audora.schema.scalars import SCALARS
from audora.schema.security.mutations import SecurityMutation
from audora.schema.staff_access.mutations import StaffAccessMutation
from audora.schema.staff_access.queries import StaffAccessQuery
from audora.schema.valid_documents import KnownValidDocuments, SkipKnownValidDocuments

Query = merge_types(
    "Query",
    (
        IdentityQuery,
        MembersQuery,
        ClientsQuery,
        CallsQuery,
        DocumentsQuery,
        AuditQuery,
        IntegrationsQuery,
        StaffAccessQuery,
        LifecycleQuery,
    ),
)
# Every mutation is refused for a read-only (suspended, closed) account unless allowlisted.
Mutation = read_only_guard(
    merge_types(
        "Mutation",
        (
            IdentityMutation,
            MembersMutation,
            ClientsMutation,
            CallsMutation,
            DocumentsMutation,
            IntegrationsMutation,
            StaffAccessMutation,
            LifecycleMutation,
            SecurityMutation,
        ),
    )
)

Subscription = merge_types("Subscription", (CallsSubscription,))


class AudoraSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Strawberry logs every error, expected ones included; `ErrorPolicy` logs the
        unexpected ones (with their correlation id) and nothing else."""


@dataclass(frozen=True)
class Limits:
    """What an operation over HTTP may ask for (OWASP GraphQL cheat sheet); every
    refusal is BAD_USER_INPUT naming its limit, before anything runs."""

    max_depth: int = 12
    max_aliases: int = 15
    max_tokens: int = 2000
    max_cost: int = 5000
    max_directives: int = 10
    # With persisted documents only: the manifest's hashes, the only documents that run.
    persisted_only: frozenset[str] | None = None
    # Introspection and "Did you mean ...?" hints: dev only. The SDL is exported from
    # code (`schema/export.py`), never by introspection over HTTP.
    introspection: bool = False

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            max_depth=settings.graphql_max_depth,
            max_aliases=settings.graphql_max_aliases,
            max_tokens=settings.graphql_max_tokens,
            max_cost=settings.graphql_max_cost,
            max_directives=settings.graphql_max_directives,
            persisted_only=(
                load_manifest(settings.graphql_persisted_documents).hashes
                if settings.graphql_persisted_only and settings.graphql_persisted_documents
                else None
            ),
            introspection=settings.env == "dev",
        )


# Distinct query texts a schema remembers as valid: far more than any client sends.
VALID_DOCUMENTS_KEPT = 1024


def build_schema(limits: Limits | None = None) -> strawberry.Schema:
    """The schema `POST /graphql` executes under `limits` (and the exported SDL)."""
    return _build_schema(limits or Limits())


@cache
def _build_schema(limits: Limits) -> strawberry.Schema:
    rules: list[type[ASTValidationRule]] = [
        StandaloneIdentityMutations,
        NoSubscriptionsOverHttp,
        operation_limits(limits.max_depth, limits.max_cost),
    ]
    # Factories, not instances: each request gets extensions of its own.
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = []
    # One per schema: its rules and limits are what made the remembered texts valid.
    known_valid = KnownValidDocuments(size=VALID_DOCUMENTS_KEPT)
    if not limits.introspection:
        extensions += [HideSuggestions, DisableIntrospection]
    extensions += [
        ErrorPolicy,
        NoteDocument,
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: MaxAliasesLimiter(max_alias_count=limits.max_aliases),
        directive_limiter(limits.max_directives),
        lambda: AddValidationRules(rules),
        lambda: SkipKnownValidDocuments(known_valid),
    ]
    if limits.persisted_only is not None:
        extensions.insert(0, persisted_only(limits.persisted_only))
    return AudoraSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALARS),
    )


class SubscriptionSchema(AudoraSchema):
    # Outside dev, no "Did you mean ...?" hints on the socket either.
    hide_suggestions: bool = True

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """A subscription's errors reach the socket without passing `ErrorPolicy`'s
        hook (it runs once per operation, not per message): give each its code here,
        in place, since the transport formats the very objects it holds."""
        for error in errors:
            shaped = format_error(error)
            error.message = (
                without_suggestions(shaped.message) if self.hide_suggestions else shaped.message
            )
            error.extensions = shaped.extensions

    async def stream(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> AsyncGenerator[Any, None]:
        """Every subscription leaves an access-log row, as every request on /graphql."""
        started = context_value.runtime.clock.now() if context_value is not None else None
        results = await super().stream(
            query, variable_values, context_value, root_value, operation_name, *args, **kwargs
        )
        if context_value is None or started is None:
            return results
        return logged_stream(results, context_value, started, query, operation_name)


def build_subscription_schema(limits: Limits | None = None) -> strawberry.Schema:
    """The same types for the WebSocket, which runs subscriptions only, under the
    same limits (the time limit aside: a subscription lasts as long as its stream)."""
    return _build_subscription_schema(limits or Limits())


@cache
def _build_subscription_schema(limits: Limits) -> strawberry.Schema:
    rules: list[type[ASTValidationRule]] = [
        SubscriptionsOnly,
        operation_limits(limits.max_depth, limits.max_cost),
    ]
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        ErrorPolicy,
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: MaxAliasesLimiter(max_alias_count=limits.max_aliases),
        directive_limiter(limits.max_directives),
        lambda: AddValidationRules(rules),
    ]
    if limits.persisted_only is not None:
        extensions.insert(0, persisted_only(limits.persisted_only))
    if not limits.introspection:
        extensions.append(DisableIntrospection)
    schema = SubscriptionSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALARS),
    )
    schema.hide_suggestions = not limits.introspection
    return schema

"""The GraphQL schema: every domain's queries and mutations merged into one."""

from __future__ import annotations

from functools import cache
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import AddValidationRules
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from audora.schema.access_log import NoteDocument
from audora.schema.audit.queries import AuditQuery
from audora.schema.calls.mutations import CallsMutation
from audora.schema.calls.queries import CallsQuery
from audora.schema.calls.subscriptions import CallsSubscription
from audora.schema.clients.mutations import ClientsMutation
from audora.schema.clients.queries import ClientsQuery
from audora.schema.documents.mutations import DocumentsMutation
from audora.schema.documents.queries import DocumentsQuery
from audora.schema.errors import ErrorPolicy, format_error
from audora.schema.identity.mutations import IdentityMutation
from audora.schema.identity.queries import IdentityQuery
from audora.schema.integrations.mutations import IntegrationsMutation
from audora.schema.integrations.queries import IntegrationsQuery
from audora.schema.lifecycle.mutations import LifecycleMutation
from audora.schema.lifecycle.queries import LifecycleQuery
from audora.schema.members.mutations import MembersMutation
from audora.schema.members.queries import MembersQuery
from audora.schema.read_only import read_only_guard
from audora.schema.rules import (
    NoSubscriptionsOverHttp,
    StandaloneIdentityMutations,
    SubscriptionsOnly,
)
from audora.schema.scalars import SCALARS
from audora.schema.security.mutations import SecurityMutation
from audora.schema.staff_access.mutations import StaffAccessMutation
from audora.schema.staff_access.queries import StaffAccessQuery

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


@cache
def build_schema() -> strawberry.Schema:
    """The schema `POST /graphql` executes (and the exported SDL)."""
    return AudoraSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[
            ErrorPolicy,
            NoteDocument,
            lambda: AddValidationRules([StandaloneIdentityMutations, NoSubscriptionsOverHttp]),
        ],
        config=StrawberryConfig(scalar_map=SCALARS),
    )


class SubscriptionSchema(AudoraSchema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """A subscription's errors reach the socket without passing `ErrorPolicy`'s
        hook (it runs once per operation, not per message): give each its code here,
        in place, since the transport formats the very objects it holds."""
        for error in errors:
            shaped = format_error(error)
            error.message = shaped.message
            error.extensions = shaped.extensions


@cache
def build_subscription_schema() -> strawberry.Schema:
    """The same types for the WebSocket, which runs subscriptions only."""
    return SubscriptionSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[ErrorPolicy, lambda: AddValidationRules([SubscriptionsOnly])],
        config=StrawberryConfig(scalar_map=SCALARS),
    )

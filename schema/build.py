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
from audora.schema.clients.mutations import ClientsMutation
from audora.schema.clients.queries import ClientsQuery
from audora.schema.documents.mutations import DocumentsMutation
from audora.schema.documents.queries import DocumentsQuery
from audora.schema.errors import ErrorPolicy
from audora.schema.identity.mutations import IdentityMutation
from audora.schema.identity.queries import IdentityQuery
from audora.schema.members.mutations import MembersMutation
from audora.schema.members.queries import MembersQuery
from audora.schema.rules import StandaloneIdentityMutations
from audora.schema.scalars import SCALARS

Query = merge_types(
    "Query",
    (IdentityQuery, MembersQuery, ClientsQuery, CallsQuery, DocumentsQuery, AuditQuery),
)
Mutation = merge_types(
    "Mutation",
    (IdentityMutation, MembersMutation, ClientsMutation, CallsMutation, DocumentsMutation),
)


class AudoraSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Strawberry logs every error, expected ones included; `ErrorPolicy` logs the
        unexpected ones (with their correlation id) and nothing else."""


@cache
def build_schema() -> strawberry.Schema:
    return AudoraSchema(
        query=Query,
        mutation=Mutation,
        extensions=[
            ErrorPolicy,
            NoteDocument,
            lambda: AddValidationRules([StandaloneIdentityMutations]),
        ],
        config=StrawberryConfig(scalar_map=SCALARS),
    )

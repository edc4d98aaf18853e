"""The GraphQL schema: every domain's queries and mutations merged into one."""

from __future__ import annotations

from functools import cache
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import AddValidationRules
from strawberry.tools import merge_types

from audora.schema.clients.mutations import ClientsMutation
from audora.schema.clients.queries import ClientsQuery
from audora.schema.errors import ErrorPolicy
from audora.schema.identity.mutations import IdentityMutation
from audora.schema.identity.queries import IdentityQuery
from audora.schema.rules import StandaloneIdentityMutations

Query = merge_types("Query", (IdentityQuery, ClientsQuery))
Mutation = merge_types("Mutation", (IdentityMutation, ClientsMutation))


class AudoraSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Strawberry logs every error, expected ones included; `ErrorPolicy` logs the
        unexpected ones (with their correlation id) and nothing else."""


@cache
def build_schema() -> strawberry.Schema:
    return AudoraSchema(
        query=Query,
        mutation=Mutation,
        extensions=[ErrorPolicy, lambda: AddValidationRules([StandaloneIdentityMutations])],
    )

"""The GraphQL schema: every domain's queries and mutations merged into one."""

from __future__ import annotations

from functools import cache

import strawberry
from strawberry.tools import merge_types

from audora.schema.clients.mutations import ClientsMutation
from audora.schema.clients.queries import ClientsQuery
from audora.schema.errors import ErrorPolicy
from audora.schema.identity.mutations import IdentityMutation
from audora.schema.identity.queries import IdentityQuery

Query = merge_types("Query", (IdentityQuery, ClientsQuery))
Mutation = merge_types("Mutation", (IdentityMutation, ClientsMutation))


@cache
def build_schema() -> strawberry.Schema:
    return strawberry.Schema(query=Query, mutation=Mutation, extensions=[ErrorPolicy])

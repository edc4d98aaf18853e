from __future__ import annotations

import strawberry

from audora.tenants.integrations.models import IntegrationKind


@strawberry.input(
    description="LINEAR needs apiKey and teamId, NOTION apiKey and databaseId (url, if "
    "given, replaces the API's own endpoint); WEBHOOK needs url and takes no apiKey: "
    "Audora makes its signing secret. URLs are https, to public addresses only."
)
class ConnectIntegrationInput:
    kind: IntegrationKind
    name: str
    url: str | None = None
    api_key: str | None = None
    team_id: str | None = None
    database_id: str | None = None


@strawberry.input
class PreparePushInput:
    document_id: strawberry.ID
    integration_id: strawberry.ID

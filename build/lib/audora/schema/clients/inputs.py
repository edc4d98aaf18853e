from __future__ import annotations

import strawberry


@strawberry.input
class CreateClientProfileInput:
    name: str
    contact_email: str | None = None
    notes: str | None = None
    budget: str | None = None


@strawberry.input(description="Fields left out (or null) keep their value.")
class UpdateClientProfileInput:
    id: strawberry.ID
    name: str | None = None
    contact_email: str | None = None
    notes: str | None = None
    budget: str | None = None

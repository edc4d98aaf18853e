"""Client profiles: the agency's clients, under which calls and documents hang."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import RowMapping

from audora.platform.auth.principal import Principal
from audora.platform.auth.validation import clean_name, normalize_email
from audora.platform.db.tenant_binding import TenantUnitOfWork
from audora.platform.errors import bad_input, not_found
from audora.tenants.clients import repository

MAX_NOTES = 20_000
MAX_BUDGET = 200
MAX_LIST = 500


@dataclass(frozen=True)
class ClientProfileChanges:
    name: str | None = None
    contact_email: str | None = None
    notes: str | None = None
    budget: str | None = None


def _validated(changes: ClientProfileChanges) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    if changes.name is not None:
        values["name"] = clean_name(changes.name, field="name")
    if changes.contact_email is not None:
        values["contact_email"] = (
            normalize_email(changes.contact_email) if changes.contact_email.strip() else None
        )
    if changes.notes is not None:
        if len(changes.notes) > MAX_NOTES:
            raise bad_input(f"notes must be at most {MAX_NOTES} characters", field="notes")
        values["notes"] = changes.notes
    if changes.budget is not None:
        if len(changes.budget) > MAX_BUDGET:
            raise bad_input(f"budget must be at most {MAX_BUDGET} characters", field="budget")
        values["budget"] = changes.budget.strip() or None
    return values


async def create_profile(
    uow: TenantUnitOfWork, principal: Principal, changes: ClientProfileChanges
) -> RowMapping:
    if changes.name is None:
        raise bad_input("name is required", field="name")
    values = _validated(changes)
    return await repository.create(uow, id=uuid.uuid4(), created_by=principal.user_id, **values)


async def update_profile(
    uow: TenantUnitOfWork,
    principal: Principal,
    profile_id: uuid.UUID,
    changes: ClientProfileChanges,
) -> RowMapping:
    values = _validated(changes)
    if not values:
        row = await repository.get(uow, profile_id, principal.client_profile_ids)
    else:
        row = await repository.update_one(uow, profile_id, principal.client_profile_ids, **values)
    if row is None:
        raise not_found("client profile")
    return row


async def get_profile(
    uow: TenantUnitOfWork, principal: Principal, profile_id: uuid.UUID
) -> RowMapping:
    row = await repository.get(uow, profile_id, principal.client_profile_ids)
    if row is None:
        raise not_found("client profile")
    return row


async def list_profiles(uow: TenantUnitOfWork, principal: Principal) -> list[RowMapping]:
    return await repository.list_all(uow, principal.client_profile_ids, limit=MAX_LIST)

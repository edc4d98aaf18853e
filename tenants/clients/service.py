"""Client profiles: the agency's clients, under which calls and documents hang."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping

from audora.platform.auth.principal import Principal
from audora.platform.auth.validation import clean_name, normalize_email
from audora.platform.db.tenant_binding import TenantUnitOfWork
from audora.platform.errors import bad_input, not_found
from audora.platform.keys.service import KeyService
from audora.tenants.clients import repository
from audora.tenants.keys.data_keys import FieldSealer
from audora.tenants.keys.sealed_columns import sealed_object_id

# Notes and budgets are sealed with the tenant's "clients" data key.
PURPOSE = "clients"
SEALED_COLUMNS = ("notes", "budget")
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


@dataclass(frozen=True)
class ClientProfileRecord:
    """A client profile as callers see it: notes and budget opened."""

    id: uuid.UUID
    name: str
    contact_email: str | None
    notes: str | None
    budget: str | None
    created_by: uuid.UUID
    created_at: datetime
    updated_at: datetime


def _sealer(uow: TenantUnitOfWork, keys: KeyService, principal: Principal) -> FieldSealer:
    return FieldSealer(uow, keys, principal.account_id, PURPOSE)


def _object_id(profile_id: uuid.UUID, column: str) -> str:
    return sealed_object_id("client_profiles", profile_id, column)


async def _sealed(
    sealer: FieldSealer, profile_id: uuid.UUID, values: dict[str, str | None]
) -> dict[str, object]:
    out: dict[str, object] = dict(values)
    for column in SEALED_COLUMNS:
        if column in values:
            out[column] = await sealer.seal(_object_id(profile_id, column), values[column])
    return out


async def _record(sealer: FieldSealer, row: RowMapping) -> ClientProfileRecord:
    return ClientProfileRecord(
        id=row["id"],
        name=row["name"],
        contact_email=row["contact_email"],
        notes=await sealer.open(_object_id(row["id"], "notes"), row["notes"]),
        budget=await sealer.open(_object_id(row["id"], "budget"), row["budget"]),
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def create_profile(
    uow: TenantUnitOfWork, keys: KeyService, principal: Principal, changes: ClientProfileChanges
) -> ClientProfileRecord:
    if changes.name is None:
        raise bad_input("name is required", field="name")
    values = _validated(changes)
    profile_id = uuid.uuid4()
    sealer = _sealer(uow, keys, principal)
    row = await repository.create(
        uow,
        id=profile_id,
        created_by=principal.user_id,
        **await _sealed(sealer, profile_id, values),
    )
    return await _record(sealer, row)


async def update_profile(
    uow: TenantUnitOfWork,
    keys: KeyService,
    principal: Principal,
    profile_id: uuid.UUID,
    changes: ClientProfileChanges,
) -> ClientProfileRecord:
    values = _validated(changes)
    sealer = _sealer(uow, keys, principal)
    if not values:
        row = await repository.get(uow, profile_id, principal.client_profile_ids)
    else:
        row = await repository.update_one(
            uow,
            profile_id,
            principal.client_profile_ids,
            **await _sealed(sealer, profile_id, values),
        )
    if row is None:
        raise not_found("client profile")
    return await _record(sealer, row)


async def get_profile(
    uow: TenantUnitOfWork, keys: KeyService, principal: Principal, profile_id: uuid.UUID
) -> ClientProfileRecord:
    row = await repository.get(uow, profile_id, principal.client_profile_ids)
    if row is None:
        raise not_found("client profile")
    return await _record(_sealer(uow, keys, principal), row)


async def list_profiles(
    uow: TenantUnitOfWork, keys: KeyService, principal: Principal
) -> list[ClientProfileRecord]:
    rows = await repository.list_all(uow, principal.client_profile_ids, limit=MAX_LIST)
    sealer = _sealer(uow, keys, principal)
    return [await _record(sealer, row) for row in rows]

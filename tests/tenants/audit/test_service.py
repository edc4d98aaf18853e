"""The audit log's reader refuses on its own, not only at the GraphQL field: a role
without audit:read, and any seat scoped to some client profiles (the log is the whole
account's)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from audora.platform.auth.principal import Principal, Role
from audora.platform.db.tenant_binding import TenantRef, tenant_transaction
from audora.platform.db.tenant_names import validate_tenant_schema
from audora.platform.errors import AppError
from audora.platform.runtime import Runtime
from audora.tenants.audit import service

from audora_testing import GraphQL, schema_of, sign_up


def _principal(owner: dict[str, Any], role: Role, scope: tuple[uuid.UUID, ...] | None) -> Principal:
    return Principal(
        session_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        email="someone@example.com",
        full_name="Someone",
        account_id=uuid.UUID(hex=owner["account"]["id"][4:]),
        account_name="Scoped Reader",
        account_status="ACTIVE",
        role=role,
        tenant=TenantRef(validate_tenant_schema(schema_of(owner["account"]["id"]))),
        client_profile_ids=scope,
    )


@pytest.mark.parametrize(
    ("role", "scope"),
    [(Role.VIEWER, None), (Role.MEMBER, None), (Role.ADMIN, (uuid.uuid4(),)), (Role.ADMIN, ())],
)
async def test_the_audit_log_is_refused_to_roles_without_audit_read_and_to_scoped_seats(
    gql: GraphQL, runtime: Runtime, role: Role, scope: tuple[uuid.UUID, ...] | None
) -> None:
    owner = await sign_up(gql, "Scoped Reader")
    principal = _principal(owner, role, scope)
    async with tenant_transaction(runtime.tenant_engines, principal.tenant) as uow:
        with pytest.raises(AppError) as listing:
            await service.list_events(uow, principal)
        with pytest.raises(AppError) as checking:
            await service.check_chain(uow, principal)
    assert listing.value.code == checking.value.code == "FORBIDDEN"
    async with tenant_transaction(runtime.tenant_engines, principal.tenant) as uow:
        page = await service.list_events(uow, _principal(owner, Role.ADMIN, None))
    assert [e.action for e in page.events] == ["account.created"]

"""Tenants these tests placed on the second cluster go home to the primary afterwards:
later tests (and the operator commands they run in subprocesses) know the primary only,
and a tenant they cannot reach would fail their runs over every tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from audora.platform.errors import AppError, ErrorCode
from audora.platform.runtime import Runtime
from audora.tenants.placement.move import move_tenant
from audora.tenants.registry.tables import tenant_placements


# Per module: pytest tears a folder-level ("package") fixture down only at the end of the run.
@pytest.fixture(scope="module", autouse=True)
async def tenants_go_home_afterwards(placed_runtime: Runtime) -> AsyncIterator[None]:
    yield
    runtime = placed_runtime
    async with runtime.platform_engine.connect() as conn:
        away = (
            await conn.execute(
                select(tenant_placements.c.account_id).where(
                    tenant_placements.c.cluster != "primary"
                )
            )
        ).scalars()
        accounts = list(away)
    for account_id in accounts:
        try:
            await move_tenant(runtime, account_id, "primary")
        except AppError as exc:
            if exc.code is not ErrorCode.NOT_FOUND:  # a sign-up a test made fail
                raise

"""Helpers for tests with tenants on two clusters (fixtures `second_cluster`,
`placed_settings`, `placed_runtime`, `placed_gql` in conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import Engine, create_engine, select, text

from audora.platform.runtime import Runtime
from audora.tenants.placement.clusters import set_cluster
from audora.tenants.registry.tables import tenant_placements


@asynccontextmanager
async def only_open(runtime: Runtime, cluster: str) -> AsyncIterator[None]:
    """New tenants go to `cluster`: every other cluster drains meanwhile."""
    others = [name for name in runtime.tenant_engines.names if name != cluster]
    for name in others:
        await set_cluster(runtime.tenant_engines, name, state="DRAINING", weight=None)
    try:
        yield
    finally:
        for name in others:
            await set_cluster(runtime.tenant_engines, name, state="OPEN", weight=None)


async def placement_of(runtime: Runtime, account_id: uuid.UUID) -> str:
    async with runtime.platform_engine.connect() as conn:
        cluster: str = (
            await conn.execute(
                select(tenant_placements.c.cluster).where(
                    tenant_placements.c.account_id == account_id
                )
            )
        ).scalar_one()
    return cluster


def _exists_on(url: str, query: str, name: str) -> bool:
    engine: Engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(text(query), {"name": name}).first()
    finally:
        engine.dispose()
    return found is not None


def schema_on(url: str, schema: str) -> bool:
    """Whether the cluster at `url` (an operator's URL) has `schema`."""
    return _exists_on(url, "SELECT 1 FROM pg_namespace WHERE nspname = :name", schema)


def role_on(url: str, role: str) -> bool:
    """Whether the cluster at `url` (an operator's URL) has the role `role`."""
    return _exists_on(url, "SELECT 1 FROM pg_roles WHERE rolname = :name", role)

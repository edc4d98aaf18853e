"""The one place where a database transaction is bound to a tenant.

A request's transaction runs as the tenant's own role with the tenant's schema as its
only search path: `SET LOCAL ROLE` and `SET LOCAL search_path`, both undone at commit or
rollback so no binding outlives its transaction or leaks to the next user of the pooled
connection. The application role is NOINHERIT, so outside a binding it holds none of the
tenant roles' privileges and reaches no tenant table; under tenant A's binding, tenant B's
schema is simply not granted to A's role.

No other module issues SET ROLE, RESET ROLE or SET search_path: the engine guard parses
every statement and refuses those (and COMMIT, DO blocks, set_config ...) unless they
come from here (see `engines.BINDER_OPTION` and `statement_guard`), and a test scans the
source tree for them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Executable, Result, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from audora.platform.db.engines import BINDER_OPTION
from audora.platform.db.tenant_engines import TenantEngines
from audora.platform.db.tenant_names import ScratchSchema, TenantSchema, tenant_role

# Binds, unless the tenant's schema is not on this cluster (false, nothing set): the
# check that catches a placement remembered from before a move costs no round trip.
_BIND = text(
    "SELECT CASE WHEN to_regnamespace(:name) IS NULL THEN false "
    "ELSE set_config('role', :role, true) IS NOT NULL "
    "AND set_config('search_path', :schema, true) IS NOT NULL END"
).execution_options(**{BINDER_OPTION: True})

_MIGRATOR_PATH = text("SELECT set_config('search_path', :schema, true)").execution_options(
    **{BINDER_OPTION: True}
)


def search_path(schema: TenantSchema) -> str:
    """The tenant's schema, then the catalog, and the temporary schema last rather than
    implicitly first, so no temporary table can ever shadow a tenant table."""
    return f"{schema}, pg_catalog, pg_temp"


def script_search_path(schema: TenantSchema) -> str:
    """The line of a SQL script (a backup's, a move's) that puts its unqualified DDL in
    `schema`. psql runs it on a connection of its own, never one of the pools; it is
    here with every other search_path of the platform."""
    return f"SET search_path = {search_path(schema)};"


@dataclass(frozen=True)
class TenantRef:
    """Which tenant a unit of work is bound to. Made from a session, never from input."""

    schema: TenantSchema


class TenantUnitOfWork:
    """A transaction bound to one tenant. Statements are serialised because GraphQL
    resolves sibling fields concurrently and a connection runs one statement at a time.
    Services only execute; whoever opened the unit of work commits it."""

    def __init__(self, conn: AsyncConnection, tenant: TenantRef) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self.tenant = tenant

    async def execute(self, statement: Executable, params: Any = None) -> Result[Any]:
        async with self._lock:
            return await self._conn.execute(statement, params)

    async def commit(self) -> None:
        async with self._lock:
            await self._conn.commit()

    async def rollback(self) -> None:
        async with self._lock:
            await self._conn.rollback()


class TenantNotHere(RuntimeError):
    """The tenant's schema is on none of the clusters its placement named (purged, or
    mid-move on a process that could not yet see the new placement)."""


async def _bound_connection(engines: TenantEngines, tenant: TenantRef) -> AsyncConnection:
    """A connection to the tenant's cluster, in a transaction bound to the tenant. A
    remembered placement that turns out stale is read again once."""
    for attempt in range(2):
        engine = await engines.gateway_for(tenant.schema)
        conn = await engine.connect()
        try:
            await conn.begin()
            here = (
                await conn.execute(
                    _BIND,
                    {
                        "name": str(tenant.schema),
                        "role": tenant_role(tenant.schema),
                        "schema": search_path(tenant.schema),
                    },
                )
            ).scalar_one()
        except BaseException:
            await conn.close()
            raise
        if here:
            return conn
        await conn.close()
        engines.forget(tenant.schema)
        if attempt == 0:
            continue
    raise TenantNotHere(f"tenant {tenant.schema} is not on the cluster it is placed on")


def moved_away(exc: BaseException) -> bool:
    """Whether `exc` is a statement that waited on a moving tenant's fence and then found
    its tables dropped (undefined_table): the tenant is on another cluster now, and a
    short transaction of its own may simply run again (`tenants/placement/move.py`)."""
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) == "42P01"


@asynccontextmanager
async def tenant_transaction(
    engines: TenantEngines, tenant: TenantRef
) -> AsyncIterator[TenantUnitOfWork]:
    """A transaction bound to `tenant`, on the cluster the tenant is placed on. It is
    rolled back unless the caller commits, so an exception or a forgotten commit never
    half-writes."""
    conn = await _bound_connection(engines, tenant)
    try:
        yield TenantUnitOfWork(conn, tenant)
    finally:
        try:
            if conn.in_transaction():
                await conn.rollback()
        finally:
            await conn.close()


@contextmanager
def migrator_search_path(conn: Connection, schema: TenantSchema) -> Iterator[None]:
    """Point a schema owner's migration transaction at one tenant schema.

    Migrations run as the provisioner (the schema owner), not as the tenant role, since
    the tenant role must not be able to alter its own tables.
    """
    conn.execute(_MIGRATOR_PATH, {"schema": search_path(schema)})
    yield


async def point_provisioner_at(conn: AsyncConnection, schema: TenantSchema) -> None:
    """The provisioning transaction's equivalent of `migrator_search_path`."""
    await conn.execute(_MIGRATOR_PATH, {"schema": search_path(schema)})


async def point_provisioner_at_scratch(conn: AsyncConnection, schema: ScratchSchema) -> None:
    """A restore drill's transaction, as the provisioner that owns the restored copy,
    pointed at that copy: the tenant's own queries (the audit chain's check) then read it
    instead of the live schema."""
    await conn.execute(_MIGRATOR_PATH, {"schema": f"{schema}, pg_catalog, pg_temp"})

"""`audora tenants move`: one tenant's schema from its cluster to another, under a short
read-only window, verified before anything points at the copy.

1. Window: the placement row is marked `moving_since`. Mutations are refused with
   FORBIDDEN and a message of its own (schema/read_only.py: it does not read like a
   suspension), and jobs start nothing new for the account (`account_is_writable`), as
   for a read-only account. Reads go on.
2. Fence: on the source, the schema owner locks every tenant table IN EXCLUSIVE MODE
   (taken with NOWAIT and retried, so the mover never queues in front of the tenant's
   own work). In-flight writers finish first; writes that come later (the access log
   of a read, a job's write) wait; reads do not.
3. Copy: the tenant role is made on the target (same name, NOLOGIN, as provisioning
   makes it: no password to carry over), then the schema's script, written from its
   rows on the source as the source's provisioner (`backups/schema_script.py`: the
   tables are provisioning's own, with their grants), is fed to `psql
   --single-transaction` as the target's provisioner. A schema not at the migration head
   goes by `pg_dump --format=custom` piped into `pg_restore --single-transaction`
   instead (the pgserver wheel's binaries, `platform/db/pg_tools`); pg_dump reads the
   whole database's catalog, about a minute at 10,000 tenants.
4. Verify: per table the row count and an md5 over the md5 of every row's text, sorted
   (order-independent); every sequence's position; the alembic version. Read from both
   sides in UTC, so timestamps print alike.
5. Switch: the placement names the target and the window ends, in one row update.
6. Drop: the source schema is dropped in the fence's own transaction, then its role.
   Writers that waited on the fence then fail on the dropped tables, are retried by
   their callers (jobs by arq; the access log and lone audit entries once, at once) and
   land on the target, since a binding that finds no schema reads the placement again
   (`tenant_binding`). The source is dropped at once rather than kept for a grace
   period: the copy was verified row by row, the nightly backups cover both sides, and
   a second copy of customer data that purge and erasure would have to know about is
   a liability of its own.

A failure at any step before the switch rolls the fence back (the source was never
changed), drops the partial copy on the target and ends the window: the tenant stays
readable, then writable, on its source, and its placement is unchanged. A move and a
purge of the same account never overlap (they share an advisory lock).
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from audora.platform.config import ClusterUrls
from audora.platform.db.engines import guard
from audora.platform.db.pg_tools import (
    PsqlRefused,
    child_env,
    libpq_target,
    pg_tool,
    run_script,
)
from audora.platform.db.role_makers import create_tenant_role, drop_tenant_role
from audora.platform.db.tenant_binding import TenantRef
from audora.platform.db.tenant_names import TenantSchema, tenant_schema
from audora.platform.errors import AppError, ErrorCode
from audora.platform.runtime import Runtime
from audora.tenants.audit.log import AuditEntry, append_alone
from audora.tenants.backups.schema_script import script_at_head
from audora.tenants.migrate.streams import head
from audora.tenants.placement.clusters import OPEN
from audora.tenants.registry.tables import accounts, clusters, tenant_placements

log = logging.getLogger(__name__)

# How long the fence tries to take its locks (NOWAIT, retried) before the move gives up.
FENCE_TRIES = 50
FENCE_PAUSE_SECONDS = 0.2


class MoveFailed(AppError):
    """The move stopped; the tenant is still on its source, placement unchanged."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code=ErrorCode.INTERNAL)


@dataclass
class Snapshot:
    """What must be equal on both sides: per table (rows, checksum), per sequence its
    position, and the alembic version."""

    tables: dict[str, tuple[int, str]] = field(default_factory=dict)
    sequences: dict[str, tuple[int, bool]] = field(default_factory=dict)
    version: str | None = None

    def differences(self, other: Snapshot) -> list[str]:
        found = [
            f"table {name}"
            for name in sorted(set(self.tables) | set(other.tables))
            if self.tables.get(name) != other.tables.get(name)
        ]
        found += [
            f"sequence {name}"
            for name in sorted(set(self.sequences) | set(other.sequences))
            if self.sequences.get(name) != other.sequences.get(name)
        ]
        if self.version != other.version:
            found.append("alembic version")
        return found


@dataclass(frozen=True)
class Moved:
    account_id: uuid.UUID
    source: str
    target: str
    tables: int
    rows: int
    version: str | None
    source_dropped: bool


Step = Callable[[str], None]


async def move_tenant(
    runtime: Runtime, account_id: uuid.UUID, target: str, *, on_step: Step = lambda s: None
) -> Moved:
    """Move the account's schema to the cluster `target`; see the module docstring."""
    engines = runtime.tenant_engines
    if target not in engines.names:
        raise AppError(f"no cluster named {target!r} is configured", code=ErrorCode.BAD_USER_INPUT)
    key = f"purge:{account_id}"  # shared with the purge: never both at once
    async with runtime.platform_provisioner.connect() as lock_conn:
        locked = (
            await lock_conn.execute(text("SELECT pg_try_advisory_lock(hashtext(:k))"), {"k": key})
        ).scalar_one()
        await lock_conn.commit()
        if not locked:
            raise AppError(
                f"account {account_id} is being moved or purged by another process",
                code=ErrorCode.CONFLICT,
            )
        try:
            source = await _open_window(runtime, account_id, target)
            on_step(f"read-only window open; moving from {source} to {target}")
            try:
                moved = await _copy_and_switch(runtime, account_id, source, target, on_step)
            except BaseException:
                await _close_window(runtime, account_id)
                on_step("failed: the tenant stays on its source; window closed")
                raise
        finally:
            await lock_conn.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": key})
            await lock_conn.commit()
    await append_alone(
        engines,
        TenantRef(tenant_schema(account_id)),
        runtime.clock.now(),
        AuditEntry(
            actor="system:move",
            action="account.moved",
            target=f"account:{account_id}",
            details={"from": source, "to": target},
        ),
    )
    return moved


async def _open_window(runtime: Runtime, account_id: uuid.UUID, target: str) -> str:
    """Check the move makes sense, mark the window; the source cluster."""
    async with runtime.platform_provisioner.begin() as conn:
        row = (
            await conn.execute(
                select(accounts.c.status, tenant_placements.c.cluster)
                .join(tenant_placements, tenant_placements.c.account_id == accounts.c.id)
                .where(accounts.c.id == account_id)
                .with_for_update(of=tenant_placements)
            )
        ).first()
        if row is None or row.status == "PURGED":
            raise AppError("no such account", code=ErrorCode.NOT_FOUND)
        if row.cluster == target:
            raise AppError(f"the account is on {target} already", code=ErrorCode.BAD_USER_INPUT)
        state = (
            await conn.execute(select(clusters.c.state).where(clusters.c.name == target))
        ).scalar_one_or_none()
        if state != OPEN:
            raise AppError(
                f"cluster {target} is {state or 'not recorded (run audora migrate)'}; "
                "only an OPEN cluster takes tenants",
                code=ErrorCode.BAD_USER_INPUT,
            )
        # Set again if a crashed move left it: we hold the move lock, so none is running.
        await conn.execute(
            update(tenant_placements)
            .where(tenant_placements.c.account_id == account_id)
            .values(moving_since=runtime.clock.now())
        )
    return str(row.cluster)


async def _close_window(runtime: Runtime, account_id: uuid.UUID) -> None:
    async with runtime.platform_provisioner.begin() as conn:
        await conn.execute(
            update(tenant_placements)
            .where(tenant_placements.c.account_id == account_id)
            .values(moving_since=None)
        )


async def _copy_and_switch(
    runtime: Runtime, account_id: uuid.UUID, source: str, target: str, on_step: Step
) -> Moved:
    engines = runtime.tenant_engines
    schema = tenant_schema(account_id)
    src, dst = engines.provisioner(source), engines.provisioner(target)
    if await _schema_exists(dst, schema):
        # The placement says the tenant is not there: a copy an interrupted move left.
        log.warning("dropping a leftover copy of %s on %s", schema, target)
        await _drop_copy(dst, schema)
    async with src.connect() as fence:
        await _fence(fence, schema)
        on_step("fenced: writers wait, readers go on")
        try:
            await _make_role(dst, schema)
            await _restore(runtime, schema, source, engines.urls[target])
            on_step("restored on the target")
            before, after = await _snapshots(runtime, schema, source, target)
            wrong = before.differences(after)
            if wrong:
                raise MoveFailed(f"the copy differs from the source: {', '.join(wrong)}")
            on_step(f"verified {len(before.tables)} tables, version {before.version}")
            await _switch(runtime, account_id, source, target)
        except BaseException:
            await asyncio.shield(_drop_copy(dst, schema))
            raise
        on_step("switched: the placement names the target")
        # The placement already names the target; what is left of the source goes.
        dropped = await _drop_source(fence, src, schema)
    engines.forget(schema)
    on_step("source schema and role dropped" if dropped else "SOURCE NOT DROPPED: see the log")
    return Moved(
        account_id,
        source,
        target,
        tables=len(before.tables),
        rows=sum(rows for rows, _ in before.tables.values()),
        version=before.version,
        source_dropped=dropped,
    )


async def _drop_source(fence: AsyncConnection, src: AsyncEngine, schema: TenantSchema) -> bool:
    """Drop the source schema in the fence's transaction (writers waiting on it then
    find no table and go to the target), then its role. After the switch a failure here
    no longer fails the move: it is logged and reported, and the operator drops the
    schema by hand (no binding reaches it while its tables are gone or locked)."""
    try:
        await fence.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        await fence.commit()
        async with src.begin() as conn:
            await drop_tenant_role(conn, schema)
    except Exception:
        log.exception("tenant %s moved, but its source schema or role was not dropped", schema)
        return False
    return True


async def _schema_exists(engine: AsyncEngine, schema: TenantSchema) -> bool:
    async with engine.connect() as conn:
        found = await conn.execute(
            text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": str(schema)}
        )
        return found.first() is not None


async def _tables(conn: AsyncConnection, schema: TenantSchema, kinds: str) -> list[str]:
    rows = await conn.execute(
        text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = :s AND c.relkind = ANY(:k) ORDER BY c.relname"
        ),
        {"s": str(schema), "k": list(kinds)},
    )
    return [str(r[0]) for r in rows]


async def _fence(conn: AsyncConnection, schema: TenantSchema) -> None:
    """Lock every table of the schema against writers (readers pass), in the
    connection's transaction, without ever waiting in the lock queue: NOWAIT, and on
    refusal the transaction is rolled back and tried again a little later."""
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(f"{schema}.{quote(t)}" for t in await _tables(conn, schema, "rp"))
    for _ in range(FENCE_TRIES):
        try:
            await conn.exec_driver_sql(f"LOCK TABLE {names} IN EXCLUSIVE MODE NOWAIT")
        except DBAPIError as exc:
            await conn.rollback()
            if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available
                raise
            await asyncio.sleep(FENCE_PAUSE_SECONDS)
            continue
        return
    raise MoveFailed("the tenant's tables stayed busy: try again later")


async def _make_role(engine: AsyncEngine, schema: TenantSchema) -> None:
    """The tenant role on the target, as provisioning makes it (no login, no password),
    so the restored grants have someone to go to."""
    async with engine.begin() as conn:
        await drop_tenant_role(conn, schema)
        await conn.exec_driver_sql(create_tenant_role(schema))


async def _drop_copy(engine: AsyncEngine, schema: TenantSchema) -> None:
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            await drop_tenant_role(conn, schema)
    except Exception:
        log.exception("could not drop the partial copy of %s", schema)


async def _restore(
    runtime: Runtime, schema: TenantSchema, source: str, target: ClusterUrls
) -> None:
    """The schema's script, written from its rows on the source (`schema_script`), run
    by psql on the target in one transaction; by pg_dump and pg_restore when the schema
    is not at the head. pg_dump reads the whole database's catalog, which at 10,000
    tenants held the window open about a minute."""
    provisioner = runtime.tenant_engines.provisioner(source)
    async with script_at_head(provisioner, schema, head("tenant"), privileges=True) as written:
        if written is not None:
            try:
                await run_script(runtime.settings, target.provisioner_database_url, written)
            except PsqlRefused as exc:
                raise MoveFailed(f"psql exited with {exc.code}: {_last(exc.stderr)}") from None
            return
    await _dump_and_restore(runtime, schema, runtime.tenant_engines.urls[source], target)


async def _dump_and_restore(
    runtime: Runtime, schema: TenantSchema, source: ClusterUrls, target: ClusterUrls
) -> None:
    """pg_dump of the one schema on the source, piped into pg_restore on the target."""
    settings = runtime.settings
    src_uri, src_env = libpq_target(source.provisioner_database_url)
    dst_uri, dst_env = libpq_target(target.provisioner_database_url)
    read_end, write_end = os.pipe()
    try:
        dump = await asyncio.create_subprocess_exec(
            pg_tool(settings, "pg_dump"),
            "--format=custom",
            f"--schema={schema}",
            "--no-owner",
            "--lock-wait-timeout=30000",
            f"--dbname={src_uri}",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=write_end,
            stderr=asyncio.subprocess.PIPE,
            env=child_env(src_env),
        )
        os.close(write_end)
        write_end = -1
        restore = await asyncio.create_subprocess_exec(
            pg_tool(settings, "pg_restore"),
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={dst_uri}",
            stdin=read_end,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=child_env(dst_env),
        )
        os.close(read_end)
        read_end = -1
        (_, dump_err), (_, restore_err) = await asyncio.gather(
            dump.communicate(), restore.communicate()
        )
    finally:
        for fd in (read_end, write_end):
            if fd >= 0:
                os.close(fd)
    # Their messages name objects and connection trouble, never row data.
    if dump.returncode != 0:
        raise MoveFailed(f"pg_dump exited with {dump.returncode}: {_last(dump_err)}")
    if restore.returncode != 0:
        raise MoveFailed(f"pg_restore exited with {restore.returncode}: {_last(restore_err)}")


def _last(stderr: bytes) -> str:
    lines = stderr.decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else "no message"


def _utc_engine(url: str) -> AsyncEngine:
    """A one-off connection whose session prints timestamps in UTC, for checksums that
    must come out alike on two servers with different default time zones."""
    engine = create_async_engine(
        url,
        poolclass=NullPool,
        connect_args={"options": "-c TimeZone=UTC -c DateStyle=ISO"},
        hide_parameters=True,
    )
    guard(engine.sync_engine)
    return engine


async def _snapshots(
    runtime: Runtime, schema: TenantSchema, source: str, target: str
) -> tuple[Snapshot, Snapshot]:
    urls = runtime.tenant_engines.urls
    return (
        await snapshot(urls[source].provisioner_database_url, schema),
        await snapshot(urls[target].provisioner_database_url, schema),
    )


async def snapshot(url: str, schema: TenantSchema) -> Snapshot:
    """The schema's verification facts on the cluster at `url` (a provisioner's URL)."""
    engine = _utc_engine(url)
    taken = Snapshot()
    try:
        async with engine.connect() as conn:
            quote = conn.dialect.identifier_preparer.quote
            for table in await _tables(conn, schema, "r"):
                name = f"{schema}.{quote(table)}"
                # Names from the catalog, quoted; the schema name is validated.
                counted = f"SELECT count(*), coalesce(md5(string_agg(h, '' ORDER BY h)), '') FROM (SELECT md5(t::text) AS h FROM {name} t) rows"  # noqa: S608, E501
                row = (await conn.execute(text(counted))).one()
                taken.tables[table] = (int(row[0]), str(row[1]))
            for sequence in await _tables(conn, schema, "S"):
                name = f"{schema}.{quote(sequence)}"
                row = (
                    await conn.execute(text(f"SELECT last_value, is_called FROM {name}"))  # noqa: S608
                ).one()
                taken.sequences[sequence] = (int(row[0]), bool(row[1]))
            if "alembic_version" in taken.tables:
                taken.version = (
                    await conn.execute(text(f"SELECT version_num FROM {schema}.alembic_version"))  # noqa: S608
                ).scalar_one_or_none()
    finally:
        await engine.dispose()
    return taken


async def _switch(runtime: Runtime, account_id: uuid.UUID, source: str, target: str) -> None:
    """The placement names the target and the window ends, in one statement."""
    now = runtime.clock.now()
    async with runtime.platform_provisioner.begin() as conn:
        changed = await conn.execute(
            update(tenant_placements)
            .where(
                tenant_placements.c.account_id == account_id,
                tenant_placements.c.cluster == source,
            )
            .values(cluster=target, moved_at=now, moving_since=None)
        )
    if changed.rowcount != 1:
        raise MoveFailed("the placement changed meanwhile")


def describe(moved: Moved) -> dict[str, Any]:
    return {
        "account": str(moved.account_id),
        "from": moved.source,
        "to": moved.target,
        "tables": moved.tables,
        "rows": moved.rows,
        "version": moved.version,
        "source_dropped": moved.source_dropped,
    }

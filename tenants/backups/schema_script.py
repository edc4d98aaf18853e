"""One tenant schema written out as a plain SQL script, without pg_dump.

pg_dump reads the whole database's catalog whatever it is asked to dump: with 10,000
tenant schemas a one-schema dump took 47 to 78 seconds (median 58.5), most of it in
catalog queries, so the nightly backups of 10,000 tenants would have taken about 17
hours (docs/scaling.md). A tenant schema at the migration head is exactly what
provisioning creates (`tenants/provisioning/ddl.py`, proven equal to running every
migration), so its definition is known without asking the catalog: only the rows need
reading, and reading a table's rows costs the same at 10 tenants and at 10,000.

The script is in pg_dump's plain format, so everything that reads a dump reads it too
(`dump_text.DumpFilter` blanks the recordings' keys and counts rows; the drill feeds it
to psql): the schema, its tables and indexes and alembic's version table, then each
table's rows as a `COPY ... FROM stdin;` block in foreign-key order, then the audit
log's append-only triggers. No owner and no privileges, as with `pg_dump --no-owner
--no-privileges`: a restore belongs to whoever restores it.

Consistency, as pg_dump gets it: one REPEATABLE READ, READ ONLY transaction whose first
statement locks every table of the schema IN ACCESS SHARE MODE (which only DDL waits
on), so the rows of every table come from one snapshot taken after the locks, and no
migration can change a table while it is being read. The lock is taken with NOWAIT and
retried for up to a minute (pg_dump's `--lock-wait-timeout` here), so a backup never
queues in front of the tenant's own work.

A schema that is not at the head (a tenant whose last migration failed), or whose tables
are not exactly the head's, raises `NotAtHead` before anything is written: its
definition is not the one this code knows, and the caller falls back to pg_dump for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from functools import cache

from sqlalchemy import Table, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from audora.platform.db.tenant_binding import script_search_path
from audora.platform.db.tenant_names import TenantSchema
from audora.tenants.audit.tables import append_only_ddl
from audora.tenants.provisioning.ddl import (
    VERSION_TABLE_DDL,
    close_version_table,
    schema_and_grants,
    tenant_revokes,
    tenant_tables_ddl,
)
from audora.tenants.tables import tenant_metadata

log = logging.getLogger(__name__)

# Rows are sent on in pieces of about this size, not one message per row.
PIECE_BYTES = 256 * 1024
LOCK_TRIES = 300
LOCK_PAUSE_SECONDS = 0.2
LOCK_NOT_AVAILABLE = "55P03"
UNDEFINED_TABLE = "42P01"


class NotAtHead(RuntimeError):
    """The schema's migration state is not the head this code was written for."""


class SessionNotPortable(RuntimeError):
    """The session prints dates or numbers in a form a restore could misread."""


@cache
def _tables() -> tuple[Table, ...]:
    """Every tenant table, referenced tables before those that refer to them."""
    return tuple(tenant_metadata.sorted_tables)


def _quote(conn: AsyncConnection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def preamble(schema: TenantSchema, head: str, *, privileges: bool) -> bytes:
    """The script up to the first rows: settings, schema, tables, version table, and
    with `privileges` the tenant role's grants as provisioning gives them."""
    schema_ddl = schema_and_grants(schema) if privileges else [f"CREATE SCHEMA {schema}"]
    after_tables = [*tenant_revokes(schema), *close_version_table(schema)] if privileges else []
    lines = [
        f"-- Audora backup of tenant schema {schema}, tenant migrations at {head}.",
        "-- Plain SQL in pg_dump's format, written by tenants/backups/schema_script.py.",
        "SET statement_timeout = 0;",
        "SET lock_timeout = 0;",
        "SET client_encoding = 'UTF8';",
        "SET standard_conforming_strings = on;",
        "SET check_function_bodies = false;",
        "SET DateStyle = ISO;",
        "SET IntervalStyle = postgres;",
        "SET client_min_messages = warning;",
        *(f"{statement};" for statement in schema_ddl),
        script_search_path(schema),
        *(f"{statement};" for statement in tenant_tables_ddl()),
        f"{VERSION_TABLE_DDL};",
        *(f"{statement};" for statement in after_tables),
    ]
    return ("\n".join(lines) + "\n").encode()


def postamble(schema: TenantSchema) -> bytes:
    """After the rows: what provisioning adds to the tables (the audit log's triggers)."""
    return ("\n".join(f"{statement};" for statement in append_only_ddl(schema)) + "\n").encode()


async def _lock(conn: AsyncConnection, schema: TenantSchema) -> None:
    """ACCESS SHARE on every table, NOWAIT and retried, as the transaction's first
    statement; the caller's transaction is rolled back and begun again between tries."""
    names = ", ".join(
        f"{schema}.{_quote(conn, t)}" for t in ("alembic_version", *(t.name for t in _tables()))
    )
    # Names are a validated schema and the metadata's own table names, quoted.
    await conn.execute(text(f"LOCK TABLE {names} IN ACCESS SHARE MODE NOWAIT"))


# The schema's tables, found through pg_depend's index on what an object depends on
# (each table depends on its schema): reading pg_class by namespace would scan all of it,
# 760,000 rows at 10,000 tenants.
_SCHEMA_TABLES = text(
    "SELECT c.relname FROM pg_depend d JOIN pg_class c ON c.oid = d.objid "
    "WHERE d.refclassid = 'pg_namespace'::regclass AND d.refobjid = CAST(:s AS regnamespace) "
    "AND d.classid = 'pg_class'::regclass AND c.relkind IN ('r', 'p')"
)


async def _same_tables(conn: AsyncConnection, schema: TenantSchema) -> None:
    """The schema holds exactly the head's tables: a table this code does not know of
    (made by hand, say) would otherwise be left out of the script without a word."""
    found = set((await conn.execute(_SCHEMA_TABLES, {"s": str(schema)})).scalars())
    known = {"alembic_version", *(t.name for t in _tables())}
    if found != known:
        extra, missing = sorted(found - known), sorted(known - found)
        raise NotAtHead(f"{schema} has tables {extra} the head lacks, and lacks {missing}")


async def _check_session(conn: AsyncConnection) -> None:
    styles = (
        await conn.execute(
            text(
                "SELECT current_setting('DateStyle'), current_setting('IntervalStyle'), "
                "current_setting('extra_float_digits')::int, current_setting('client_encoding')"
            )
        )
    ).one()
    date_style, interval_style, float_digits, encoding = styles
    if (
        not str(date_style).startswith("ISO")
        or interval_style != "postgres"
        or float_digits < 1
        or encoding != "UTF8"
    ):
        raise SessionNotPortable(
            f"the provisioner's session prints DateStyle {date_style}, IntervalStyle "
            f"{interval_style}, extra_float_digits {float_digits}, encoding {encoding}"
        )


async def _rows(conn: AsyncConnection, schema: TenantSchema) -> AsyncGenerator[bytes, None]:
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    if driver is None:  # pragma: no cover (a checked-out connection always has one)
        raise RuntimeError("the provisioner's connection has no driver connection")
    for table in _tables():
        columns = ", ".join(_quote(conn, c.name) for c in table.columns)
        name = f"{schema}.{_quote(conn, table.name)}"
        yield f"COPY {name} ({columns}) FROM stdin;\n".encode()
        async with driver.cursor() as cursor:
            # COPY's text format is what pg_dump writes: one line per row, tabs and
            # newlines inside values escaped.
            async with cursor.copy(f"COPY {name} ({columns}) TO STDOUT") as copy:
                pending: list[bytes] = []
                size = 0
                async for data in copy:
                    pending.append(bytes(data))
                    size += len(data)
                    if size >= PIECE_BYTES:
                        yield b"".join(pending)
                        pending, size = [], 0
                if pending:
                    yield b"".join(pending)
        yield b"\\.\n\n"


async def schema_script(
    provisioner: AsyncEngine, schema: TenantSchema, head: str, *, privileges: bool = False
) -> AsyncGenerator[bytes, None]:
    """The script of `schema`, piece by piece; `NotAtHead` before the first piece if the
    schema is not at `head`. A backup leaves privileges out (`pg_dump --no-privileges`:
    a drill's scratch copy is granted to nobody); a move takes them (`privileges`), for
    the tenant role that it makes on the target first."""
    async with provisioner.connect() as base:
        conn = await base.execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
        for attempt in range(LOCK_TRIES):
            await conn.begin()
            try:
                await _lock(conn, schema)
                break
            except DBAPIError as exc:
                await conn.rollback()
                code = getattr(exc.orig, "sqlstate", None)
                if code == UNDEFINED_TABLE:  # a table of the head is missing: not at it
                    raise NotAtHead(f"{schema} lacks a table of the head {head}") from None
                if code != LOCK_NOT_AVAILABLE or attempt == LOCK_TRIES - 1:
                    raise
                await asyncio.sleep(LOCK_PAUSE_SECONDS)
        try:
            version = (
                await conn.execute(text(f"SELECT version_num FROM {schema}.alembic_version"))  # noqa: S608
            ).scalar()
            if version != head:
                raise NotAtHead(f"{schema} is at {version}, not at the head {head}")
            await _same_tables(conn, schema)
            await _check_session(conn)
            yield preamble(schema, head, privileges=privileges)
            version_rows = f"COPY {schema}.alembic_version (version_num) FROM stdin;\n{head}\n"
            yield f"{version_rows}\\.\n\n".encode()
            async for piece in _rows(conn, schema):
                yield piece
            yield postamble(schema)
        finally:
            await conn.rollback()  # read only: nothing to keep


async def _after(first: bytes, rest: AsyncGenerator[bytes, None]) -> AsyncGenerator[bytes, None]:
    yield first
    async for piece in rest:
        yield piece


@contextlib.asynccontextmanager
async def script_at_head(
    provisioner: AsyncEngine, schema: TenantSchema, head: str, *, privileges: bool = False
) -> AsyncIterator[AsyncGenerator[bytes, None] | None]:
    """`schema_script`, or None when the schema is not at the head (logged): the caller
    then goes by pg_dump. Its transaction ends when the block does."""
    async with contextlib.aclosing(
        schema_script(provisioner, schema, head, privileges=privileges)
    ) as written:
        try:
            first = await anext(written)
        except NotAtHead as exc:
            log.warning("%s goes by pg_dump: %s", schema, exc)
            yield None
            return
        yield _after(first, written)

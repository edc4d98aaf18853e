"""Two migration streams: the platform once, every tenant schema on its own version.

New tenants are created from the current DDL and stamped; these tests prove that gives
the same schema as running every migration, and that `audora migrate` fans out over
hundreds of tenants, survives being killed midway, and finishes on the next run.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from audora.platform.config import Settings
from audora.platform.db.engines import sync_engine
from audora.platform.db.tenant_binding import migrator_search_path
from audora.platform.db.tenant_names import TenantSchema, tenant_schema
from audora.platform.runtime import Runtime
from audora.tenants.audit.tables import refuse_change_function
from audora.tenants.migrate.runner import migrate_tenant, run_tenant_stream
from audora.tenants.migrate.streams import head
from audora.tenants.provisioning.ddl import create_schema_and_role
from audora.tenants.provisioning.service import NewAccount, provision_account
from audora.tenants.tables import TENANT_TABLES

from audora_testing import column_storage

REPO = Path(__file__).resolve().parents[3]
# A valid argon2id hash: these accounts never log in, so no need to pay for hashing.
SOME_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"


def catalog(superuser: Engine, schema: str) -> dict[str, Any]:
    """Everything about a schema that matters, with its own name taken out."""
    with superuser.connect() as conn:
        columns = conn.execute(
            text(
                "SELECT table_name, column_name, data_type, is_nullable, column_default, "
                "character_maximum_length, ordinal_position FROM information_schema.columns "
                "WHERE table_schema = :s ORDER BY table_name, ordinal_position"
            ),
            {"s": schema},
        ).all()
        constraints = conn.execute(
            text(
                "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
                "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
                "WHERE n.nspname = :s ORDER BY 2"
            ),
            {"s": schema},
        ).all()
        indexes = conn.execute(
            text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = :s ORDER BY 1"),
            {"s": schema},
        ).all()
        grants = conn.execute(
            text(
                "SELECT table_name, grantee, privilege_type "
                "FROM information_schema.table_privileges "
                "WHERE table_schema = :s ORDER BY 1, 2, 3"
            ),
            {"s": schema},
        ).all()
        triggers = conn.execute(
            text(
                "SELECT t.tgrelid::regclass::text, t.tgname, pg_get_triggerdef(t.oid) "
                "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = :s AND NOT t.tgisinternal ORDER BY 2"
            ),
            {"s": schema},
        ).all()
        relations = conn.execute(
            text(
                "SELECT c.relname, c.relkind, pg_get_expr(c.relpartbound, c.oid), "
                "CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = :s ORDER BY 1"
            ),
            {"s": schema},
        ).all()
        defaults = conn.execute(
            text(
                "SELECT pg_get_userbyid(d.defaclrole), d.defaclobjtype, d.defaclacl::text "
                "FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace "
                "WHERE n.nspname = :s"
            ),
            {"s": schema},
        ).all()
    return {
        key: [tuple(str(v).replace(schema, "<tenant>") for v in row) for row in rows]
        for key, rows in {
            "columns": columns,
            "storage": column_storage(superuser, schema),
            "constraints": constraints,
            "indexes": indexes,
            "grants": grants,
            "triggers": triggers,
            "relations": relations,
            "default_privileges": defaults,
        }.items()
    }


async def _provision(runtime: Runtime, label: str) -> TenantSchema:
    made = await provision_account(
        runtime.tenant_engines,
        runtime.storage,
        runtime.keys,
        NewAccount(label, f"{label}-{uuid.uuid4().hex[:10]}@example.com", SOME_HASH, "Test"),
        bucket_prefix=runtime.settings.bucket_prefix,
        tenant_head=head("tenant"),
        # The migrations' clock: both paths must pick the same access-log months.
    )
    return made.schema


async def test_a_provisioned_tenant_has_exactly_the_schema_migrations_give(
    runtime: Runtime, superuser: Engine, settings: Settings
) -> None:
    provisioned = await _provision(runtime, "fastpath")
    migrated = tenant_schema(uuid.uuid4())
    provisioner = sync_engine(settings.provisioner_database_url)
    try:
        with provisioner.begin() as conn:
            for statement in create_schema_and_role(migrated):
                conn.exec_driver_sql(statement)
        assert migrate_tenant(provisioner, migrated, head("tenant")) is True
        assert migrate_tenant(provisioner, migrated, head("tenant")) is False
    finally:
        provisioner.dispose()
    assert catalog(superuser, migrated) == catalog(superuser, provisioned)
    assert catalog(superuser, provisioned)["columns"]  # not two empty schemas


async def test_the_access_log_keeps_its_rows_through_migration_0008_down_and_up(
    runtime: Runtime, superuser: Engine, settings: Settings
) -> None:
    # 0008 made the partitioned access log one table and renamed the audit log's
    # function; the bench undoes and redoes it over every tenant, so both ways are real.
    schema = await _provision(runtime, "reshaped")
    moments = ["2026-10-30T23:59:59+00:00", "2026-11-01T00:00:00+00:00"]
    with superuser.begin() as conn:
        for at in moments:
            conn.execute(
                text(
                    f"INSERT INTO {schema}.access_log (at, account_id, user_id, session_id, "
                    "outcome) VALUES (:at, gen_random_uuid(), gen_random_uuid(), "
                    "gen_random_uuid(), 'ok')"
                ),
                {"at": at},
            )
    before = catalog(superuser, schema)

    def shape() -> tuple[str, list[str], int, str]:
        with superuser.connect() as conn:
            kind = conn.execute(
                text("SELECT relkind FROM pg_class WHERE oid = CAST(:t AS regclass)"),
                {"t": f"{schema}.access_log"},
            ).scalar_one()
            parts = conn.execute(
                text(
                    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "WHERE i.inhparent = CAST(:t AS regclass) ORDER BY 1"
                ),
                {"t": f"{schema}.access_log"},
            ).scalars()
            rows = conn.execute(text(f"SELECT count(*) FROM {schema}.access_log")).scalar_one()
            function = conn.execute(
                text(
                    "SELECT p.proname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
                    "WHERE t.tgname = 'audit_events_append_only' "
                    "AND t.tgrelid = CAST(:t AS regclass)"
                ),
                {"t": f"{schema}.audit_events"},
            ).scalar_one()
            return str(kind), list(parts), int(rows), str(function)

    provisioner = sync_engine(settings.provisioner_database_url)
    try:
        with provisioner.begin() as conn, migrator_search_path(conn, schema):
            run_tenant_stream(conn, schema, "0007_tenant", down=True)
        kind, parts, rows, function = shape()
        assert (kind, rows, function) == ("p", 2, "audit_events_refuse_change")
        # Every month a row is in, and this month and the next, got their partition.
        assert {"access_log_202610", "access_log_202611"} <= set(parts)
        assert migrate_tenant(provisioner, schema, head("tenant")) is True
    finally:
        provisioner.dispose()
    assert shape() == ("r", [], 2, refuse_change_function(schema))
    assert catalog(superuser, schema) == before


async def test_migration_0009_clips_reasons_stored_before_it_so_every_row_fits_inline(
    runtime: Runtime, superuser: Engine, settings: Settings
) -> None:
    # A reason written before 0009 had no bound; once its table keeps values inline, a
    # move or a restore writes it inline again, where 9,000 characters do not fit.
    schema = await _provision(runtime, "clipped")
    provisioner = sync_engine(settings.provisioner_database_url)
    try:
        with provisioner.begin() as conn, migrator_search_path(conn, schema):
            run_tenant_stream(conn, schema, "0008_tenant", down=True)
        with superuser.begin() as conn:
            conn.execute(
                text(
                    f"INSERT INTO {schema}.data_exports (id, status, requested_by, "
                    "requested_at, failure_reason) VALUES (gen_random_uuid(), 'FAILED', "
                    "gen_random_uuid(), now(), repeat('é', 9000))"
                )
            )
        assert migrate_tenant(provisioner, schema, head("tenant")) is True
    finally:
        provisioner.dispose()
    with superuser.connect() as conn:
        reason = conn.execute(
            text(f"SELECT failure_reason FROM {schema}.data_exports")
        ).scalar_one()
    assert reason == "é" * 499 + "…"


def _reset_to_base(superuser: Engine, schemas: list[TenantSchema]) -> None:
    """Put tenants back before their first migration, as if the stream were new."""
    for schema in schemas:
        with superuser.begin() as conn:
            tables = [f"{schema}.{t.name}" for t in TENANT_TABLES] + [f"{schema}.alembic_version"]
            conn.exec_driver_sql(f"DROP TABLE {', '.join(tables)}")
            conn.exec_driver_sql(f"DROP FUNCTION {schema}.{refuse_change_function(schema)}()")


def _versions(superuser: Engine, schemas: list[TenantSchema]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    with superuser.connect() as conn:
        for schema in schemas:
            table = conn.execute(
                text("SELECT to_regclass(:t)"), {"t": f"{schema}.alembic_version"}
            ).scalar()
            found[schema] = (
                conn.execute(text(f"SELECT version_num FROM {schema}.alembic_version")).scalar()
                if table
                else None
            )
    return found


def _migrate_command(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "audora.platform.cli.main", "migrate", "--concurrency", "4"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


async def test_migrate_over_200_tenants_resumes_after_being_killed_midway(
    runtime: Runtime, superuser: Engine, stack_env: dict[str, str]
) -> None:
    schemas = []
    for batch in range(20):
        schemas += await asyncio.gather(*(_provision(runtime, f"m{batch}x{i}") for i in range(10)))
    _reset_to_base(superuser, schemas)
    assert set(_versions(superuser, schemas).values()) == {None}

    first = _migrate_command(stack_env)
    assert first.stdout is not None
    done = 0
    for line in first.stdout:
        done += line.rstrip().endswith(" migrated")
        if done == 40:
            os.killpg(first.pid, signal.SIGKILL)  # the runner and its worker processes
            break
    first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    halfway = _versions(superuser, schemas)
    # Each tenant is either untouched or complete: never half-migrated.
    assert set(halfway.values()) == {None, head("tenant")}

    second = _migrate_command(stack_env)
    output, _ = second.communicate(timeout=300)
    assert second.returncode == 0, output
    assert "0 failed" in output
    assert set(_versions(superuser, schemas).values()) == {head("tenant")}
    with superuser.connect() as conn:
        for schema in schemas[:5]:
            conn.execute(text(f"SELECT count(*) FROM {schema}.client_profiles")).scalar_one()


def _run_migrate(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "audora.platform.cli.main", "migrate"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


async def test_a_tenant_that_fails_to_migrate_is_reported_and_the_others_go_on(
    runtime: Runtime, superuser: Engine, stack_env: dict[str, str]
) -> None:
    broken, healthy = await _provision(runtime, "broken"), await _provision(runtime, "healthy")
    _reset_to_base(superuser, [broken, healthy])
    with superuser.begin() as conn:
        # Something in the way of the first migration's table.
        conn.exec_driver_sql(f"CREATE TABLE {broken}.client_profiles (squatter int)")
    result = _run_migrate(stack_env)
    assert result.returncode == 1
    assert f"FAILED {broken}" in result.stdout
    assert _versions(superuser, [broken, healthy]) == {broken: None, healthy: head("tenant")}
    with superuser.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE {broken}.client_profiles")
    repaired = _run_migrate(stack_env)
    assert repaired.returncode == 0, repaired.stdout


def test_a_fresh_process_provisions_every_tenant_table() -> None:
    """Provisioning renders its DDL from the table registry, not from whatever happened
    to be imported before (a bench once provisioned tenants with no tables at all)."""
    probe = (
        "from audora.tenants.provisioning.ddl import tenant_tables_ddl;"
        "print(sum(s.startswith('CREATE TABLE') for s in tenant_tables_ddl()))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert int(result.stdout) == len(TENANT_TABLES) > 0


def test_a_second_migrate_refuses_to_run_beside_the_first(
    superuser: Engine, stack_env: dict[str, str]
) -> None:
    from audora.tenants.migrate.runner import _MIGRATE_LOCK

    with superuser.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATE_LOCK})
        try:
            result = _run_migrate(stack_env)
        finally:
            holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATE_LOCK})
    assert result.returncode == 2
    assert "another `audora migrate` is running" in result.stderr
    assert _run_migrate(stack_env).returncode == 0

"""`audora migrate`: the platform schema first, then every tenant schema, concurrently.

Each tenant migrates in its own transaction, so an interrupted run leaves every tenant
either at its old version or at the new one, and the next run simply carries on with
those still behind. A tenant whose migration fails is reported and skipped; the others
go on.

Concurrency is by processes, not threads: alembic's `context` and `op` are module-level
proxies to the one running migration, so two threads migrating two tenants would write
into each other's schema.

Per tenant, a worker process pays only for the tenant's own SQL: the tenant stream's
scripts are read once per process (`script_directory`, cached) and the environment is
configured here rather than by loading `env.py` again, which with `command.upgrade` cost
more than the migration itself (the scripts were found and imported anew for every
schema). `env.py` does the same configuration, for alembic's own command line.
"""

from __future__ import annotations

import logging
import multiprocessing
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from alembic import command
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext, RevisionStep
from sqlalchemy import Connection, Engine, select, text

from audora.platform.config import Settings
from audora.platform.db.engines import sync_engine
from audora.platform.db.role_makers import ensure_role_makers
from audora.platform.db.roles import ensure_cluster_roles, ensure_login_roles
from audora.platform.db.tenant_binding import migrator_search_path
from audora.platform.db.tenant_engines import cluster_urls
from audora.platform.db.tenant_names import TenantSchema, validate_tenant_schema
from audora.tenants.migrate.streams import head, script_directory, stream_config
from audora.tenants.placement.clusters import record_clusters
from audora.tenants.provisioning.ddl import close_version_table
from audora.tenants.registry.tables import accounts, tenant_placements
from audora.tenants.tables import tenant_metadata

log = logging.getLogger(__name__)


@dataclass
class MigrationReport:
    migrated: list[TenantSchema] = field(default_factory=list)
    current: list[TenantSchema] = field(default_factory=list)
    failed: dict[TenantSchema, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed


def migrate_platform(operator: Engine, settings: Settings) -> None:
    with operator.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        ensure_login_roles(conn, settings)
        ensure_role_makers(conn)
    # The other tenant clusters need the tenant pool's and the provisioner's roles only.
    for name, urls in settings.tenant_clusters.items():
        other = sync_engine(urls.database_url, pool_size=1, max_overflow=0)
        try:
            with other.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                ensure_cluster_roles(conn, urls)
                ensure_role_makers(conn)
        except Exception as exc:
            raise RuntimeError(f"cluster {name}: {type(exc).__name__}") from exc
        finally:
            other.dispose()
    with operator.begin() as conn:
        conn.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS platform")
        config = stream_config("platform")
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        record_clusters(conn, settings)


def tenant_schemas(engine: Engine, cluster: str | None = None) -> list[TenantSchema]:
    """The live tenants' schemas; with `cluster`, only those placed on it."""
    query = (
        select(accounts.c.schema_name)
        .where(accounts.c.status != "PURGED")
        .order_by(accounts.c.created_at)
    )
    if cluster is not None:
        query = query.join(
            tenant_placements, tenant_placements.c.account_id == accounts.c.id
        ).where(tenant_placements.c.cluster == cluster)
    with engine.connect() as conn:
        return [validate_tenant_schema(r[0]) for r in conn.execute(query)]


def _current_revision(conn: Connection) -> str | None:
    if conn.execute(text("SELECT to_regclass('alembic_version')")).scalar() is None:
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate_tenant(provisioner: Engine, schema: TenantSchema, target: str) -> bool:
    """Bring one tenant schema to `target`, in one transaction. True if anything ran."""
    with provisioner.begin() as conn, migrator_search_path(conn, schema):
        if _current_revision(conn) == target:
            return False
        run_tenant_stream(conn, schema, target)
        for statement in close_version_table(schema):
            conn.exec_driver_sql(statement)
    return True


def run_tenant_stream(
    conn: Connection, schema: TenantSchema, target: str, *, down: bool = False
) -> None:
    """Run the tenant stream from the schema's version up to `target` (down to it with
    `down=True`) on `conn`, whose transaction is already pointed at `schema`; the caller
    commits. The same steps as alembic's `command.upgrade`/`downgrade`, without finding
    and importing the scripts again."""
    script = script_directory("tenant")

    def steps(revision: Any, context: MigrationContext) -> list[RevisionStep]:
        if down:
            return script._downgrade_revs(target, revision)
        return script._upgrade_revs(target, revision)

    config = stream_config("tenant")
    # Migrations read these, as `env.py` does (0002 and 0003 need the schema's name).
    config.attributes["connection"] = conn
    config.attributes["tenant_schema"] = schema
    with EnvironmentContext(config, script, fn=steps, destination_rev=target) as environment:
        environment.configure(
            connection=conn,
            target_metadata=tenant_metadata,
            version_table_schema=schema,
            transaction_per_migration=False,
        )
        with environment.begin_transaction():
            environment.run_migrations()


_worker_engine: Engine | None = None


def _start_worker(provisioner_url: str) -> None:
    global _worker_engine
    _worker_engine = sync_engine(provisioner_url, pool_size=1, max_overflow=0)


def _migrate_in_worker(schema: TenantSchema, target: str) -> bool:
    assert _worker_engine is not None, "worker started without an engine"  # noqa: S101
    return migrate_tenant(_worker_engine, schema, target)


def _worker_context() -> multiprocessing.context.BaseContext:
    """Workers forked from a fork server rather than spawned one by one.

    A spawned worker starts a new interpreter and imports the parent's main module again
    (for `audora migrate`, the whole command line: over a second each, times the
    concurrency, on the same cores as the migrations). The fork server is itself a fresh
    interpreter, so no engine, thread or lock of this process reaches a worker; it imports
    the main module and this one once, and each worker is a fork of it, ready at once.
    Where there is no fork server (Windows), workers are spawned.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # A main module run by name (`python -m ...`) is imported again in each worker by
    # that name: preloaded here, its imports are already there when it is.
    main = getattr(getattr(sys.modules.get("__main__"), "__spec__", None), "name", None)
    context.set_forkserver_preload(["__main__", __name__, *([main] if main else [])])
    return context


def migrate_tenants(
    provisioner_url: str,
    schemas: Iterable[TenantSchema],
    *,
    concurrency: int,
    on_result: Callable[[TenantSchema, str], None] = lambda schema, outcome: None,
) -> MigrationReport:
    target = head("tenant")
    report = MigrationReport()
    with ProcessPoolExecutor(
        max_workers=max(1, concurrency),
        mp_context=_worker_context(),
        initializer=_start_worker,
        initargs=(provisioner_url,),
    ) as pool:
        futures = {pool.submit(_migrate_in_worker, s, target): s for s in schemas}
        for future in as_completed(futures):
            schema = futures[future]
            try:
                ran = future.result()
            except Exception as exc:
                report.failed[schema] = f"{type(exc).__name__}: {exc}".splitlines()[0]
                log.error("tenant %s failed to migrate: %s", schema, report.failed[schema])
                on_result(schema, f"failed: {report.failed[schema]}")
                continue
            (report.migrated if ran else report.current).append(schema)
            on_result(schema, "migrated" if ran else "current")
    return report


# One `audora migrate` at a time per database: a second run waits for nothing, it refuses.
_MIGRATE_LOCK = 0x6175646F7261  # "audora"


class MigrationAlreadyRunning(RuntimeError):
    pass


def migrate_all(
    settings: Settings,
    *,
    concurrency: int,
    on_result: Callable[[TenantSchema, str], None] = lambda schema, outcome: None,
    on_info: Callable[[str], None] = lambda line: None,
) -> MigrationReport:
    """The platform schema, then every tenant; tenants that sign up meanwhile are picked
    up by another pass, so the run ends with none left behind."""
    operator = sync_engine(settings.database_url, pool_size=1, max_overflow=2)
    try:
        with operator.connect() as lock_conn:
            got = lock_conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _MIGRATE_LOCK})
            if not got.scalar():
                raise MigrationAlreadyRunning("another `audora migrate` is running")
            lock_conn.commit()
            migrate_platform(operator, settings)
            report = MigrationReport()
            # Each cluster's tenants with that cluster's provisioner. A tenant moved
            # meanwhile was copied from a schema at its cluster's head (a move refuses
            # a schema behind or ahead of it), so it needs nothing on its new cluster.
            for cluster, urls in cluster_urls(settings).items():
                seen: set[TenantSchema] = set()
                while True:
                    pending = [s for s in tenant_schemas(operator, cluster) if s not in seen]
                    if not pending:
                        break
                    on_info(f"{len(pending)} tenant schemas to check on {cluster}")
                    seen.update(pending)
                    this_pass = migrate_tenants(
                        urls.provisioner_database_url,
                        pending,
                        concurrency=concurrency,
                        on_result=on_result,
                    )
                    report.migrated += this_pass.migrated
                    report.current += this_pass.current
                    report.failed.update(this_pass.failed)
            return report
    finally:
        operator.dispose()

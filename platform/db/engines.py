"""The process's database engines: one shared pool for every tenant of a cluster.

A pool per tenant would not hold at 10,000 tenants, so requests share one pool of the
application role's connections and bind each transaction to its tenant (see
`tenant_binding`). Only transaction-local settings are used, because poolers such as
PgBouncer in transaction mode lose session-level SET between transactions.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, create_engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from audora.platform.config import Settings
from audora.platform.db.idle_connections import idle_closing_engine
from audora.platform.db.statement_guard import ForbiddenStatement, refusal

BINDER_OPTION = "audora_tenant_binder"


def _refuse_unbinding(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    options = context.execution_options if context is not None else {}
    if options.get(BINDER_OPTION):
        return
    reason = refusal(statement)
    if reason is not None:
        raise ForbiddenStatement(f"refused: {reason}")


def guard(engine: Engine) -> Engine:
    event.listen(engine, "before_cursor_execute", _refuse_unbinding)
    return engine


PROVISIONER_RECYCLE_SECONDS = 60


def app_engine(settings: Settings, *, platform: bool = False) -> AsyncEngine:
    """A pool of the API's and workers' NOINHERIT application role: the tenant pool, or
    (`platform=True`) the small pool for platform rows."""
    return _application_pool(
        settings,
        settings.app_database_url if platform else settings.gateway_database_url,
        settings.db_platform_pool_size if platform else settings.db_pool_size,
    )


def cluster_engine(settings: Settings, url: str, *, small: bool = False) -> AsyncEngine:
    """A pool on another role or cluster: a tenant pool (the gateway role of a tenant
    cluster), or (`small=True`) a provisioner's pool, which only provisions, migrates,
    moves and purges tenants."""
    if not small:
        return _application_pool(settings, url, settings.db_pool_size)
    engine = create_async_engine(
        url,
        pool_size=4,
        max_overflow=4,
        pool_pre_ping=False,
        hide_parameters=True,
        # A backend keeps the cache entries of every relation it has created: after
        # 2,500 sign-ups a provisioner session spent 9 ms more PostgreSQL CPU on each
        # than a fresh one (docs/scaling.md). A connection is replaced, when handed
        # out, once it is a minute old; one checked out (holding a move's or purge's
        # session lock) is never touched.
        pool_recycle=PROVISIONER_RECYCLE_SECONDS,
        # A new tenant's indexes are built on empty tables, where deciding whether to
        # build in parallel costs more than the build. Nothing else this pool runs
        # builds an index on data: a move restores through psql or pg_restore sessions
        # of their own, a purge drops. A startup option, as no statement may change a
        # setting (statement_guard.py).
        connect_args={"options": "-c max_parallel_maintenance_workers=0"},
    )
    guard(engine.sync_engine)
    return engine


def _application_pool(settings: Settings, url: str, size: int) -> AsyncEngine:
    engine = idle_closing_engine(
        url,
        settings.db_idle_session_seconds,
        pool_size=size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=False,
        # Bound values are customer content: never in exception text or logs.
        hide_parameters=True,
    )
    guard(engine.sync_engine)
    return engine


def sync_engine(url: str, **kwargs: Any) -> Engine:
    return guard(create_engine(url, hide_parameters=True, **kwargs))

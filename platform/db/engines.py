"""The process's database engines: one shared pool for every tenant.

A pool per tenant would not hold at 10,000 tenants, so requests share one pool of the
application role's connections and bind each transaction to its tenant (see
`tenant_binding`). Only transaction-local settings are used, because poolers such as
PgBouncer in transaction mode lose session-level SET between transactions.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, create_engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from audora.platform.config import Settings

# Statements that would change whose privileges a transaction runs with, or where its
# unqualified names resolve. Only the tenant binding may issue them; anything else that
# tries (a resolver's raw SQL, say) is refused before it reaches the server.
_ROLE_OR_PATH_CHANGE = re.compile(
    r"""\b(?:set|reset)\s+(?:local\s+|session\s+)?(?:role|session\s+authorization|search_path)\b
      | \bset_config\s*\(\s*'(?:role|search_path|session_authorization)'""",
    re.IGNORECASE | re.VERBOSE,
)

BINDER_OPTION = "audora_tenant_binder"


class ForbiddenStatement(RuntimeError):
    """A statement tried to switch role or search_path outside the tenant binding."""


def _refuse_role_changes(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    if _ROLE_OR_PATH_CHANGE.search(statement):
        options = context.execution_options if context is not None else {}
        if not options.get(BINDER_OPTION):
            raise ForbiddenStatement("role and search_path are set by the tenant binding only")


def guard(engine: Engine) -> Engine:
    event.listen(engine, "before_cursor_execute", _refuse_role_changes)
    return engine


def app_engine(settings: Settings, *, platform: bool = False) -> AsyncEngine:
    """A pool of the API's and workers' NOINHERIT application role: the tenant pool, or
    (`platform=True`) the small pool for platform rows."""
    engine = create_async_engine(
        settings.app_database_url,
        pool_size=settings.db_platform_pool_size if platform else settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=False,
    )
    guard(engine.sync_engine)
    return engine


def provisioner_engine(settings: Settings) -> AsyncEngine:
    """Owns tenant schemas: provisioning only, small pool."""
    engine = create_async_engine(settings.provisioner_database_url, pool_size=4, max_overflow=4)
    guard(engine.sync_engine)
    return engine


def sync_engine(url: str, **kwargs: Any) -> Engine:
    return guard(create_engine(url, **kwargs))

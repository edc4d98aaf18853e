"""Pooled connections that sit idle are closed, by the server and by the pool.

At 10,000 tenants an application connection that has served many tenants holds their
catalog entries (845 MB a backend in the scale bench), and every open backend, busy or
not, reads the catalog invalidations each sign-up's DDL sends: the idle ones of the API's
and workers' pools cost PostgreSQL about 10 ms of CPU per new tenant (docs/scaling.md).
So a connection that has not been used for a while is not worth keeping open.

- The server closes a session idle longer than `idle_seconds` (`idle_session_timeout`, a
  startup option of the connection, so no statement the engine guard would inspect). It
  applies only outside a transaction: every unit of work here runs in one, and a
  connection waits idle only in the pool.
- The pool replaces, when it hands one out, a connection that has waited longer than
  half of that, so it never gives out one the server may be closing.
- The pool hands out the most recently used connection first (LIFO), so under light
  traffic the surplus connections are the ones left idle, and are closed.

Only the application role's pools use this. The provisioner's hold an advisory lock on a
session while an operator moves or purges a tenant, which an idle timeout would drop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine

_RETURNED_AT = "audora_returned_at"


def idle_session_options(idle_seconds: int) -> dict[str, Any]:
    """The engine's `connect_args` that make the server close an idle session."""
    return {"options": f"-c idle_session_timeout={idle_seconds * 1000}"}


def replace_when_idle(
    engine: AsyncEngine, idle_seconds: int, *, monotonic: Callable[[], float] = time.monotonic
) -> AsyncEngine:
    """Have `engine`'s pool replace a connection that waited in it longer than half of
    `idle_seconds` (the server's limit, `idle_session_options`)."""
    limit = idle_seconds / 2
    pool = engine.sync_engine.pool

    def returned(dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED_AT] = monotonic()

    def handed_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        # A fresh connection (or one that replaced an invalidated one) has no stamp:
        # its info dictionary starts empty.
        returned_at = record.info.get(_RETURNED_AT)
        if returned_at is not None and monotonic() - returned_at > limit:
            raise DisconnectionError("idle in the pool longer than the server keeps it")

    event.listen(pool, "checkin", returned)
    event.listen(pool, "checkout", handed_out)
    return engine

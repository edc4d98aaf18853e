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
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

_RETURNED_AT = "audora_returned_at"


def idle_closing_engine(
    url: str,
    idle_seconds: int,
    *,
    monotonic: Callable[[], float] = time.monotonic,
    **pool_args: Any,
) -> AsyncEngine:
    """An async engine whose pool works as the module says: the server closes a session
    idle `idle_seconds`, the pool replaces one idle half of that before handing it out,
    most recently used first. `pool_args` go to `create_async_engine`."""
    engine = create_async_engine(
        url,
        pool_use_lifo=True,
        connect_args={"options": f"-c idle_session_timeout={idle_seconds * 1000}"},
        **pool_args,
    )
    limit = idle_seconds / 2

    def returned(dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED_AT] = monotonic()

    def handed_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        # A fresh connection (or one that replaced an invalidated one) has no stamp:
        # its info dictionary starts empty.
        returned_at = record.info.get(_RETURNED_AT)
        if returned_at is not None and monotonic() - returned_at > limit:
            raise DisconnectionError("idle in the pool longer than the server keeps it")

    event.listen(engine.sync_engine.pool, "checkin", returned)
    event.listen(engine.sync_engine.pool, "checkout", handed_out)
    return engine

"""The application's pooled connections are closed once idle, so idle backends neither
keep tenants' catalog caches nor pay for other sessions' DDL (docs/scaling.md)."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import Engine, text
from sqlalchemy.ext.asyncio import AsyncEngine

from audora.platform.config import Settings
from audora.platform.db.engines import app_engine, cluster_engine
from audora.platform.db.idle_connections import idle_closing_engine


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        pid: int = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        await conn.commit()
    return pid


def _session_open(superuser: Engine, pid: int) -> bool:
    with superuser.connect() as conn:
        return bool(
            conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).scalar_one()
        )


async def test_an_idle_application_connection_is_closed_by_the_server_and_replaced(
    settings: Settings, superuser: Engine
) -> None:
    engine = app_engine(settings.model_copy(update={"db_idle_session_seconds": 2}))
    try:
        first = await _backend_pid(engine)
        deadline = time.monotonic() + 20
        while _session_open(superuser, first):
            assert time.monotonic() < deadline, "the server kept an idle session open"
            await asyncio.sleep(0.2)
        # The pool knows the connection waited past half the limit: it hands out a new
        # one instead of the closed one, and the unit of work never sees an error.
        assert await _backend_pid(engine) != first
    finally:
        await engine.dispose()


async def test_the_pool_replaces_a_connection_idle_past_half_the_limit_before_handing_it_out(
    settings: Settings,
) -> None:
    now = [1000.0]
    engine = idle_closing_engine(settings.app_database_url, 60, monotonic=lambda: now[0])
    try:
        first = await _backend_pid(engine)
        now[0] += 29
        assert await _backend_pid(engine) == first
        now[0] += 31
        second = await _backend_pid(engine)
        assert second != first
        assert await _backend_pid(engine) == second
    finally:
        await engine.dispose()


async def test_the_pool_hands_out_the_most_recently_used_connection_first(
    settings: Settings,
) -> None:
    engine = app_engine(settings, platform=True)
    try:
        async with engine.connect() as a, engine.connect() as b:
            pids = [
                (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
                for conn in (a, b)
            ]
            await a.commit()
            await b.commit()
        # The context managers close in reverse order, so `a` went back to the pool last.
        assert await _backend_pid(engine) == pids[0]
    finally:
        await engine.dispose()


async def test_only_the_application_pools_close_idle_sessions(settings: Settings) -> None:
    """The provisioner's pool holds advisory locks on idle sessions while a tenant is
    moved or purged: the server must not close those."""
    pools = {
        "platform": app_engine(settings, platform=True),
        "tenant": app_engine(settings),
        "provisioner": cluster_engine(settings, settings.provisioner_database_url, small=True),
    }
    try:
        shown = {}
        for name, engine in pools.items():
            async with engine.connect() as conn:
                shown[name] = (await conn.execute(text("SHOW idle_session_timeout"))).scalar_one()
                await conn.commit()
    finally:
        for engine in pools.values():
            await engine.dispose()
    assert shown == {"platform": "1min", "tenant": "1min", "provisioner": "0"}

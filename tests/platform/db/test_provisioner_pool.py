"""The provisioner's pool keeps its sessions young and never plans parallel index builds:
a backend that has made thousands of tenants carries their catalog entries, and a new
tenant's indexes are built on empty tables (docs/scaling.md)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from audora.platform.config import Settings
from audora.platform.db.engines import PROVISIONER_RECYCLE_SECONDS, app_engine, cluster_engine


async def _pid(conn: AsyncConnection) -> int:
    pid: int = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    await conn.commit()
    return pid


async def _age(conn: AsyncConnection, seconds: float) -> None:
    """Make the pooled connection behind `conn` look `seconds` older than it is."""
    raw = await conn.get_raw_connection()
    raw._connection_record.starttime -= seconds


async def test_a_provisioner_session_is_replaced_once_a_minute_old_but_never_while_in_use(
    settings: Settings,
) -> None:
    engine = cluster_engine(settings, settings.provisioner_database_url, small=True)
    try:
        async with engine.connect() as conn:
            first = await _pid(conn)
            await _age(conn, PROVISIONER_RECYCLE_SECONDS - 5)
        async with engine.connect() as conn:
            assert await _pid(conn) == first
            # Checked out (as a move or purge holding its session lock would be), the
            # session outlives the limit.
            await _age(conn, 10)
            assert await _pid(conn) == first
        async with engine.connect() as conn:
            assert await _pid(conn) != first
    finally:
        await engine.dispose()


async def test_only_the_provisioner_skips_planning_parallel_index_builds(
    settings: Settings,
) -> None:
    pools = {
        "provisioner": cluster_engine(settings, settings.provisioner_database_url, small=True),
        "platform": app_engine(settings, platform=True),
    }
    shown = {}
    try:
        for name, engine in pools.items():
            async with engine.connect() as conn:
                shown[name] = (
                    await conn.execute(text("SHOW max_parallel_maintenance_workers"))
                ).scalar_one()
                await conn.commit()
    finally:
        for engine in pools.values():
            await engine.dispose()
    assert shown == {"provisioner": "0", "platform": "2"}

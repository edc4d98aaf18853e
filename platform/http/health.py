"""`/healthz`: the process runs. `/readyz`: every dependency answers, or 503 naming the
first that did not."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse

from audora.platform.runtime import Runtime

CHECK_TIMEOUT = 2.0


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def _checks(runtime: Runtime) -> dict[str, Callable[[], Awaitable[object]]]:
    async def postgres() -> object:
        async with runtime.platform_engine.connect() as conn:
            return await conn.execute(text("SELECT 1"))

    async def redis() -> object:
        return await runtime.redis.ping()

    async def object_store() -> object:
        return await asyncio.to_thread(runtime.storage.ping)

    async def key_service() -> object:
        await runtime.keys.ping()
        return None

    return {
        "postgres": postgres,
        "redis": redis,
        "object_store": object_store,
        "key_service": key_service,
    }


async def readyz(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    results: dict[str, str] = {}
    for name, check in _checks(runtime).items():
        try:
            await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT)
            results[name] = "ok"
        except Exception as exc:
            results[name] = "timeout" if isinstance(exc, TimeoutError) else "unavailable"
            return JSONResponse(
                {"status": "unavailable", "failed": name, "checks": results}, status_code=503
            )
    return JSONResponse({"status": "ok", "checks": results})

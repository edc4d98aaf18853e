"""The staff console served as `make run` serves it, for the browser tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import uvicorn

from audora.platform.clock import FrozenClock
from audora.platform.config import Settings
from audora.platform.http.app import create_app
from audora.platform.stack.ports import free_port
from audora.platform.tls.serving import certificate_files


@pytest.fixture
async def console(settings: Settings, clock: FrozenClock) -> AsyncIterator[str]:
    """The API in this process, over TLS at https://localhost:PORT; that origin."""
    port = free_port()
    origin = f"https://localhost:{port}"
    app = create_app(settings.model_copy(update={"webauthn_origins": [origin]}), clock=clock)
    cert, key = certificate_files(settings)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            ssl_certfile=str(cert),
            ssl_keyfile=str(key),
            log_level="warning",
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the console's server did not start"
        await asyncio.sleep(0.05)
    try:
        yield origin
    finally:
        server.should_exit = True
        await task

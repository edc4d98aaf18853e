"""`/healthz` answers while the process runs; `/readyz` only when Postgres, Redis and the
object store answer, and names the one that does not."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from audora.platform.config import Settings
from audora.platform.http.app import create_app

from audora_testing import dead_url


async def test_healthz(api: httpx.AsyncClient) -> None:
    response = await api.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_when_everything_answers(api: httpx.AsyncClient) -> None:
    response = await api.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {
        "postgres": "ok",
        "redis": "ok",
        "object_store": "ok",
        "key_service": "ok",
    }


@pytest.mark.parametrize(
    ("setting", "name"),
    [
        ("app_database_url", "postgres"),
        ("redis_url", "redis"),
        ("s3_endpoint", "object_store"),
        ("kms_socket", "key_service"),
    ],
)
async def test_readyz_names_the_dependency_that_does_not_answer(
    settings: Settings, setting: str, name: str, tmp_path: Path
) -> None:
    dead = (
        str(tmp_path / "no-such.sock")
        if setting == "kms_socket"
        else dead_url(getattr(settings, setting))
    )
    broken = settings.model_copy(update={setting: dead})
    app = create_app(broken)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/readyz")
            assert (await client.get("/healthz")).status_code == 200
    assert response.status_code == 503
    assert response.json()["failed"] == name

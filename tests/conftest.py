"""The suite runs against a real embedded stack, started once per run in a throw-away
folder: PostgreSQL, Redis, SeaweedFS and the SMTP catcher, as `make run` starts them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import Engine
from starlette.applications import Starlette

from audora.platform.clock import FrozenClock
from audora.platform.config import ClusterUrls, Settings
from audora.platform.db.engines import sync_engine
from audora.platform.db.roles import GATEWAY_ROLE, PROVISIONER_ROLE
from audora.platform.http.app import create_app
from audora.platform.runtime import Runtime
from audora.platform.stack.embedded import EmbeddedStack
from audora.platform.stack.ports import free_port
from audora.platform.stack.postgres import EmbeddedPostgres
from audora.platform.tls.local_ca import ensure_server_certificate
from audora.tenants.migrate.runner import migrate_platform, migrate_tenants, tenant_schemas

from audora_testing import TEST_AGENT, TEST_IP, GraphQL, Served, client_from

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def stack() -> Iterator[EmbeddedStack]:
    data_dir = REPO / ".test-data" / f"stack-{os.getpid()}"
    shutil.rmtree(data_dir, ignore_errors=True)
    embedded = EmbeddedStack(data_dir, durable=False)
    embedded.start()
    try:
        yield embedded
    finally:
        embedded.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def settings(stack: EmbeddedStack) -> Settings:
    state = stack.state
    assert state is not None
    # Stand-ins of Linear, Notion and webhook receivers serve on localhost, with
    # certificates from a test CA of their own: trusted for outbound calls, and
    # localhost exempt from the SSRF guard, in tests only.
    outbound_ca = ensure_server_certificate(stack.data_dir / "outbound-ca")
    made = state.apply_to(
        Settings(
            env="test",
            data_dir=stack.data_dir,
            outbound_ca_file=outbound_ca.ca_file,
            outbound_allow_private_hosts=["localhost"],
        )
    )
    operator = sync_engine(made.database_url)
    migrate_platform(operator, made)
    report = migrate_tenants(made.provisioner_database_url, tenant_schemas(operator), concurrency=1)
    operator.dispose()
    assert report.ok
    return made


@pytest.fixture(scope="session")
def stack_env(stack: EmbeddedStack, settings: Settings) -> dict[str, str]:
    """Environment for the project's own commands run as subprocesses."""
    return {**os.environ, "AUDORA_DATA_DIR": str(stack.data_dir), "AUDORA_ENV": "test"}


@pytest.fixture(scope="session")
def superuser(settings: Settings) -> Iterator[Engine]:
    """The operator's connection: for inspecting what the platform did, never for the
    platform's own work."""
    engine = sync_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture(scope="session")
async def runtime(settings: Settings, clock: FrozenClock) -> AsyncIterator[Runtime]:
    opened = Runtime.open(settings, clock=clock)
    yield opened
    await opened.close()


@pytest.fixture(scope="session")
async def app(settings: Settings, clock: FrozenClock) -> AsyncIterator[Starlette]:
    """The API in this process, its runtime open: reach it through `api` or `client_from`."""
    made = create_app(settings, clock=clock)
    async with made.router.lifespan_context(made):
        yield made


@pytest.fixture(scope="session")
async def api(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_from(app, TEST_IP, TEST_AGENT) as client:
        yield client


@pytest.fixture(scope="session")
def gql(api: httpx.AsyncClient) -> GraphQL:
    return GraphQL(api)


@pytest.fixture(scope="session")
def served(stack_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    port = free_port()
    log = tmp_path_factory.mktemp("served") / "api.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "audora"), "serve"],
            cwd=REPO,
            env={**stack_env, "AUDORA_PORT": str(port)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    ca = Path(stack_env["AUDORA_DATA_DIR"]) / "tls" / "ca.pem"
    try:
        deadline = time.monotonic() + 60
        while "Application startup complete" not in log.read_text(errors="replace"):
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield Served(port, ca, proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# A second PostgreSQL cluster for tenant placement and moves: started on first use only
# (most runs never ask for it), once per run, with the same role passwords as the first.
SECOND = "second"


@pytest.fixture(scope="session")
def second_cluster(stack: EmbeddedStack) -> Iterator[ClusterUrls]:
    postgres = EmbeddedPostgres(
        stack.data_dir / "postgres-second",
        port=free_port(),
        superuser_password=stack.secrets.postgres_password,
        durable=False,
    )
    postgres.start()
    try:
        with psycopg.connect(
            host="127.0.0.1",
            port=postgres.port,
            user="postgres",
            password=stack.secrets.postgres_password,
            dbname="postgres",
            autocommit=True,
        ) as conn:
            conn.execute("CREATE DATABASE audora")
        yield ClusterUrls(
            database_url=postgres.url(),
            gateway_database_url=postgres.url(GATEWAY_ROLE, stack.secrets.gateway_password),
            provisioner_database_url=postgres.url(
                PROVISIONER_ROLE, stack.secrets.provisioner_password
            ),
        )
    finally:
        postgres.stop()


@pytest.fixture(scope="session")
def placed_settings(settings: Settings, second_cluster: ClusterUrls) -> Settings:
    """The test settings with the second cluster configured, its roles made and its row
    recorded, as `audora migrate` does."""
    made = settings.model_copy(update={"tenant_clusters": {SECOND: second_cluster}})
    operator = sync_engine(made.database_url)
    try:
        migrate_platform(operator, made)
    finally:
        operator.dispose()
    return made


@pytest.fixture(scope="session")
async def placed_runtime(placed_settings: Settings, clock: FrozenClock) -> AsyncIterator[Runtime]:
    opened = Runtime.open(placed_settings, clock=clock)
    yield opened
    await opened.close()


@pytest.fixture(scope="session")
async def placed_gql(placed_settings: Settings, clock: FrozenClock) -> AsyncIterator[GraphQL]:
    """GraphQL into an API that knows both clusters."""
    made = create_app(placed_settings, clock=clock)
    async with made.router.lifespan_context(made):
        async with client_from(made, TEST_IP, TEST_AGENT) as client:
            yield GraphQL(client)

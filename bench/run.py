"""`make bench`: the foundation's figures on a throw-away embedded stack.

- provisioning: tenants per second through `provision_account` (schema, role, tables,
  bucket, identity, key slot), and full `signUp` mutations per second over HTTP (which
  add argon2id hashing and a session);
- `clientProfiles` throughput and p50/p99 latency through a real uvicorn server, with
  10 tenants and again with 1,000, requests spread over every tenant's token;
- encryption costs (`encryption.py`), the audio retention sweep (`retention.py`), the
  purge of a tenant (`purge.py`), and
  the product's figures (`product.py`):
  transcription real-time factor and upload-to-READY time per minute of audio, with a
  real worker beside the API.

Loopback only; every loop is bounded in count and time. Results: a table on stdout and
`bench/results/{foundation,encryption,product}.json`.

Then the scale bench (`scale.py`): Audora at 10, 1,000 and 10,000 tenants against a bare
Strawberry + SQLAlchemy baseline, `bench/results/scale.{json,png}`.

`BENCH_ONLY=foundation` or `BENCH_ONLY=scale` runs only one of the two;
`BENCH_TENANTS=10,1000` chooses the scale bench's tenant counts.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import ssl
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import encryption
import httpx
import product
import purge
import retention
import scale
from sqlalchemy import text

from audora.platform.auth.service import ClientInfo, open_session
from audora.platform.config import Settings
from audora.platform.db.engines import sync_engine
from audora.platform.runtime import Runtime
from audora.platform.stack.embedded import EmbeddedStack
from audora.platform.stack.ports import free_port
from audora.platform.tls.local_ca import ensure_server_certificate
from audora.tenants.audit.tables import refuse_change_function
from audora.tenants.migrate.runner import migrate_all, migrate_platform
from audora.tenants.migrate.streams import head
from audora.tenants.provisioning.service import NewAccount, provision_account
from audora.tenants.tables import TENANT_TABLES

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
SOME_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
PROFILES_PER_TENANT = 3
REQUESTS_PER_ROUND = 3000
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
ROUND_TIME_LIMIT_S = 120
# Sessions are bound to their user agent: the bench's requests carry the one its
# sessions were opened with.
BENCH_AGENT = "audora-bench"


def _settings(stack: EmbeddedStack) -> Settings:
    state = stack.state
    assert state is not None
    return state.apply_to(Settings(env="test", data_dir=stack.data_dir))


async def _provision(runtime: Runtime, count: int, concurrency: int = 4) -> tuple[list[Any], float]:
    made: list[Any] = []
    semaphore = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with semaphore:
            made.append(
                await provision_account(
                    runtime.tenant_engines,
                    runtime.storage,
                    runtime.keys,
                    NewAccount(
                        f"Bench {i}", f"bench-{uuid.uuid4().hex}@example.com", SOME_HASH, "B"
                    ),
                    bucket_prefix=runtime.settings.bucket_prefix,
                    tenant_head=head("tenant"),
                )
            )

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(count)))
    return made, time.perf_counter() - started


async def _tokens(runtime: Runtime, accounts: list[Any]) -> list[str]:
    tokens = []
    for account in accounts:
        issued = await open_session(
            runtime.platform_engine,
            runtime.clock,
            user_id=account.owner_id,
            account_id=account.account_id,
            client=ClientInfo("127.0.0.1", BENCH_AGENT),
            limit=runtime.settings.session_limit,
            idle=runtime.settings.session_idle,
        )
        tokens.append(issued.token)
    return tokens


async def _fill(client: httpx.AsyncClient, tokens: list[str]) -> None:
    query = "mutation($i: CreateClientProfileInput!) { createClientProfile(input: $i) { id } }"
    semaphore = asyncio.Semaphore(CONCURRENCY)

    async def one(token: str, n: int) -> None:
        async with semaphore:
            r = await client.post(
                "/graphql",
                headers={"authorization": f"Bearer {token}"},
                json={
                    "query": query,
                    "variables": {
                        "i": {"name": f"Client {n}", "budget": "40k EUR", "notes": "Kick-off notes"}
                    },
                },
            )
            assert "errors" not in r.json(), r.text

    await asyncio.gather(*(one(t, n) for t in tokens for n in range(PROFILES_PER_TENANT)))


async def _load(client: httpx.AsyncClient, tokens: list[str]) -> dict[str, float]:
    query = {"query": "{ clientProfiles { id name budget createdBy { email } } }"}
    latencies: list[float] = []
    counter = iter(range(REQUESTS_PER_ROUND))
    deadline = time.monotonic() + ROUND_TIME_LIMIT_S

    async def worker() -> None:
        for n in counter:
            if time.monotonic() > deadline:
                return
            token = tokens[(n * 7919) % len(tokens)]
            t0 = time.perf_counter()
            r = await client.post(
                "/graphql", json=query, headers={"authorization": f"Bearer {token}"}
            )
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200 or "errors" in r.json():
                raise RuntimeError(f"benchmark request failed: {r.text}")

    # Warm-up: one request per tenant, so each tenant's data key is in the API's
    # five-minute key cache, as it is for any tenant active in the last minutes; the
    # measured round is the steady state. (A cold tenant pays one key-service round trip.)
    for token in tokens:
        await client.post("/graphql", json=query, headers={"authorization": f"Bearer {token}"})
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    quantiles = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "throughput_rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(quantiles[49] * 1000, 2),
        "p99_ms": round(quantiles[98] * 1000, 2),
    }


async def _signups_over_http(client: httpx.AsyncClient, count: int) -> float:
    query = "mutation($i: SignUpInput!) { signUp(input: $i) { token } }"
    semaphore = asyncio.Semaphore(4)

    async def one(n: int) -> None:
        async with semaphore:
            r = await client.post(
                "/graphql",
                json={
                    "query": query,
                    "variables": {
                        "i": {
                            "accountName": f"HTTP {n}",
                            "email": f"http-{uuid.uuid4().hex}@example.com",
                            "password": "a bench passphrase",
                            "fullName": "Bench",
                        }
                    },
                },
            )
            assert "errors" not in r.json(), r.text

    started = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(count)))
    return count / (time.perf_counter() - started)


def _migration_rates(settings: Settings) -> dict[str, float]:
    """`audora migrate` over every tenant: once with all of them one migration behind
    (tables dropped, as before their first migration), once with all current."""
    operator = sync_engine(settings.database_url)
    with operator.connect() as conn:
        schemas = (
            conn.execute(text("SELECT schema_name FROM platform.accounts WHERE status <> 'PURGED'"))
            .scalars()
            .all()
        )
    for schema in schemas:  # a transaction each: thousands of DROPs exhaust the lock table
        with operator.begin() as conn:
            tables = [f"{schema}.{t.name}" for t in TENANT_TABLES] + [f"{schema}.alembic_version"]
            conn.exec_driver_sql(f"DROP TABLE {', '.join(tables)}")
            conn.exec_driver_sql(f"DROP FUNCTION {schema}.{refuse_change_function(schema)}()")
    operator.dispose()
    started = time.perf_counter()
    behind = migrate_all(settings, concurrency=settings.migrate_concurrency)
    migrating = time.perf_counter() - started
    started = time.perf_counter()
    current = migrate_all(settings, concurrency=settings.migrate_concurrency)
    checking = time.perf_counter() - started
    if not (behind.ok and len(behind.migrated) == len(schemas) == len(current.current)):
        raise RuntimeError(f"migration bench did not migrate every tenant: {behind.failed}")
    return {
        "tenants_migrated": len(schemas),
        "migrate_schemas_per_s": round(len(schemas) / migrating, 1),
        "migrate_check_current_per_s": round(len(schemas) / checking, 1),
    }


async def bench(settings: Settings, api_url: str, trust: ssl.SSLContext) -> dict[str, Any]:
    runtime = Runtime.open(settings)
    results: dict[str, Any] = {}
    try:
        async with httpx.AsyncClient(
            base_url=api_url, timeout=60, verify=trust, headers={"user-agent": BENCH_AGENT}
        ) as client:
            first, seconds = await _provision(runtime, 10)
            tokens = await _tokens(runtime, first)
            await _fill(client, tokens)
            results["at_10_tenants"] = await _load(client, tokens)

            more, seconds = await _provision(runtime, 990)
            results["provisioning_tenants_per_s"] = round(990 / seconds, 1)
            tokens += await _tokens(runtime, more)
            await _fill(client, tokens[10:])
            results["at_1000_tenants"] = await _load(client, tokens)
            results["signup_over_http_per_s"] = round(await _signups_over_http(client, 40), 1)
            tenant = first[0].account_id
            results["encryption"] = {
                "transfers_64mb": await encryption.transfers(runtime, tenant),
                "key_service": await encryption.key_service(runtime, tenant),
                "upload_200mb_over_https": await encryption.upload_over_https(client, tokens[0]),
            }
            results["product"] = {"upload_to_ready": await product.upload_to_ready(client)}
            results["retention"] = await retention.audio_sweep(runtime, first[1].account_id)
            results["purge"] = await purge.tenant_purge(runtime, first[2].account_id)
    finally:
        await runtime.close()
    p50_10 = results["at_10_tenants"]["p50_ms"]
    results["p50_ratio_1000_vs_10"] = round(results["at_1000_tenants"]["p50_ms"] / p50_10, 3)
    return results


def main() -> int:
    only = os.environ.get("BENCH_ONLY", "")
    if only not in ("", "foundation", "scale"):
        sys.stderr.write(f"BENCH_ONLY is foundation or scale, not {only!r}\n")
        return 2
    if only in ("", "foundation"):
        foundation()
    if only in ("", "scale"):
        return scale.main()
    return 0


def foundation() -> int:
    data_dir = REPO / ".test-data" / f"bench-{os.getpid()}"
    shutil.rmtree(data_dir, ignore_errors=True)
    stack = EmbeddedStack(data_dir, durable=False)
    stack.start()
    server: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    try:
        settings = _settings(stack)
        operator = sync_engine(settings.database_url)
        migrate_platform(operator, settings)
        operator.dispose()
        port = free_port()
        certificate = ensure_server_certificate(data_dir / "tls")
        env = {
            **os.environ,
            "AUDORA_DATA_DIR": str(data_dir),
            "AUDORA_ENV": "test",
            "AUDORA_PORT": str(port),
        }
        audora = str(Path(sys.executable).parent / "audora")
        server_log = (RESULTS / "api-server.log").open("wb")
        server = subprocess.Popen(
            [audora, "serve"], env=env, stdout=server_log, stderr=subprocess.STDOUT
        )
        worker_log = (RESULTS / "worker.log").open("wb")
        worker = subprocess.Popen(
            [audora, "worker"], env=env, stdout=worker_log, stderr=subprocess.STDOUT
        )
        api_url = f"https://localhost:{port}"
        trust = ssl.create_default_context(cafile=str(certificate.ca_file))
        for _ in range(300):
            try:
                if httpx.get(f"{api_url}/readyz", timeout=2, verify=trust).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        results = asyncio.run(bench(settings, api_url, trust))
        results.update(_migration_rates(settings))
    finally:
        for process in (worker, server):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
        stack.stop()
        shutil.rmtree(data_dir, ignore_errors=True)

    RESULTS.mkdir(parents=True, exist_ok=True)
    crypto = results.pop("encryption")
    made = results.pop("product")
    # Timed alone, after the API and worker are gone, so nothing else shares the cores.
    made["transcription"] = product.transcription_rtf()
    (RESULTS / "product.json").write_text(json.dumps(made, indent=2) + "\n")
    (RESULTS / "foundation.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "encryption.json").write_text(json.dumps(crypto, indent=2) + "\n")
    moved, keys = crypto["transfers_64mb"], crypto["key_service"]
    rows = [
        ("provisioning (tenants/s, concurrency 4)", results["provisioning_tenants_per_s"]),
        ("signUp over HTTP incl. argon2id (per s)", results["signup_over_http_per_s"]),
        (
            "clientProfiles @10 tenants rps / p50 / p99 ms",
            "{throughput_rps} / {p50_ms} / {p99_ms}".format(**results["at_10_tenants"]),
        ),
        (
            "clientProfiles @1000 tenants rps / p50 / p99 ms",
            "{throughput_rps} / {p50_ms} / {p99_ms}".format(**results["at_1000_tenants"]),
        ),
        ("p50 ratio 1000 vs 10 tenants (target <= 1.10)", results["p50_ratio_1000_vs_10"]),
        (
            "audio retention sweep, 100,000 due recordings (s; target < 60)",
            results["retention"]["sweep_s"],
        ),
        (
            "purge of a tenant with 10,000 objects (s)",
            results["purge"]["purge_s"],
        ),
        (
            "retention run over every tenant, nothing due (tenants / s)",
            "{idle_sweep_tenants} / {idle_sweep_s}".format(**results["retention"]),
        ),
        ("audora migrate, schemas one behind (per s)", results["migrate_schemas_per_s"]),
        ("audora migrate, schemas already current (per s)", results["migrate_check_current_per_s"]),
        (
            "64 MB to the bucket, MB/s plain / encrypted (ratio)",
            "{plain_upload_mb_s} / {encrypted_upload_mb_s} ({upload_ratio})".format(**moved),
        ),
        (
            "64 MB from the bucket, MB/s plain / decrypted (ratio)",
            "{plain_download_mb_s} / {encrypted_download_mb_s} ({download_ratio})".format(**moved),
        ),
        (
            "200 MB PUT /uploads over TLS, encrypted (MB/s)",
            crypto["upload_200mb_over_https"]["mb_s"],
        ),
        *(
            (f"transcription RTF, {name} (target <= 0.15)", call["rtf"])
            for name, call in made["transcription"]["calls"].items()
        ),
        *(
            (f"upload to READY, {name} (s per audio minute)", call["s_per_audio_min"])
            for name, call in made["upload_to_ready"]["calls"].items()
        ),
        *(
            (f"key service {name} p50 / p99 ms", "{p50_ms} / {p99_ms}".format(**keys[name]))
            for name in ("generate", "unwrap", "rewrap")
        ),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        sys.stdout.write(f"{name:<{width}}  {value}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

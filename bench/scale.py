"""`BENCH_ONLY=scale make bench`: Audora at N tenants on one PostgreSQL, against a bare
baseline, in one run.

For each N of `BENCH_TENANTS` (default 10,1000,10000), growing the same stack:
- provision up to N tenants (`provision_account`, four at a time) and report the rate,
  with the CPU each tenant cost PostgreSQL, the object store, the key service and the
  provisioning process (`cpu_meter.ServiceMeter`);
- fill the new ones (bench/scale_fill.py: 2 profiles, 2 calls with sealed transcripts,
  8 sealed documents each) and the baseline's plain tables with the same rows;
- drive `audora serve` (uvicorn, TLS, one process, a worker beside it) and then the bare
  baseline (bench/baseline_app.py: same TLS, one process, same pool) with the same load
  generator (bench/loadgen.py, its own process, loopback only, bounded in requests and
  time), every tenant's token in turn: throughput, p50, p99, per operation too; each app
  warmed up once, then `BENCH_ROUNDS` rounds of each in turn, the median round reported;
- the API's and the worker's resident memory (psutil);
- a tenant's nightly backup: `BENCH_BACKUPS` (5) tenants backed up one after another as
  the worker does it (`backup_tenant`: written from the rows, encrypted, stored), the
  median reported, beside one `pg_dump --schema` of the same kind of tenant (what every
  backup was before: it reads the whole database's catalog);
- `audora migrate` (the command, a process of its own) with every tenant one migration
  behind (the tenant stream's last migration undone first), then with all current.

Results: bench/results/scale.json and bench/results/scale.png; a table on stdout. Settings:
BENCH_TENANTS, BENCH_REQUESTS (per round, 3000), BENCH_ROUNDS (3), BENCH_ROUND_SECONDS (120),
BENCH_CONCURRENCY (8), BENCH_FILL_CONCURRENCY (4), BENCH_SHARED_BUFFERS (PostgreSQL's buffer
cache: a quarter of the machine's memory, at most 8 GB, PostgreSQL's own starting advice;
the test stacks keep 256 MB), BENCH_DATA_DIR (where the stack lives, `.test-data/` by
default: on a journal-less ext4, give a journaled volume, see bench/data_volume.py).
At 10,000 tenants the catalog alone is over 1 GB (pg_class and pg_attribute); with 256 MB
every request read some 44 blocks of it from the OS's cache.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cpu_meter
import data_volume
import httpx
import psutil
import scale_plot
from baseline_app import create_tables
from scale_fill import TenantData, fill, fill_baseline, fixture_calls
from sqlalchemy import text

from audora.platform.config import Settings
from audora.platform.db.engines import sync_engine
from audora.platform.db.tenant_binding import migrator_search_path
from audora.platform.db.tenant_names import TenantSchema
from audora.platform.runtime import Runtime
from audora.platform.stack.embedded import EmbeddedStack
from audora.platform.stack.ports import free_port
from audora.platform.stack.process import ManagedProcess
from audora.platform.tls.local_ca import ensure_server_certificate
from audora.tenants.backups.service import backup_tenant, pg_dump_schema
from audora.tenants.migrate.runner import migrate_platform, run_tenant_stream
from audora.tenants.migrate.streams import head, script_directory
from audora.tenants.provisioning.service import NewAccount, provision_account

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
SOME_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"  # pragma: allowlist secret
)
TENANT_COUNTS = [int(n) for n in os.environ.get("BENCH_TENANTS", "10,1000,10000").split(",")]
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "3000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
ROUND_SECONDS = float(os.environ.get("BENCH_ROUND_SECONDS", "120"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
FILL_CONCURRENCY = int(os.environ.get("BENCH_FILL_CONCURRENCY", "4"))
BACKUPS = int(os.environ.get("BENCH_BACKUPS", "5"))
SHARED_BUFFERS = os.environ.get(
    "BENCH_SHARED_BUFFERS", f"{min(psutil.virtual_memory().total // 4 // 2**20, 8192)}MB"
)
DATA_ROOT = Path(os.environ.get("BENCH_DATA_DIR") or REPO / ".test-data")
# Whatever else happens, one load round, warm-up included, ends within this.
LOADGEN_TIMEOUT_S = 1800


def settings_of(stack: EmbeddedStack) -> Settings:
    state = stack.state
    assert state is not None
    return state.apply_to(Settings(env="test", data_dir=stack.data_dir))


async def provision(runtime: Runtime, count: int) -> tuple[list[TenantData], float]:
    made: list[TenantData] = []
    semaphore = asyncio.Semaphore(4)

    async def one(i: int) -> None:
        async with semaphore:
            account = await provision_account(
                runtime.tenant_engines,
                runtime.storage,
                runtime.keys,
                NewAccount(
                    f"Agency {i}",
                    f"owner-{i}-{os.urandom(6).hex()}@example.com",
                    SOME_HASH,
                    "Owner",
                ),
                bucket_prefix=runtime.settings.bucket_prefix,
                tenant_head=head("tenant"),
            )
            made.append(TenantData(account.account_id, account.owner_id, account.schema))

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(count)))
    return made, time.perf_counter() - started


def drive(
    url: str,
    ca: Path,
    tenants: list[dict[str, Any]],
    work: Path,
    name: str,
    *,
    warm: bool,
    requests: int,
    first: int = 0,
) -> dict[str, Any]:
    """One run of the load generator, in its own process: a warm-up, a measured round
    (its requests numbered from `first`), or both."""
    plan = work / f"plan-{name}.json"
    plan.write_text(
        json.dumps(
            {
                "url": url,
                "ca": str(ca),
                "tenants": tenants,
                "requests": requests,
                "first": first,
                "seconds": ROUND_SECONDS,
                "concurrency": CONCURRENCY,
                "warm": warm,
            }
        )
    )
    done = subprocess.run(
        [sys.executable, str(BENCH / "loadgen.py"), str(plan)],
        capture_output=True,
        text=True,
        timeout=LOADGEN_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def load_rounds(
    servers: Servers, tenants: list[TenantData], work: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Audora's and the baseline's figures at one N: each warmed up once, then `ROUNDS`
    measured rounds of each, taken in turn so that a slow minute of the machine falls on
    both; each round on the next tenants (at 10,000, no tenant twice). The median round's
    figures are reported, with every round's beside them."""
    apps = {
        "audora": (servers.audora_url, [t.plan_entry(baseline=False) for t in tenants]),
        "baseline": (servers.baseline_url, [t.plan_entry(baseline=True) for t in tenants]),
    }
    pids = {"audora": servers.api.pid, "baseline": servers.baseline.pid}
    warmed = {
        name: drive(url, servers.ca, plan, work, name, warm=True, requests=0)["warmed_tenants"]
        for name, (url, plan) in apps.items()
    }
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in apps}
    for number in range(ROUNDS):
        for name, (url, plan) in apps.items():
            before = cpu_meter.sample(pids[name], servers.postmaster_pid)
            measured = drive(
                url,
                servers.ca,
                plan,
                work,
                name,
                warm=False,
                requests=REQUESTS,
                first=number * REQUESTS,
            )
            after = cpu_meter.sample(pids[name], servers.postmaster_pid)
            measured["cpu"] = cpu_meter.per_request(before, after, measured["requests"])
            rounds[name].append(measured)
    audora, baseline = (median_round(rounds[name], warmed[name]) for name in apps)
    return audora, baseline


def median_round(rounds: list[dict[str, Any]], warmed: int) -> dict[str, Any]:
    """One load generator result made of several rounds: throughput and latencies are the
    median of the rounds' (per operation too); counts are summed."""

    def middle(values: list[float]) -> float:
        return round(statistics.median(values), 2)

    operations = rounds[0]["by_operation"]
    return {
        "tenants": rounds[0]["tenants"],
        "warmed_tenants": warmed,
        "rounds": [
            {
                k: r[k]
                for k in ("requests", "elapsed_s", "throughput_rps", "p50_ms", "p99_ms", "cpu")
                if k in r
            }
            for r in rounds
        ],
        "requests": sum(r["requests"] for r in rounds),
        "failed": sum(r["failed"] for r in rounds),
        "errors": [e for r in rounds for e in r["errors"]][:5],
        "concurrency": rounds[0]["concurrency"],
        "elapsed_s": round(sum(r["elapsed_s"] for r in rounds), 2),
        "throughput_rps": middle([r["throughput_rps"] for r in rounds]),
        "p50_ms": middle([r["p50_ms"] for r in rounds]),
        "p99_ms": middle([r["p99_ms"] for r in rounds]),
        **(
            {"cpu": {k: middle([r["cpu"][k] for r in rounds]) for k in rounds[0]["cpu"]}}
            if all("cpu" in r for r in rounds)
            else {}
        ),
        "by_operation": {
            op: {
                "requests": sum(r["by_operation"][op]["requests"] for r in rounds),
                "p50_ms": middle([r["by_operation"][op]["p50_ms"] for r in rounds]),
                "p99_ms": middle([r["by_operation"][op]["p99_ms"] for r in rounds]),
            }
            for op in operations
        },
    }


def rss_mb(pid: int) -> float:
    process = psutil.Process(pid)
    total = process.memory_info().rss + sum(
        _gone_as_zero(lambda child=child: child.memory_info().rss)
        for child in process.children(recursive=True)
    )
    return round(total / 2**20, 1)


def postgres_private_mb(postmaster_pid: int) -> float:
    """The private memory (USS) of the stack's PostgreSQL server processes: each backend's
    catalog caches grow with the tenant schemas it has touched."""
    postmaster = psutil.Process(postmaster_pid)
    total = sum(
        _gone_as_zero(lambda child=child: child.memory_full_info().uss)
        for child in postmaster.children()
    )
    return round((total + postmaster.memory_full_info().uss) / 2**20, 1)


def _gone_as_zero(read: Callable[[], int]) -> int:
    """A child's memory, or 0 if it exited after the listing (a session closing, an
    autovacuum worker done): it holds none any more. Run 16 died on one."""
    try:
        return read()
    except psutil.NoSuchProcess:
        return 0


async def timed_backups(runtime: Runtime, tenants: list[TenantData]) -> dict[str, Any]:
    """Seconds per tenant backup as the worker takes it, and of one pg_dump alone."""
    seconds: list[float] = []
    for tenant in tenants[-BACKUPS:]:
        started = time.perf_counter()
        await backup_tenant(runtime, tenant.account_id)
        seconds.append(time.perf_counter() - started)
    started = time.perf_counter()
    async for _ in pg_dump_schema(runtime, tenants[0].schema):
        pass
    return {
        "backup_seconds_median": round(statistics.median(seconds), 3),
        "backup_seconds_max": round(max(seconds), 3),
        "pg_dump_seconds": round(time.perf_counter() - started, 3),
    }


def one_migration_back(settings: Settings, schemas: list[TenantSchema]) -> None:
    """Undo the tenant stream's last migration in every schema, as the schema owner."""
    previous = script_directory("tenant").get_revision(head("tenant"))
    assert previous is not None
    assert isinstance(previous.down_revision, str)
    provisioner = sync_engine(settings.provisioner_database_url, pool_size=1)
    try:
        for schema in schemas:
            with provisioner.begin() as conn, migrator_search_path(conn, schema):
                run_tenant_stream(conn, schema, previous.down_revision, down=True)
    finally:
        provisioner.dispose()


def timed_migrate(env: dict[str, str], count: int) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).parent / "audora"), "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"audora migrate failed: {done.stdout[-2000:]} {done.stderr[-2000:]}")
    return round(count / seconds, 1), done.stdout.strip().splitlines()[-1]


def catalog_size(settings: Settings) -> int:
    engine = sync_engine(settings.database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM pg_class")).scalar_one())
    finally:
        engine.dispose()


class Servers:
    """`audora serve`, `audora worker` and the baseline app, each its own process."""

    def __init__(self, settings: Settings, data_dir: Path, postmaster_pid: int) -> None:
        self.postmaster_pid = postmaster_pid
        certificate = ensure_server_certificate(data_dir / "tls")
        self.ca = certificate.ca_file
        self.env = {**os.environ, "AUDORA_DATA_DIR": str(data_dir), "AUDORA_ENV": "test"}
        self.audora_url = f"https://localhost:{free_port()}"
        self.baseline_url = f"https://localhost:{free_port()}"
        audora = str(Path(sys.executable).parent / "audora")
        logs = RESULTS
        self.api = subprocess.Popen(
            [audora, "serve"],
            env={**self.env, "AUDORA_PORT": self.audora_url.rsplit(":", 1)[1]},
            stdout=(logs / "scale-api.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        self.worker = subprocess.Popen(
            [audora, "worker"],
            env=self.env,
            stdout=(logs / "scale-worker.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        self.baseline = subprocess.Popen(
            [
                sys.executable,
                str(BENCH / "baseline_app.py"),
                "--database-url",
                settings.database_url.replace("postgresql://", "postgresql+psycopg://", 1),
                "--port",
                self.baseline_url.rsplit(":", 1)[1],
                "--cert",
                str(certificate.cert_file),
                "--key",
                str(certificate.key_file),
                "--pool-size",
                str(settings.db_pool_size),
                "--max-overflow",
                str(settings.db_max_overflow),
                "--idle-session-seconds",
                str(settings.db_idle_session_seconds),
            ],
            stdout=(logs / "scale-baseline.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        trust = ssl.create_default_context(cafile=str(self.ca))
        for url, path in ((self.audora_url, "/readyz"), (self.baseline_url, "/healthz")):
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(url + path, timeout=2, verify=trust).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} did not come up")
                time.sleep(0.2)

    def stop(self) -> None:
        for process in (self.baseline, self.worker, self.api):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


async def grow_and_measure(
    settings: Settings, servers: Servers, work: Path, meter: cpu_meter.ServiceMeter
) -> dict[str, Any]:
    runtime = Runtime.open(settings)
    corpus = await fixture_calls()
    tenants: list[TenantData] = []
    measured: dict[str, Any] = {}
    try:
        for count in TENANT_COUNTS:
            new = count - len(tenants)
            at: dict[str, Any] = {}
            if new > 0:
                before = meter.sample()
                with meter.watch() as sessions:
                    made, seconds = await provision(runtime, new)
                at["provisioning_tenants_per_s"] = round(new / seconds, 1)
                at["provisioning_per_tenant"] = cpu_meter.ms_each(
                    before, meter.sample(), new, sessions
                )
                started = time.perf_counter()
                await fill(runtime, made, corpus, FILL_CONCURRENCY)
                fill_baseline(settings.database_url, made, corpus)
                at["fill_tenants_per_s"] = round(new / (time.perf_counter() - started), 1)
                tenants += made
            at["pg_class_relations"] = catalog_size(settings)
            at["audora"], at["baseline"] = load_rounds(servers, tenants, work)
            at["throughput_ratio"] = round(
                at["audora"]["throughput_rps"] / at["baseline"]["throughput_rps"], 3
            )
            at["api_rss_mb"] = rss_mb(servers.api.pid)
            at["worker_rss_mb"] = rss_mb(servers.worker.pid)
            at["baseline_rss_mb"] = rss_mb(servers.baseline.pid)
            at["postgres_private_mb"] = postgres_private_mb(servers.postmaster_pid)
            at["backup"] = await timed_backups(runtime, tenants)
            one_migration_back(settings, [t.schema for t in tenants])
            behind, line = timed_migrate(servers.env, len(tenants))
            current, _ = timed_migrate(servers.env, len(tenants))
            at["migrate_one_behind_schemas_per_s"] = behind
            at["migrate_current_schemas_per_s"] = current
            at["migrate_report"] = line
            measured[str(len(tenants))] = at
            sys.stdout.write(f"scale: {len(tenants)} tenants: {json.dumps(_row(at))}\n")
            sys.stdout.flush()
    finally:
        await runtime.close()
    return measured


def service_meter(stack: EmbeddedStack) -> cpu_meter.ServiceMeter:
    def pid(process: ManagedProcess | None) -> int:
        if process is None or process.pid is None:
            raise RuntimeError("a server of the stack is not running")
        return process.pid

    return cpu_meter.ServiceMeter(
        postmaster_pid=stack.postgres.pid,
        object_store_pids=(pid(stack.seaweed.server), pid(stack.seaweed.gateway)),
        key_service_pids=(pid(stack.keys.process),),
    )


def _row(at: dict[str, Any]) -> dict[str, Any]:
    return {
        "audora_rps": at["audora"]["throughput_rps"],
        "baseline_rps": at["baseline"]["throughput_rps"],
        "ratio": at["throughput_ratio"],
        "audora_p50_ms": at["audora"]["p50_ms"],
        "audora_p99_ms": at["audora"]["p99_ms"],
        "audora_cpu": at["audora"].get("cpu"),
        "baseline_p50_ms": at["baseline"]["p50_ms"],
        "api_rss_mb": at["api_rss_mb"],
        "migrate_behind_per_s": at["migrate_one_behind_schemas_per_s"],
        "provisioning": at.get("provisioning_per_tenant"),
        "backup": at.get("backup"),
    }


def summary(measured: dict[str, Any]) -> dict[str, Any]:
    counts = sorted(measured, key=int)
    low, high = measured[counts[0]], measured[counts[-1]]
    provisioning = [
        m["provisioning_tenants_per_s"]
        for m in measured.values()
        if "provisioning_tenants_per_s" in m
    ]
    return {
        "tenant_counts": [int(n) for n in counts],
        "throughput_ratio_min": min(m["throughput_ratio"] for m in measured.values()),
        f"p50_ratio_{counts[-1]}_vs_{counts[0]}": round(
            high["audora"]["p50_ms"] / low["audora"]["p50_ms"], 3
        ),
        "provisioning_tenants_per_s_min": min(provisioning) if provisioning else None,
        "migrate_one_behind_schemas_per_s_at_max": high["migrate_one_behind_schemas_per_s"],
        f"api_rss_growth_mb_{counts[0]}_to_{counts[-1]}": round(
            high["api_rss_mb"] - low["api_rss_mb"], 1
        ),
        "targets": {
            "throughput_ratio_min": 0.5,
            "p50_ratio_max": 1.1,
            "provisioning_tenants_per_s_min": 20,
            "migrate_schemas_per_s_min": 50,
            "api_memory": "flat in N",
        },
        "failed_requests": sum(
            m["audora"]["failed"] + m["baseline"]["failed"] for m in measured.values()
        ),
    }


def main() -> int:
    RESULTS.mkdir(parents=True, exist_ok=True)
    data_dir = DATA_ROOT / f"bench-scale-{os.getpid()}"
    shutil.rmtree(data_dir, ignore_errors=True)
    volume = data_volume.describe(data_dir)
    stack = EmbeddedStack(data_dir, durable=False, shared_buffers=SHARED_BUFFERS)
    stack.start()
    servers: Servers | None = None
    load_before = os.getloadavg()
    try:
        settings = settings_of(stack)
        operator = sync_engine(settings.database_url)
        migrate_platform(operator, settings)
        operator.dispose()
        create_tables(settings.database_url)
        servers = Servers(settings, data_dir, stack.postgres.pid)
        measured = asyncio.run(grow_and_measure(settings, servers, data_dir, service_meter(stack)))
    finally:
        if servers is not None:
            servers.stop()
        stack.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    results = {
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "data_volume": volume,
        },
        "postgres": {"shared_buffers": SHARED_BUFFERS},
        "round": {
            "requests": REQUESTS,
            "rounds": ROUNDS,
            "seconds_limit": ROUND_SECONDS,
            "concurrency": CONCURRENCY,
            "mix": "60% lists (clientProfiles, calls), 20% document, 10% call progress, "
            "10% updateDocument",
        },
        "per_tenant": "2 client profiles, 2 READY calls with transcripts, 8 documents",
        "by_tenants": measured,
        "summary": summary(measured),
    }
    (RESULTS / "scale.json").write_text(json.dumps(results, indent=2) + "\n")
    scale_plot.plot(results, RESULTS / "scale.png")
    for count, at in measured.items():
        sys.stdout.write(f"{count:>6} tenants  {json.dumps(_row(at))}\n")
    sys.stdout.write(json.dumps(results["summary"], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

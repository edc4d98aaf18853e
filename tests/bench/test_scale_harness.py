"""The scale bench's parts work, at two tenants: tenants filled through the real sealing
services, the bare baseline serving the same rows, and the load generator (its own
process, loopback only) driving both with every operation of its mix, none failing."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from audora.platform.config import Settings
from audora.platform.runtime import Runtime
from audora.platform.stack.embedded import EmbeddedStack
from audora.platform.stack.ports import free_port
from audora.platform.tls.local_ca import ensure_server_certificate

from audora_testing import Served

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.append(str(BENCH))

import baseline_app  # noqa: E402  (bench/ is not a package: found through the path above)
import cpu_meter  # noqa: E402
import loadgen  # noqa: E402
import scale  # noqa: E402
import scale_fill  # noqa: E402


@pytest.fixture
def baseline(settings: Settings, superuser: Engine) -> Iterator[str]:
    """The bare baseline app over its own tables, served over the stack's TLS."""
    url = settings.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    baseline_app.create_tables(settings.database_url)
    certificate = ensure_server_certificate(settings.data_dir / "tls")
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            str(BENCH / "baseline_app.py"),
            *("--database-url", url, "--port", str(port)),
            *("--cert", str(certificate.cert_file), "--key", str(certificate.key_file)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    served = f"https://localhost:{port}"
    trust = ssl.create_default_context(cafile=str(certificate.ca_file))
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, "the baseline app exited"
            try:
                if httpx.get(f"{served}/healthz", verify=trust, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the baseline app did not come up"
                time.sleep(0.1)
        yield served
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        with superuser.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {baseline_app.SCHEMA} CASCADE")


def _drive(url: str, ca: Path, tenants: list[dict[str, Any]], work: Path) -> dict[str, Any]:
    plan = work / "plan.json"
    plan.write_text(
        json.dumps(
            {
                "url": url,
                "ca": str(ca),
                "tenants": tenants,
                "requests": 40,
                "seconds": 30,
                "concurrency": 2,
            }
        )
    )
    done = subprocess.run(
        [sys.executable, str(BENCH / "loadgen.py"), str(plan)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


async def test_the_load_generator_drives_audora_and_the_baseline_over_the_same_data(
    runtime: Runtime,
    settings: Settings,
    stack: EmbeddedStack,
    served: Served,
    baseline: str,
    tmp_path: Path,
) -> None:
    corpus = await scale_fill.fixture_calls()
    meter = scale.service_meter(stack)
    before = meter.sample()
    tenants, _ = await scale.provision(runtime, 2)
    # Where the sign-ups' CPU went, by server: the DDL alone is tens of ms a tenant.
    spent = cpu_meter.ms_each(before, meter.sample(), len(tenants))
    assert {k for k in spent if k.endswith("_cpu_ms")} == {
        "postgres_cpu_ms",
        "postgres_provisioner_sessions_cpu_ms",
        "postgres_object_store_sessions_cpu_ms",
        "postgres_other_sessions_cpu_ms",
        "postgres_rest_cpu_ms",
        "object_store_cpu_ms",
        "key_service_cpu_ms",
        "provisioning_process_cpu_ms",
    }
    # The DDL runs in the provisioner's sessions, which stay open in its pool.
    assert spent["postgres_provisioner_sessions_cpu_ms"] > 0
    parts = ("provisioner", "object_store", "other")
    assert spent["postgres_cpu_ms"] == pytest.approx(
        sum(spent[f"postgres_{p}_sessions_cpu_ms"] for p in parts) + spent["postgres_rest_cpu_ms"],
        abs=0.3,
    )
    assert spent["provisioning_process_cpu_ms"] > 0
    assert 0 < spent["machine_busy_percent"] <= 100
    await scale_fill.fill(runtime, tenants, corpus, concurrency=2)
    scale_fill.fill_baseline(settings.database_url, tenants, corpus)
    assert all(len(t.documents) == 8 and len(t.calls) == 2 for t in tenants)

    audora = _drive(
        served.url, served.ca, [t.plan_entry(baseline=False) for t in tenants], tmp_path
    )
    bare = _drive(baseline, served.ca, [t.plan_entry(baseline=True) for t in tenants], tmp_path)

    for result in (audora, bare):
        assert result["errors"] == []
        assert result["failed"] == 0
        assert result["requests"] == 40
        assert result["warmed_tenants"] == 2
        assert set(result["by_operation"]) == set(loadgen.ROUND)
        assert result["throughput_rps"] > 0
        assert 0 < result["p50_ms"] <= result["p99_ms"]

    # The filled tenants back up as the worker backs them up, and pg_dump beside them.
    backed = await scale.timed_backups(runtime, tenants)
    assert 0 < backed["backup_seconds_median"] <= backed["backup_seconds_max"]
    assert backed["pg_dump_seconds"] > 0


def test_the_load_generator_talks_to_loopback_only() -> None:
    for url in ("https://localhost:8443", "https://127.0.0.1:8443", "https://[::1]:8443"):
        loadgen.loopback_only(url)
    for url in ("https://example.com", "https://10.0.0.1:8443", "https://192.168.1.2"):
        with pytest.raises(SystemExit, match="loopback only"):
            loadgen.loopback_only(url)


def test_rounds_go_to_other_tenants_and_are_reported_by_their_median() -> None:
    # At 10,000 tenants three rounds of 3,000 requests reach 9,000 tenants, none twice.
    reached = [loadgen.tenant_of(n, 10_000) for n in range(3 * 3000)]
    assert len(set(reached)) == len(reached)

    def round_of(rps: float, p50: float) -> dict[str, Any]:
        by_operation = {"document": {"requests": 10, "p50_ms": p50, "p99_ms": 2 * p50}}
        return {
            **{"tenants": 10, "requests": 10, "failed": 0, "errors": [], "concurrency": 8},
            **{"elapsed_s": 1.0, "throughput_rps": rps, "p50_ms": p50, "p99_ms": 2 * p50},
            "by_operation": by_operation,
        }

    result = scale.median_round([round_of(100, 40), round_of(90, 55), round_of(120, 35)], 10)
    assert result["throughput_rps"] == 100
    assert result["p50_ms"] == 40
    assert result["by_operation"]["document"] == {"requests": 30, "p50_ms": 40, "p99_ms": 80}
    assert result["requests"] == 30
    assert [r["p50_ms"] for r in result["rounds"]] == [40, 55, 35]

"""The scale bench's load generator, run in its own process.

`python bench/loadgen.py PLAN.json` reads a plan (the server's URL and CA, every
tenant's token and object ids, how many requests, for how long, how many at once),
sends a typical authenticated mix spread over all the tenants, and prints its figures as
JSON on stdout. It talks to loopback only, and stops at the request count or the time
limit, whichever comes first; so does its warm-up. A plan may warm up only (`requests`
0) or measure only (`warm` false); `first` numbers its first request, so that successive
rounds go to other tenants.

The mix, per ten requests: six list reads (`clientProfiles`, a profile's `calls`), two
document reads (`document`, the Markdown), one progress read (`call` with its status and
progress) and one mutation (`updateDocument`, a new version of a document). The same
documents are sent to Audora and to the bare baseline (bench/baseline_app.py).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import ssl
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

PROFILES = "query Profiles { clientProfiles { id name budget updatedAt } }"
CALLS = "query Calls($p: ID!) { calls(clientProfileId: $p) { id title status createdAt } }"
DOCUMENT = "query Doc($id: ID!) { document(id: $id) { id kind title markdown version } }"
PROGRESS = "query Progress($id: ID!) { call(id: $id) { id status progress { stage percent } } }"
EDIT = "mutation Edit($i: UpdateDocumentInput!) { updateDocument(input: $i) { id version } }"
# One round of ten: 60% lists, 20% documents, 10% progress, 10% edits.
ROUND = (
    "clientProfiles",
    "calls",
    "clientProfiles",
    "document",
    "calls",
    "progress",
    "clientProfiles",
    "document",
    "calls",
    "updateDocument",
)
# Steps through the tenants so that consecutive requests go to different ones.
STRIDE = 7919
ERRORS_KEPT = 5


@dataclass(frozen=True)
class Tenant:
    token: str
    profiles: list[str]
    calls: list[str]
    documents: list[str]


def tenant_of(n: int, count: int) -> int:
    """Which of `count` tenants the `n`th measured request goes to."""
    return (n * STRIDE) % count


def request_for(operation: str, tenant: Tenant, n: int) -> dict[str, Any]:
    """The GraphQL body of the `n`th request, an `operation` for `tenant`."""
    if operation == "clientProfiles":
        return {"query": PROFILES}
    if operation == "calls":
        return {"query": CALLS, "variables": {"p": tenant.profiles[n % len(tenant.profiles)]}}
    if operation == "document":
        return {"query": DOCUMENT, "variables": {"id": tenant.documents[n % len(tenant.documents)]}}
    if operation == "progress":
        return {"query": PROGRESS, "variables": {"id": tenant.calls[n % len(tenant.calls)]}}
    document = tenant.documents[n % len(tenant.documents)]
    markdown = f"# Scope\n\nAgreed in review round {n}: the booking flow ships first.\n"
    return {"query": EDIT, "variables": {"i": {"id": document, "markdown": markdown}}}


def loopback_only(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise SystemExit(f"the load generator talks to loopback only, not {host!r}")


def _quantile_ms(values: list[float], q: int) -> float:
    if len(values) < 2:
        return round((values[0] if values else 0.0) * 1000, 2)
    return round(statistics.quantiles(values, n=100)[q - 1] * 1000, 2)


async def run(plan: dict[str, Any]) -> dict[str, Any]:
    loopback_only(plan["url"])
    tenants = [Tenant(**t) for t in plan["tenants"]]
    trust = ssl.create_default_context(cafile=plan["ca"])
    concurrency = int(plan.get("concurrency", 8))
    latencies: dict[str, list[float]] = {op: [] for op in dict.fromkeys(ROUND)}
    errors: list[str] = []
    failed = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=plan["url"],
        verify=trust,
        timeout=60,
        limits=limits,
        headers={"user-agent": plan.get("user_agent", "audora-bench")},
    ) as client:

        async def send(n: int, operation: str, tenant: Tenant) -> bool:
            response = await client.post(
                "/graphql",
                json=request_for(operation, tenant, n),
                headers={"authorization": f"Bearer {tenant.token}"},
            )
            ok = response.status_code == 200 and "errors" not in response.json()
            if not ok and len(errors) < ERRORS_KEPT:
                errors.append(f"{operation}: {response.status_code} {response.text[:300]}")
            return ok

        async def drive(first: int, count: int, seconds: float, measure: bool) -> tuple[int, float]:
            nonlocal failed
            numbers = iter(range(first, first + count))
            deadline = time.monotonic() + seconds
            done = 0

            async def worker() -> None:
                nonlocal done, failed
                for n in numbers:
                    if time.monotonic() > deadline:
                        return
                    operation = ROUND[n % len(ROUND)] if measure else "clientProfiles"
                    tenant = tenants[tenant_of(n, len(tenants)) if measure else n]
                    started = time.perf_counter()
                    ok = await send(n, operation, tenant)
                    if measure:
                        latencies[operation].append(time.perf_counter() - started)
                        failed += not ok
                    done += 1

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return done, time.perf_counter() - started

        warmed = 0
        if plan.get("warm", True):
            # One light read per tenant first: every tenant has been active in the last
            # minutes, as in the steady state being measured (its data keys are cached).
            warmed, _ = await drive(0, len(tenants), float(plan.get("warm_seconds", 600)), False)
        done, elapsed = await drive(
            int(plan.get("first", 0)), int(plan["requests"]), float(plan["seconds"]), True
        )
    everything = [v for values in latencies.values() for v in values]
    return {
        "tenants": len(tenants),
        "warmed_tenants": warmed,
        "requests": done,
        "failed": failed,
        "errors": errors,
        "concurrency": concurrency,
        "elapsed_s": round(elapsed, 2),
        "throughput_rps": round(done / elapsed, 1) if elapsed else 0.0,
        "p50_ms": _quantile_ms(everything, 50),
        "p99_ms": _quantile_ms(everything, 99),
        "by_operation": {
            op: {
                "requests": len(values),
                "p50_ms": _quantile_ms(values, 50),
                "p99_ms": _quantile_ms(values, 99),
            }
            for op, values in latencies.items()
            if values
        },
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        raise SystemExit("usage: loadgen.py PLAN.json")
    plan = json.loads(Path(argv[0]).read_text())
    sys.stdout.write(json.dumps(asyncio.run(run(plan))) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Where a bench round's CPU went: the app's process, PostgreSQL's, and the machine's.

A round's throughput alone cannot tell a slower code path from a slower machine (run 8 of
the scale bench, docs/scaling.md). Read before and after a round, these give the app's
and PostgreSQL's CPU milliseconds per request, and the share of the machine's time that
was busy, stolen by the hypervisor or waiting on I/O.

PostgreSQL is counted as its postmaster and every backend: a backend that exits during
the round is still counted, since the postmaster has reaped it and its time is in the
postmaster's children's times.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class CpuSample:
    app_s: float
    postgres_s: float
    machine: dict[str, float]


def process_seconds(pid: int) -> float:
    """CPU seconds of one process (an app server is one) and of the children it has
    reaped. Live descendants are left out: one exiting mid-round would take its time
    out of the sum."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system + times.children_user + times.children_system)


def postgres_seconds(postmaster_pid: int) -> float:
    """CPU seconds of a PostgreSQL server: the postmaster, its live backends, and the
    backends it has reaped."""
    total = process_seconds(postmaster_pid)
    for backend in psutil.Process(postmaster_pid).children():
        try:
            times = backend.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            # Reaped between the listing and the read: already in children_* next time.
            pass
    return total


def sample(app_pid: int, postmaster_pid: int) -> CpuSample:
    return CpuSample(
        app_s=process_seconds(app_pid),
        postgres_s=postgres_seconds(postmaster_pid),
        machine=psutil.cpu_times()._asdict(),
    )


def machine_shares(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """How the machine's time was spent between two `psutil.cpu_times()` readings
    (percent of all its CPUs' time)."""
    # Linux counts guest time inside user time too.
    spent = {k: after[k] - before[k] for k in before if k not in ("guest", "guest_nice")}
    total = sum(spent.values()) or 1.0
    idle = spent.get("idle", 0.0) + spent.get("iowait", 0.0)

    def percent(seconds: float) -> float:
        return round(100 * seconds / total, 1)

    return {
        "machine_busy_percent": percent(total - idle),
        "machine_steal_percent": percent(spent.get("steal", 0.0)),
        "machine_iowait_percent": percent(spent.get("iowait", 0.0)),
    }


def per_request(before: CpuSample, after: CpuSample, requests: int) -> dict[str, float]:
    """The app's and PostgreSQL's CPU ms per request over the round, and how the machine's
    time was spent."""

    def ms_each(seconds: float) -> float:
        return round(1000 * seconds / max(requests, 1), 2)

    return {
        "app_cpu_ms_per_request": ms_each(after.app_s - before.app_s),
        "postgres_cpu_ms_per_request": ms_each(after.postgres_s - before.postgres_s),
        **machine_shares(before.machine, after.machine),
    }


@dataclass(frozen=True)
class ServiceMeter:
    """The CPU a piece of work spends in each server of the stack and in this process.

    Built for provisioning: a sign-up's CPU goes to PostgreSQL (the tenant's DDL and
    platform rows; the object store's identity database lives there too), the object
    store (bucket, identity, and the gateway applying it), the key service, and the
    provisioning process itself. Read before and after, it shows which of them grows
    with the number of tenants."""

    postmaster_pid: int
    object_store_pids: tuple[int, ...]
    key_service_pids: tuple[int, ...]

    def sample(self) -> ServiceSample:
        return ServiceSample(
            seconds={
                "postgres": postgres_seconds(self.postmaster_pid),
                "object_store": sum(process_seconds(p) for p in self.object_store_pids),
                "key_service": sum(process_seconds(p) for p in self.key_service_pids),
                "provisioning_process": process_seconds(os.getpid()),
            },
            machine=psutil.cpu_times()._asdict(),
        )


@dataclass(frozen=True)
class ServiceSample:
    seconds: dict[str, float]
    machine: dict[str, float]


def ms_each(before: ServiceSample, after: ServiceSample, count: int) -> dict[str, float]:
    """Each server's CPU ms per unit of work (a tenant), and how the machine's time was
    spent."""
    return {
        **{
            f"{name}_cpu_ms": round(1000 * (after.seconds[name] - seconds) / max(count, 1), 1)
            for name, seconds in before.seconds.items()
        },
        **machine_shares(before.machine, after.machine),
    }

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
import threading
from dataclasses import dataclass

import psutil

from audora.platform.db.roles import PROVISIONER_ROLE
from audora.platform.stack.embedded import SEAWEED_ROLE


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
    return read_postgres(postmaster_pid, ()).total


@dataclass(frozen=True)
class PostgresReading:
    """A PostgreSQL server's CPU seconds (`total`, as `postgres_seconds`) and each live
    backend's, by pid, with what it is: a session of one of the roles asked about,
    "other_sessions", or "background"."""

    total: float
    backends: dict[int, tuple[str, float]]


def read_postgres(postmaster_pid: int, roles: tuple[str, ...]) -> PostgresReading:
    total = process_seconds(postmaster_pid)
    backends: dict[int, tuple[str, float]] = {}
    for backend in psutil.Process(postmaster_pid).children():
        try:
            times = backend.cpu_times()
            # A session's title: "postgres: ROLE DATABASE HOST(PORT) STATE".
            title = backend.cmdline()
        except psutil.NoSuchProcess:
            # Reaped between the listing and the read: already in children_* next time.
            continue
        words = " ".join(title).split()
        session = len(words) > 3 and words[0] == "postgres:" and "(" in words[3]
        role = words[1] if session else ""
        kind = role if role in roles else "other_sessions" if session else "background"
        seconds = times.user + times.system
        backends[backend.pid] = (kind, seconds)
        total += seconds
    return PostgresReading(total, backends)


def postgres_split(
    before: PostgresReading,
    after: PostgresReading,
    roles: tuple[str, ...],
    closed: dict[int, tuple[str, float]] | None = None,
) -> dict[str, float]:
    """The seconds PostgreSQL spent between two readings (`total`), split between the
    sessions of each of `roles`, every other session, and the rest. A live session is
    charged what it spent between the readings (all its time if it opened in between).
    A session gone by the second reading is charged up to its last reading in `closed`
    (a `SessionWatch`'s), if it has one. The rest is what no session accounts for: the
    postmaster, background processes, workers it reaped (autovacuum), and closed
    sessions' time after their last reading, or all of it without one. So no part is
    below zero, and the parts add up to the total."""
    split = {**{role: 0.0 for role in roles}, "other_sessions": 0.0}
    last = {**(closed or {}), **after.backends}
    for pid, (kind, seconds) in last.items():
        if kind in split:
            earlier = before.backends.get(pid)
            split[kind] += max(
                0.0, seconds - (earlier[1] if earlier and earlier[0] == kind else 0.0)
            )
    total = after.total - before.total
    # Rounded to the microsecond: /proc counts in clock ticks, so anything finer is the
    # float sum's error, which could otherwise show an empty rest as -6.7e-16.
    rest = round(total - sum(split.values()), 6) + 0.0  # + 0.0: no -0.0 in the report
    return {**split, "rest": rest, "total": total}


class SessionWatch:
    """PostgreSQL's sessions read every `interval` seconds in a thread, so that one
    that closes between a meter's two readings is still charged to its role up to its
    last reading: the provisioner's pool replaces its sessions once a minute old."""

    def __init__(self, postmaster_pid: int, roles: tuple[str, ...], interval: float) -> None:
        self._postmaster_pid = postmaster_pid
        self._roles = roles
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.seen: dict[int, tuple[str, float]] = {}

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.seen.update(read_postgres(self._postmaster_pid, self._roles).backends)

    def __enter__(self) -> SessionWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


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
    platform rows in the provisioner's sessions; other sessions, such as idle pooled
    ones catching up on the DDL's catalog invalidations, and the rest, autovacuum
    included; the object store's identity database lives there too), the object
    store (bucket, identity, and the gateway applying it), the key service, and the
    provisioning process itself. Read before and after, it shows which of them grows
    with the number of tenants."""

    postmaster_pid: int
    object_store_pids: tuple[int, ...]
    key_service_pids: tuple[int, ...]

    def watch(self, interval: float = 1.0) -> SessionWatch:
        """Sessions read while the work runs (`ms_each`'s `watch`)."""
        return SessionWatch(self.postmaster_pid, _ROLES, interval)

    def sample(self) -> ServiceSample:
        return ServiceSample(
            postgres=read_postgres(self.postmaster_pid, _ROLES),
            seconds={
                "object_store": sum(process_seconds(p) for p in self.object_store_pids),
                "key_service": sum(process_seconds(p) for p in self.key_service_pids),
                "provisioning_process": process_seconds(os.getpid()),
            },
            machine=psutil.cpu_times()._asdict(),
        )


# The sessions PostgreSQL's split names: the provisioner's and the object store's
# identity database's.
_ROLES = (PROVISIONER_ROLE, SEAWEED_ROLE)


@dataclass(frozen=True)
class ServiceSample:
    postgres: PostgresReading
    seconds: dict[str, float]
    machine: dict[str, float]


def ms_each(
    before: ServiceSample,
    after: ServiceSample,
    count: int,
    watch: SessionWatch | None = None,
) -> dict[str, float]:
    """Each server's CPU ms per unit of work (a tenant), PostgreSQL's split by session
    (sessions that closed in between charged up to `watch`'s last reading of them),
    and how the machine's time was spent."""
    postgres = postgres_split(
        before.postgres, after.postgres, _ROLES, watch.seen if watch else None
    )
    seconds = {
        "postgres": postgres["total"],
        "postgres_provisioner_sessions": postgres[PROVISIONER_ROLE],
        "postgres_object_store_sessions": postgres[SEAWEED_ROLE],
        "postgres_other_sessions": postgres["other_sessions"],
        "postgres_rest": postgres["rest"],
        **{name: after.seconds[name] - spent for name, spent in before.seconds.items()},
    }
    return {
        **{
            f"{name}_cpu_ms": round(1000 * spent / max(count, 1), 1)
            for name, spent in seconds.items()
        },
        **machine_shares(before.machine, after.machine),
    }

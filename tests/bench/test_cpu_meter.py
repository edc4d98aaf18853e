"""The scale bench charges a round's CPU to the app and to PostgreSQL per request, backends
that exit during the round included, so that a slow round says which side was slow."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import psutil
from sqlalchemy import Engine, text

from audora.platform.stack.embedded import EmbeddedStack

sys.path.append(str(Path(__file__).resolve().parents[2] / "bench"))

import cpu_meter

# Enough work for PostgreSQL to take a measurable fraction of a second.
_BURN = text("SELECT count(*) FROM generate_series(1, 4000000)")


def _burn_here(seconds: float) -> None:
    until = time.process_time() + seconds
    while time.process_time() < until:
        pass


def test_a_rounds_cpu_is_charged_per_request_to_the_app_and_to_postgres_even_for_exited_backends(
    stack: EmbeddedStack, superuser: Engine
) -> None:
    postmaster = stack.postgres.pid
    before = cpu_meter.sample(os.getpid(), postmaster)
    _burn_here(0.2)
    # A connection of its own, closed before the round ends: its backend exits and is
    # reaped, and its time must still count.
    with superuser.connect() as conn:
        backend = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        conn.execute(_BURN)
    superuser.dispose()
    deadline = time.monotonic() + 10
    while backend in {p.pid for p in psutil.Process(postmaster).children()}:
        assert time.monotonic() < deadline, "the backend did not exit"
        time.sleep(0.05)
    after = cpu_meter.sample(os.getpid(), postmaster)

    figures = cpu_meter.per_request(before, after, requests=2)
    # 0.2 s of the app's CPU over two requests, and the exited backend's query.
    assert figures["app_cpu_ms_per_request"] >= 100
    assert figures["postgres_cpu_ms_per_request"] >= 20
    assert 0 < figures["machine_busy_percent"] <= 100
    assert 0 <= figures["machine_steal_percent"] <= figures["machine_busy_percent"]

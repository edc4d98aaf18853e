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


def test_a_session_that_closes_between_readings_moves_to_the_rest_and_no_part_goes_negative() -> (
    None
):
    before = cpu_meter.PostgresReading(
        total=10.0,
        backends={
            1: ("audora_provisioner", 2.0),
            2: ("other_sessions", 3.0),  # closes before the second reading
            3: ("other_sessions", 1.0),
            4: ("background", 1.0),
        },
    )
    # Session 2 spent 0.5 s more and exited (the postmaster reaped its 3.5 s); session 5
    # opened in between; the provisioner spent 1 s, session 3 0.25 s, background 0.25 s.
    after = cpu_meter.PostgresReading(
        total=10.0 + 0.5 + 1.0 + 0.25 + 0.25 + 0.75,
        backends={
            1: ("audora_provisioner", 3.0),
            3: ("other_sessions", 1.25),
            4: ("background", 1.25),
            5: ("other_sessions", 0.75),
        },
    )
    split = cpu_meter.postgres_split(before, after, ("audora_provisioner",))
    assert split == {
        "audora_provisioner": 1.0,
        "other_sessions": 1.0,
        "rest": 0.75,  # the closed session's last 0.5 s and the background's 0.25 s
        "total": 2.75,
    }


def test_a_watched_session_that_closes_between_readings_is_charged_to_its_role() -> None:
    before = cpu_meter.PostgresReading(total=10.0, backends={1: ("audora_provisioner", 2.0)})
    # Session 1 closed after 1.5 s more, its last 0.25 s unseen; session 2 opened and
    # closed in between, seen at 0.5 s of its 0.75 s.
    after = cpu_meter.PostgresReading(total=10.0 + 1.5 + 0.75, backends={})
    seen = {1: ("audora_provisioner", 3.25), 2: ("audora_provisioner", 0.5)}
    split = cpu_meter.postgres_split(before, after, ("audora_provisioner",), seen)
    assert split == {
        "audora_provisioner": 1.75,
        "other_sessions": 0.0,
        "rest": 0.5,
        "total": 2.25,
    }


def test_the_watch_reads_a_real_session_before_it_closes(
    stack: EmbeddedStack, superuser: Engine
) -> None:
    postmaster = stack.postgres.pid
    roles = ("postgres",)
    before = cpu_meter.read_postgres(postmaster, roles)
    with cpu_meter.SessionWatch(postmaster, roles, interval=0.05) as watch:
        with superuser.connect() as conn:
            backend = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            conn.execute(_BURN)
            time.sleep(0.3)  # read at least once after the query
        superuser.dispose()
        deadline = time.monotonic() + 10
        while backend in {p.pid for p in psutil.Process(postmaster).children()}:
            assert time.monotonic() < deadline, "the backend did not exit"
            time.sleep(0.05)
    after = cpu_meter.read_postgres(postmaster, roles)
    assert backend not in after.backends
    unwatched = cpu_meter.postgres_split(before, after, roles)
    watched = cpu_meter.postgres_split(before, after, roles, watch.seen)
    assert watch.seen[backend][0] == "postgres"
    assert watched["postgres"] >= unwatched["postgres"] + 0.02
    assert watched["rest"] >= 0


def test_the_rest_is_not_pushed_below_zero_by_the_float_sum_of_the_parts() -> None:
    # 0.1 + 0.2 is 0.30000000000000004 in floats: a rest computed as 0.3 minus that sum
    # was -5.6e-17, which a CI run once saw as a negative rest.
    before = cpu_meter.PostgresReading(total=0.0, backends={})
    after = cpu_meter.PostgresReading(total=0.3, backends={})
    seen = {1: ("audora_provisioner", 0.1), 2: ("audora_provisioner", 0.2)}
    split = cpu_meter.postgres_split(before, after, ("audora_provisioner",), seen)
    assert split["rest"] == 0.0
    assert str(split["rest"]) == "0.0"

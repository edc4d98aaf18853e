"""L5: access logs are kept 12 months. A tenant's access log is partitioned by month; this
month's and next month's partitions exist from sign-up on, the daily job makes the next
ones and drops a month, with an audit event, once its newest row is older than
`access_log_months`. The tenant cannot change or remove rows, and another tenant cannot
read them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from arq import create_pool
from arq.connections import RedisSettings
from arq.jobs import Job, JobStatus
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from audora.platform.clock import FrozenClock
from audora.platform.db.tenant_binding import TenantRef, tenant_transaction
from audora.platform.db.tenant_names import validate_tenant_schema
from audora.platform.runtime import Runtime
from audora.tenants.access_log.jobs import access_log_partitions_job, ensure_access_log_partitions
from audora.tenants.access_log.log import AccessEntry, write
from audora.tenants.access_log.partitions import (
    month_of,
    month_start,
    months_after,
    partition_name,
)
from audora.tenants.audit.log import verify_chain
from audora.tenants.registry.repository import live_account_ids

from audora_testing import TEST_AGENT, TEST_IP, GraphQL, raw_id, schema_of, sign_up


def _partitions(superuser: Engine, schema: str) -> dict[str, str]:
    """Each partition of the tenant's access log, with its bounds."""
    with superuser.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
                "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = CAST(:p AS regclass)"
            ),
            {"p": f"{schema}.access_log"},
        ).all()
        return {name: bound for name, bound in rows}


def _rows(superuser: Engine, owner: dict[str, Any]) -> list[dict[str, Any]]:
    with superuser.connect() as conn:
        rows = conn.execute(
            text(f"SELECT * FROM {schema_of(owner['account']['id'])}.access_log")
        ).mappings()
        return [dict(r) for r in rows]


async def _log_a_request(runtime: Runtime, owner: dict[str, Any]) -> None:
    """A row as the request boundary writes it, at the application clock's now."""
    await write(
        runtime.tenant_engines,
        _tenant(owner),
        AccessEntry(
            at=runtime.clock.now(),
            account_id=raw_id(owner["account"]["id"]),
            user_id=raw_id(owner["user"]["id"]),
            session_id=uuid.uuid4(),
            ip=TEST_IP,
            user_agent=TEST_AGENT,
            operation_type="query",
            operation_name="Probe",
            outcome="ok",
        ),
    )


def _tenant(owner: dict[str, Any]) -> TenantRef:
    return TenantRef(validate_tenant_schema(schema_of(owner["account"]["id"])))


@contextmanager
def clock_at(clock: FrozenClock, moment: datetime) -> Iterator[None]:
    """Move the shared application clock to `moment`, and back afterwards."""
    moved = moment - clock.now()
    clock.advance(moved)
    try:
        yield
    finally:
        clock.advance(-moved)


async def test_this_months_and_next_months_partitions_exist_closed_to_the_tenant(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Partitioned Log")
    schema = schema_of(owner["account"]["id"])
    this_month = month_of(runtime.clock.now())
    expected = [this_month, months_after(this_month, 1)]
    partitions = _partitions(superuser, schema)
    assert sorted(partitions) == [partition_name(m) for m in expected]
    for month in expected:
        # Each holds exactly its UTC calendar month, whatever the session's time zone.
        lower, upper = re.findall(r"'([^']+)'", partitions[partition_name(month)])
        assert datetime.fromisoformat(lower) == month_start(month)
        assert datetime.fromisoformat(upper) == month_start(months_after(month, 1))
    with superuser.connect() as conn:
        # One relation a month: no TOAST table and no index per partition per tenant.
        extras = conn.execute(
            text(
                "SELECT c.relname, c.reltoastrelid, "
                "(SELECT count(*) FROM pg_index x WHERE x.indrelid = c.oid) "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = :s AND c.relname LIKE 'access_log%'"
            ),
            {"s": schema},
        ).all()
    assert {name: (int(toast), count) for name, toast, count in extras} == {
        name: (0, 0) for name in ["access_log", *partitions]
    }
    # The tenant adds and reads rows through the parent, and cannot change or remove
    # them, nor touch a partition directly.
    refused = (
        "UPDATE access_log SET outcome = 'ok'",
        "DELETE FROM access_log",
        "TRUNCATE access_log",
        f"SELECT count(*) FROM {partition_name(this_month)}",
        f"DELETE FROM {partition_name(this_month)}",
        f"DROP TABLE {partition_name(this_month)}",
    )
    for statement in refused:
        async with tenant_transaction(runtime.tenant_engines, _tenant(owner)) as uow:
            with pytest.raises(DBAPIError, match=r"permission denied|must be owner"):
                await uow.execute(text(statement))
    async with tenant_transaction(runtime.tenant_engines, _tenant(owner)) as uow:
        assert (await uow.execute(text("SELECT count(*) FROM access_log"))).scalar_one() >= 0


async def test_access_logs_are_kept_12_months_then_their_partition_is_dropped_and_audited(
    gql: GraphQL, runtime: Runtime, superuser: Engine, clock: FrozenClock
) -> None:
    owner = await sign_up(gql, "Expiring Log")
    schema = schema_of(owner["account"]["id"])
    tenant_hex = raw_id(owner["account"]["id"]).hex
    ctx = {"runtime": runtime}
    await _log_a_request(runtime, owner)
    start = month_of(clock.now())
    rows = len(_rows(superuser, owner))
    assert rows >= 1
    # The last instant at which this month's newest row is not yet 12 months old.
    just_before = month_start(months_after(start, 13)) - timedelta(microseconds=1)
    with clock_at(clock, just_before):
        kept = await access_log_partitions_job(ctx, tenant_hex)
    assert kept == {
        "created": [
            partition_name(months_after(start, 12)),
            partition_name(months_after(start, 13)),
        ],
        "dropped": [],
    }
    with clock_at(clock, month_start(months_after(start, 13)) + timedelta(days=1, hours=5)):
        due = await access_log_partitions_job(ctx, tenant_hex)
        again = await access_log_partitions_job(ctx, tenant_hex)
    assert due == {
        "created": [partition_name(months_after(start, 14))],
        "dropped": [partition_name(start)],
    }
    assert again == {"created": [], "dropped": []}  # idempotent: nothing twice
    assert sorted(_partitions(superuser, schema)) == [
        partition_name(months_after(start, n)) for n in (1, 12, 13, 14)
    ]
    with superuser.connect() as conn:
        events = conn.execute(
            text(
                f"SELECT actor, target, details FROM {schema}.audit_events "
                "WHERE action = 'retention.access_log_dropped'"
            )
        ).all()
    assert len(events) == 1
    actor, target, details = events[0]
    assert actor == "system:retention"
    assert target == f"access_log:{start:%Y-%m}"
    assert details == {
        "partition": partition_name(start),
        "from": month_start(start).isoformat(),
        "to": month_start(months_after(start, 1)).isoformat(),
        "rows": rows,
        "keepMonths": 12,
    }
    async with tenant_transaction(runtime.tenant_engines, _tenant(owner)) as uow:
        assert (await verify_chain(uow)).valid


async def test_the_daily_cron_queues_one_partition_job_per_tenant_once_a_day(
    gql: GraphQL, runtime: Runtime
) -> None:
    owner = await sign_up(gql, "Queued Maintenance")
    queue = f"audora:test-access-log-{uuid.uuid4().hex[:8]}"
    pool = await create_pool(
        RedisSettings.from_dsn(runtime.settings.redis_url), default_queue_name=queue
    )
    try:
        ctx = {"runtime": runtime, "redis": pool}
        live = await live_account_ids(runtime.platform_engine)
        assert await ensure_access_log_partitions(ctx) == len(live)
        assert await ensure_access_log_partitions(ctx) == 0  # the same day: already queued
        day = runtime.clock.now().date().isoformat()
        mine = Job(
            f"access-log-partitions:{raw_id(owner['account']['id']).hex}:{day}",
            pool,
            _queue_name=queue,
        )
        assert await mine.status() == JobStatus.queued
        info = await mine.info()
        assert info is not None
        assert (info.function, info.args) == (
            "access_log_partitions_job",
            (raw_id(owner["account"]["id"]).hex,),
        )
    finally:
        job_ids = await pool.zrange(queue, 0, -1)
        for job_id in job_ids:
            await pool.delete(f"arq:job:{job_id.decode()}")
        await pool.delete(queue)
        await pool.aclose()


async def test_one_tenant_cannot_read_anothers_access_log(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    theirs = await sign_up(gql, "Their Access Log")
    mine = await sign_up(gql, "My Access Log")
    await _log_a_request(runtime, theirs)
    assert _rows(superuser, theirs)
    their_schema = schema_of(theirs["account"]["id"])
    this_month = partition_name(month_of(runtime.clock.now()))
    for statement in (
        f"SELECT count(*) FROM {their_schema}.access_log",
        f"SELECT count(*) FROM {their_schema}.{this_month}",
        f"INSERT INTO {their_schema}.access_log (at, account_id, user_id, session_id, outcome) "
        "VALUES (now(), gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'ok')",
    ):
        async with tenant_transaction(runtime.tenant_engines, _tenant(mine)) as uow:
            with pytest.raises(DBAPIError, match="permission denied"):
                await uow.execute(text(statement))
    # Unqualified, the name means the caller's own log: none of the other tenant's rows.
    async with tenant_transaction(runtime.tenant_engines, _tenant(mine)) as uow:
        accounts = (await uow.execute(text("SELECT DISTINCT account_id FROM access_log"))).all()
    assert raw_id(theirs["account"]["id"]) not in {a for (a,) in accounts}

"""L5: access logs are kept 12 months. A tenant's access log is one table; the daily job
deletes its rows once they are `access_log_months` old and records how many in the audit
log. The tenant cannot change or remove rows, and another tenant cannot read them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
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
from audora.tenants.access_log.expiry import cutoff
from audora.tenants.access_log.jobs import access_log_expiry_job, expire_access_logs
from audora.tenants.access_log.log import AccessEntry, write
from audora.tenants.audit.log import verify_chain
from audora.tenants.registry.repository import live_account_ids

from audora_testing import (
    TEST_AGENT,
    TEST_IP,
    GraphQL,
    access_log_rows,
    raw_id,
    schema_of,
    sign_up,
)


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


def test_the_cutoff_is_the_same_instant_whole_calendar_months_before() -> None:
    assert cutoff(datetime(2026, 11, 27, 14, 5, tzinfo=UTC), 12) == datetime(
        2025, 11, 27, 14, 5, tzinfo=UTC
    )
    # A day the earlier month does not have becomes its last day.
    assert cutoff(datetime(2026, 3, 31, 9, tzinfo=UTC), 1) == datetime(2026, 2, 28, 9, tzinfo=UTC)
    assert cutoff(datetime(2025, 2, 28, tzinfo=UTC), 12) == datetime(2024, 2, 28, tzinfo=UTC)
    assert cutoff(datetime(2026, 1, 15, tzinfo=UTC), 13) == datetime(2024, 12, 15, tzinfo=UTC)
    with pytest.raises(ValueError, match="at least one month"):
        cutoff(datetime(2026, 1, 15, tzinfo=UTC), 0)


async def test_the_access_log_is_two_relations_the_tenant_may_add_to_and_read_only(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Plain Log")
    schema = schema_of(owner["account"]["id"])
    with superuser.connect() as conn:
        relations = conn.execute(
            text(
                "SELECT c.relname, c.relkind, c.reltoastrelid, am.amname "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "LEFT JOIN pg_am am ON am.oid = c.relam "
                "WHERE n.nspname = :s AND c.relname LIKE '%access_log%'"
            ),
            {"s": schema},
        ).all()
    # No partitions, no TOAST table: the table and its BRIN index on `at`, whatever the
    # tenant's age.
    assert sorted((name, kind, int(toast), am) for name, kind, toast, am in relations) == [
        ("access_log", "r", 0, "heap"),
        ("ix_access_log_at", "i", 0, "brin"),
    ]
    for statement in (
        "UPDATE access_log SET outcome = 'ok'",
        "DELETE FROM access_log",
        "TRUNCATE access_log",
        "DROP TABLE access_log",
    ):
        async with tenant_transaction(runtime.tenant_engines, _tenant(owner)) as uow:
            with pytest.raises(DBAPIError, match=r"permission denied|must be owner"):
                await uow.execute(text(statement))
    await _log_a_request(runtime, owner)
    async with tenant_transaction(runtime.tenant_engines, _tenant(owner)) as uow:
        assert (await uow.execute(text("SELECT count(*) FROM access_log"))).scalar_one() >= 1


async def test_access_logs_are_kept_12_months_then_deleted_and_audited(
    gql: GraphQL, runtime: Runtime, superuser: Engine, clock: FrozenClock
) -> None:
    # A fixed moment (later than the real date, as the clock may only go forward) keeps
    # the calendar arithmetic below free of month ends.
    logged = datetime(2030, 5, 10, 12, tzinfo=UTC)
    with clock_at(clock, logged):
        owner = await sign_up(gql, "Expiring Log")
        await _log_a_request(runtime, owner)
    schema = schema_of(owner["account"]["id"])
    tenant_hex = raw_id(owner["account"]["id"]).hex
    ctx = {"runtime": runtime}
    old = len(access_log_rows(superuser, owner))
    assert old >= 1
    # A row from six months later, which must outlive the first ones.
    later = logged + timedelta(days=183)
    with clock_at(clock, later):
        await _log_a_request(runtime, owner)
    a_year_on = datetime(2031, 5, 10, 12, tzinfo=UTC)
    with clock_at(clock, a_year_on - timedelta(microseconds=1)):
        kept = await access_log_expiry_job(ctx, tenant_hex)
    assert kept["expired"] == 0
    assert len(access_log_rows(superuser, owner)) == old + 1
    with clock_at(clock, a_year_on + timedelta(days=1, hours=5)):
        due = await access_log_expiry_job(ctx, tenant_hex)
        again = await access_log_expiry_job(ctx, tenant_hex)
    assert due == {"before": (logged + timedelta(days=1, hours=5)).isoformat(), "expired": old}
    assert again["expired"] == 0  # idempotent: nothing twice, and audited once
    assert [row["at"] for row in access_log_rows(superuser, owner)] == [later]
    with superuser.connect() as conn:
        events = conn.execute(
            text(
                f"SELECT actor, target, details FROM {schema}.audit_events "
                "WHERE action = 'retention.access_log_expired'"
            )
        ).all()
    assert len(events) == 1
    actor, target, details = events[0]
    assert actor == "system:retention"
    assert target == "access_log"
    assert details == {
        "before": (logged + timedelta(days=1, hours=5)).isoformat(),
        "rows": old,
        "keepMonths": 12,
    }
    async with tenant_transaction(runtime.tenant_engines, _tenant(owner)) as uow:
        assert (await verify_chain(uow)).valid


async def test_the_daily_cron_queues_one_expiry_job_per_tenant_once_a_day(
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
        assert await expire_access_logs(ctx) == len(live)
        assert await expire_access_logs(ctx) == 0  # the same day: already queued
        day = runtime.clock.now().date().isoformat()
        mine = Job(
            f"access-log-expiry:{raw_id(owner['account']['id']).hex}:{day}",
            pool,
            _queue_name=queue,
        )
        assert await mine.status() == JobStatus.queued
        info = await mine.info()
        assert info is not None
        assert (info.function, info.args) == (
            "access_log_expiry_job",
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
    assert access_log_rows(superuser, theirs)
    their_schema = schema_of(theirs["account"]["id"])
    for statement in (
        f"SELECT count(*) FROM {their_schema}.access_log",
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

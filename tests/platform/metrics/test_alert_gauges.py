"""I4: every alert condition that used to be only an error in the worker's log is also a
gauge on `/metrics`, which the shipped rules page on: it moves when the condition
becomes true (by the injectable clock, no sleeps) and lets go when it is handled. The
gauges count; they never name the tenant, call or job (that is in the log).

Other tests share this stack's Redis and database: a set gauge is compared with its
value before the test (it counts tenants, and only this test's tenant moves), and a
recent-events gauge is emptied first (other tests' events may be stamped at any time
their clocks were moved to)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from arq.worker import Retry, func
from sqlalchemy import Engine, text

from audora.platform.clock import FrozenClock
from audora.platform.config import Settings
from audora.platform.jobs.queue import enqueue
from audora.platform.metrics.gauges import (
    BACKUPS_FAILED,
    CALLS_FAILED,
    JOBS_GIVEN_UP,
    KEY_ROTATIONS_OVERDUE,
    RESTORE_DRILLS_FAILED,
)
from audora.platform.metrics.jobs import instrumented
from audora.platform.runtime import Runtime
from audora.tenants.backups.drill import restore_drill
from audora.tenants.backups.jobs import BACKUP_TRIES, backup_tenant_job
from audora.tenants.calls.failure import fail_call
from audora.tenants.calls.service import CallStatus
from audora.tenants.keys.jobs import rotate_due_keys_job

from audora_testing import GraphQL, create_call, create_profile, raw_id, run_jobs, sign_up
from metrics_scraping import Scraper


@pytest.fixture
async def no_key_service(
    settings: Settings, clock: FrozenClock, tmp_path: Path
) -> AsyncIterator[Runtime]:
    """The same stack with its key service gone: backups and KEK rotations fail."""
    broken = Runtime.open(
        settings.model_copy(update={"kms_socket": str(tmp_path / "no-key-service.sock")}),
        clock=clock,
    )
    try:
        yield broken
    finally:
        await broken.close()


async def test_a_call_marked_failed_shows_in_the_failed_calls_gauge_for_an_hour(
    gql: GraphQL, runtime: Runtime, clock: FrozenClock, scrape: Scraper
) -> None:
    await runtime.redis.delete(CALLS_FAILED.key)
    owner = await sign_up(gql, "Failing Calls Studio")
    profile = await create_profile(gql, owner["token"], "Harbor Clinic")
    call_id = await create_call(gql, owner["token"], profile["id"], "Kickoff")
    assert (await scrape()).value(CALLS_FAILED.name) == 0

    assert await fail_call(
        runtime,
        raw_id(owner["account"]["id"]),
        raw_id(call_id),
        "the recording could not be decoded",
        stage=CallStatus.AWAITING_RECORDING,
        actor="system:test",
    )
    failed = await scrape()
    assert failed.value(CALLS_FAILED.name) == 1
    assert call_id not in failed.text
    assert owner["account"]["id"] not in failed.text

    clock.advance(timedelta(minutes=61))
    assert (await scrape()).value(CALLS_FAILED.name) == 0


async def alerting_gives_up_job(ctx: dict[str, Any]) -> None:
    """Asks for a retry every time: its last try is a failure."""
    raise Retry(defer=0)


async def alerting_broken_job(ctx: dict[str, Any]) -> None:
    raise ValueError("broken on purpose")


async def test_a_job_failing_on_its_last_try_shows_in_the_given_up_gauge_for_an_hour(
    runtime: Runtime, clock: FrozenClock, scrape: Scraper
) -> None:
    await runtime.redis.delete(JOBS_GIVEN_UP.key)
    before = await scrape()
    await enqueue(runtime.settings.redis_url, "alerting_gives_up_job")
    await enqueue(runtime.settings.redis_url, "alerting_broken_job")
    await run_jobs(
        runtime,
        instrumented([func(alerting_gives_up_job, max_tries=2), alerting_broken_job]),
    )
    after = await scrape()
    assert after.value(JOBS_GIVEN_UP.name) == 2
    runs = "audora_job_runs_total"
    # A Retry on the last try is a failure: arq will not run the job again.
    assert after.grew(before, runs, function="alerting_gives_up_job", outcome="retried") == 1
    assert after.grew(before, runs, function="alerting_gives_up_job", outcome="failed") == 1
    assert after.grew(before, runs, function="alerting_broken_job", outcome="failed") == 1

    clock.advance(timedelta(minutes=61))
    assert (await scrape()).value(JOBS_GIVEN_UP.name) == 0


async def test_a_backup_failing_on_its_last_try_counts_its_tenant_until_one_succeeds(
    gql: GraphQL, runtime: Runtime, no_key_service: Runtime, scrape: Scraper
) -> None:
    owner = await sign_up(gql, "Unbacked Studio")
    tenant = str(raw_id(owner["account"]["id"]))
    before = (await scrape()).value(BACKUPS_FAILED.name)

    with pytest.raises(Retry):  # not the last try: it will be tried again
        await backup_tenant_job({"runtime": no_key_service, "job_try": 1}, tenant)
    assert (await scrape()).value(BACKUPS_FAILED.name) == before
    with pytest.raises(Exception, match=r"."):
        await backup_tenant_job({"runtime": no_key_service, "job_try": BACKUP_TRIES}, tenant)
    assert (await scrape()).value(BACKUPS_FAILED.name) == before + 1

    await backup_tenant_job({"runtime": runtime, "job_try": 1}, tenant)
    assert (await scrape()).value(BACKUPS_FAILED.name) == before


async def test_a_failed_restore_drill_counts_its_tenant_until_a_drill_of_theirs_passes(
    gql: GraphQL, runtime: Runtime, scrape: Scraper
) -> None:
    owner = await sign_up(gql, "Undrilled Studio")
    tenant = raw_id(owner["account"]["id"])
    before = (await scrape()).value(RESTORE_DRILLS_FAILED.name)

    assert not (await restore_drill(runtime, tenant)).ok  # no backup to restore yet
    assert (await scrape()).value(RESTORE_DRILLS_FAILED.name) == before + 1

    await backup_tenant_job({"runtime": runtime, "job_try": 1}, str(tenant))
    assert (await restore_drill(runtime, tenant)).ok
    assert (await scrape()).value(RESTORE_DRILLS_FAILED.name) == before


async def test_a_kek_rotation_that_fails_shows_as_overdue_until_a_run_rotates_it(
    gql: GraphQL,
    runtime: Runtime,
    no_key_service: Runtime,
    settings: Settings,
    superuser: Engine,
    scrape: Scraper,
) -> None:
    owner = await sign_up(gql, "Old Key Studio")
    tenant = raw_id(owner["account"]["id"])
    with superuser.begin() as conn:
        conn.execute(
            text("UPDATE platform.tenant_keys SET created_at = :t WHERE account_id = :a"),
            {
                "t": runtime.clock.now() - timedelta(days=settings.kek_rotation_days + 1),
                "a": tenant,
            },
        )

    assert f"{tenant}:v2" not in await rotate_due_keys_job({"runtime": no_key_service})
    assert (await scrape()).value(KEY_ROTATIONS_OVERDUE.name) >= 1

    assert f"{tenant}:v2" in await rotate_due_keys_job({"runtime": runtime})
    assert (await scrape()).value(KEY_ROTATIONS_OVERDUE.name) == 0

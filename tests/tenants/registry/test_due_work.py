"""The sweeps visit the tenants with work in flight, not every tenant: whatever gives a
sweep work marks its tenant first, each visit moves the mark to when the tenant next
needs the sweep or clears it, a mark made during a visit survives it, and once a day
every live tenant is marked so that nothing forgotten waits longer than that."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, text

from audora.platform.db.tenant_binding import TenantUnitOfWork
from audora.platform.runtime import Runtime
from audora.tenants.registry.due_work import Sweep, mark_due
from audora.tenants.registry.each_tenant import sweep_due_tenants
from audora.tenants.registry.jobs import mark_every_tenant_due_job
from audora.tenants.transcription.sweep import transcription_stuck_after

from audora_testing import (
    GraphQL,
    create_call,
    create_profile,
    raw_id,
    sign_up,
    upload_path,
    wav_bytes,
)


async def _tenant(gql: GraphQL, name: str) -> uuid.UUID:
    return raw_id((await sign_up(gql, name))["account"]["id"])


def _marks(superuser: Engine, tenant: uuid.UUID) -> dict[str, datetime]:
    with superuser.connect() as conn:
        rows = conn.execute(
            text("SELECT sweep, due_at FROM platform.tenant_due_work WHERE account_id = :t"),
            {"t": tenant},
        )
        return {row.sweep: row.due_at for row in rows}


async def _sweep(
    runtime: Runtime, then: Any = None, fail: set[uuid.UUID] | None = None
) -> list[uuid.UUID]:
    """Run a sweep of the stuck-calls kind whose read finds nothing and says the tenant
    next needs it at `then` (a callable of the tenant, or a moment, or None)."""
    visited: list[uuid.UUID] = []

    async def read(uow: TenantUnitOfWork) -> tuple[str, datetime | None]:
        tenant = uuid.UUID(hex=uow.tenant.schema.removeprefix("t_"))
        if fail and tenant in fail:
            raise RuntimeError("this tenant's schema is broken")
        due = await then(tenant) if callable(then) else then
        return str(tenant), due

    async for tenant_id, _ in sweep_due_tenants(runtime, Sweep.CALLS, read, "nothing"):
        visited.append(tenant_id)
    return visited


async def test_a_sweep_reads_only_the_tenants_marked_due_for_it(
    gql: GraphQL, runtime: Runtime
) -> None:
    due, later, unmarked = [await _tenant(gql, f"Sweep {n}") for n in range(3)]
    now = runtime.clock.now()
    await mark_due(runtime.platform_engine, due, Sweep.CALLS, now)
    await mark_due(runtime.platform_engine, later, Sweep.CALLS, now + timedelta(hours=1))
    await mark_due(runtime.platform_engine, unmarked, Sweep.RETENTION, now)

    visited = await _sweep(runtime)

    assert due in visited
    assert later not in visited
    assert unmarked not in visited


async def test_a_visit_that_finds_nothing_in_flight_clears_the_mark(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    tenant = await _tenant(gql, "Idle Studio")
    await mark_due(runtime.platform_engine, tenant, Sweep.CALLS, runtime.clock.now())
    await mark_due(runtime.platform_engine, tenant, Sweep.RETENTION, runtime.clock.now())

    assert tenant in await _sweep(runtime)

    assert "calls" not in _marks(superuser, tenant)
    assert "retention" in _marks(superuser, tenant)  # another sweep's mark stays
    assert tenant not in await _sweep(runtime)


async def test_a_visit_moves_the_mark_to_when_the_tenant_next_needs_the_sweep(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    tenant = await _tenant(gql, "Busy Studio")
    await mark_due(runtime.platform_engine, tenant, Sweep.CALLS, runtime.clock.now())
    next_due = runtime.clock.now() + timedelta(minutes=42)

    await _sweep(runtime, then=next_due)

    assert _marks(superuser, tenant)["calls"] == next_due


async def test_work_marked_while_the_sweep_reads_the_tenant_is_not_forgotten(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    """The read finds nothing in flight, but an upload marks the tenant meanwhile: the
    sweep's settling must not clear that mark."""
    tenant = await _tenant(gql, "Racing Studio")
    now = runtime.clock.now()
    await mark_due(runtime.platform_engine, tenant, Sweep.CALLS, now)

    async def upload_meanwhile(_: uuid.UUID) -> None:
        await mark_due(runtime.platform_engine, tenant, Sweep.CALLS, now + timedelta(hours=1))

    assert tenant in await _sweep(runtime, then=upload_meanwhile)

    assert _marks(superuser, tenant)["calls"] == now
    assert tenant in await _sweep(runtime)


async def test_a_tenant_whose_read_fails_stays_due_for_the_next_run(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    tenant = await _tenant(gql, "Broken Studio")
    now = runtime.clock.now()
    await mark_due(runtime.platform_engine, tenant, Sweep.CALLS, now)

    assert tenant not in await _sweep(runtime, fail={tenant})

    assert _marks(superuser, tenant)["calls"] == now


async def test_an_uploaded_recording_marks_its_tenant_for_the_stuck_calls_sweep(
    gql: GraphQL, api: httpx.AsyncClient, runtime: Runtime, superuser: Engine
) -> None:
    owner = await sign_up(gql, "Uploading Studio")
    profile = await create_profile(gql, owner["token"], "Client")
    call_id = await create_call(gql, owner["token"], profile["id"])
    before = runtime.clock.now()

    put = await api.put(
        await upload_path(gql, owner["token"], call_id),
        content=wav_bytes(b"\x01\x02" * 2048),
        headers={"content-type": "audio/wav"},
    )

    assert put.status_code == 201, put.text
    marks = _marks(superuser, raw_id(owner["account"]["id"]))
    assert before < marks["calls"] <= runtime.clock.now() + transcription_stuck_after(runtime)


async def test_once_a_day_every_live_tenant_is_marked_due_for_every_sweep(
    gql: GraphQL, runtime: Runtime, superuser: Engine
) -> None:
    tenant = await _tenant(gql, "Forgotten Studio")
    later = runtime.clock.now() + timedelta(days=3)
    await mark_due(runtime.platform_engine, tenant, Sweep.RETENTION, later)

    assert await mark_every_tenant_due_job({"runtime": runtime}) >= 1

    now = runtime.clock.now()
    assert _marks(superuser, tenant) == {sweep.value: now for sweep in Sweep}

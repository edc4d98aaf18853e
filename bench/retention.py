"""The audio retention sweep at scale: one tenant with 100,000 recordings past their
deadline, each with its object in the tenant's bucket; the time the sweep takes to
erase them all (keys dropped, audit events written, every object deleted and the
deletion confirmed by a second listing). Target: under 60 s.

Also the cost of a sweep over every tenant when nothing is due, which is what the
worker's cron pays every ten minutes.

The rows are written with SQL (a generated series), the objects with the
administrator's keys from a thread pool: setting up is not what is measured.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import text

from audora.platform.db.engines import sync_engine
from audora.platform.db.tenant_names import tenant_schema
from audora.platform.runtime import Runtime
from audora.platform.storage.s3_admin import s3_client
from audora.tenants.lifecycle.jobs import run_due_retention
from audora.tenants.recordings.retention import delete_due_recordings

RECORDINGS = 100_000
PUT_THREADS = 32


def _rows(runtime: Runtime, tenant: uuid.UUID, count: int) -> list[uuid.UUID]:
    schema = tenant_schema(tenant)
    operator = sync_engine(runtime.settings.database_url)
    try:
        with operator.begin() as conn:
            profile = uuid.uuid4()
            conn.execute(
                text(
                    f"INSERT INTO {schema}.client_profiles (id, name, created_by)"  # noqa: S608 (our own schema name)
                    " VALUES (:id, 'Bench client', :id)"
                ),
                {"id": profile},
            )
            conn.execute(
                text(
                    f"INSERT INTO {schema}.calls (id, client_profile_id, title, status,"  # noqa: S608
                    " consent_participants_notified, consent_methods, created_by)"
                    " SELECT gen_random_uuid(), :profile, 'Bench call', 'READY', true,"
                    " ARRAY['VERBAL'], :profile FROM generate_series(1, :n)"
                ),
                {"profile": profile, "n": count},
            )
            ids = conn.execute(
                text(
                    # A CTE is evaluated once per row: each recording its own id, used
                    # for its object key too.
                    f"WITH r AS (SELECT gen_random_uuid() AS id, c.id AS call_id"  # noqa: S608
                    f" FROM {schema}.calls c WHERE c.client_profile_id = :profile)"
                    f" INSERT INTO {schema}.recordings (id, call_id, status, object_key,"
                    " size_bytes, content_type, wrapped_key, transcribed_at, delete_after)"
                    " SELECT id, call_id, 'STORED', 'recordings/' || id, 16, 'audio/flac',"
                    " '\\x00'::bytea, now() - interval '73 hours', now() - interval '1 hour'"
                    " FROM r RETURNING id"
                ),
                {"profile": profile},
            ).scalars()
            return list(ids)
    finally:
        operator.dispose()


def _objects(runtime: Runtime, tenant: uuid.UUID, ids: list[uuid.UUID]) -> None:
    settings = runtime.settings
    admin = s3_client(
        settings.s3_endpoint,
        settings.s3_admin_access_key,
        settings.s3_admin_secret_key,
        region=settings.s3_region,
    )
    bucket = f"{settings.bucket_prefix}{tenant.hex}"

    def put(recording: uuid.UUID) -> None:
        admin.put_object(Bucket=bucket, Key=f"recordings/{recording}", Body=b"sealed audio....")

    with ThreadPoolExecutor(PUT_THREADS) as pool:
        list(pool.map(put, ids))


async def audio_sweep(runtime: Runtime, tenant: uuid.UUID) -> dict[str, Any]:
    started = time.perf_counter()
    ids = await asyncio.to_thread(_rows, runtime, tenant, RECORDINGS)
    await asyncio.to_thread(_objects, runtime, tenant, ids)
    setup_s = time.perf_counter() - started

    started = time.perf_counter()
    swept = await delete_due_recordings(runtime, tenant)
    sweep_s = time.perf_counter() - started
    if swept.erased != RECORDINGS or swept.objects_left or swept.objects_deleted != RECORDINGS:
        raise RuntimeError(f"the retention bench did not erase every recording: {swept}")

    started = time.perf_counter()
    idle = await run_due_retention(runtime)
    idle_s = time.perf_counter() - started
    return {
        "recordings": RECORDINGS,
        "setup_s": round(setup_s, 1),
        "sweep_s": round(sweep_s, 1),
        "recordings_per_s": round(RECORDINGS / sweep_s),
        "idle_sweep_tenants": idle.tenants,
        "idle_sweep_s": round(idle_s, 2),
    }

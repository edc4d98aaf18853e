"""The purge of a tenant with 10,000 objects in its bucket: every stage of
`tenants/lifecycle/purge.py` (sessions revoked, KEK destroyed, every object version
deleted and the bucket, its identity, the schema and role dropped, users deleted, the
certificate written and mailed), timed end to end and per stage.

Setting up is not what is measured: the account is marked closed past its grace with
SQL, and the objects are written with the administrator's keys from a thread pool.

Called from `bench/run.py` as `await purge.tenant_purge(runtime, account_id)` with an
account that holds nothing else the bench still needs.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from sqlalchemy import text

from audora.platform.db.engines import sync_engine
from audora.platform.runtime import Runtime
from audora.platform.storage.s3_admin import s3_client
from audora.tenants.lifecycle.purge import purge_account

OBJECTS = 10_000
PUT_THREADS = 32


def _close_past_grace(runtime: Runtime, tenant: uuid.UUID) -> None:
    operator = sync_engine(runtime.settings.database_url)
    try:
        with operator.begin() as conn:
            conn.execute(
                text(
                    "UPDATE platform.accounts SET status = 'CLOSED',"
                    " closed_at = :now - interval '31 days', purge_after = :now - interval '1 day'"
                    " WHERE id = :id"
                ),
                {"id": tenant, "now": runtime.clock.now()},
            )
    finally:
        operator.dispose()


def _objects(runtime: Runtime, tenant: uuid.UUID, count: int) -> None:
    settings = runtime.settings
    admin = s3_client(
        settings.s3_endpoint,
        settings.s3_admin_access_key,
        settings.s3_admin_secret_key,
        region=settings.s3_region,
    )
    bucket = f"{settings.bucket_prefix}{tenant.hex}"

    def put(i: int) -> None:
        admin.put_object(Bucket=bucket, Key=f"bench/{i:05d}", Body=b"sealed content..")

    with ThreadPoolExecutor(PUT_THREADS) as pool:
        list(pool.map(put, range(count)))


def _seconds(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


async def tenant_purge(runtime: Runtime, tenant: uuid.UUID) -> dict[str, Any]:
    started = time.perf_counter()
    await asyncio.to_thread(_objects, runtime, tenant, OBJECTS)
    await asyncio.to_thread(_close_past_grace, runtime, tenant)
    setup_s = time.perf_counter() - started

    started = time.perf_counter()
    outcome = await purge_account(runtime, tenant)
    purge_s = time.perf_counter() - started
    deleted = outcome.certificate["deleted"]["objects"]
    if deleted["objects"] != OBJECTS:
        raise RuntimeError(f"the purge bench deleted {deleted['objects']} of {OBJECTS} objects")
    return {
        "objects": OBJECTS,
        "setup_s": round(setup_s, 1),
        "purge_s": round(purge_s, 2),
        "objects_per_s": round(OBJECTS / purge_s),
        # Per stage, by the application clock (the wall clock when not moved).
        "stages_s": {
            stage["stage"]: round(_seconds(stage["startedAt"], stage["finishedAt"]), 2)
            for stage in outcome.certificate["stages"]
        },
    }

"""Data-key rotation: a new version of a purpose's data key, then a pass that re-seals
every value of that purpose under it.

New writes use the newest version at once; values still under an older one keep
opening (every version stays in `data_keys`), so the pass can take its time. It works
in batches, each committed with its cursor and counts in `reencryptions`, so a killed
worker's pass resumes where its last batch ended, and status shows how far it got.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from audora.platform.crypto.envelope import Binding, key_version_of, open_sealed, seal
from audora.platform.db.tenant_binding import TenantRef, TenantUnitOfWork, tenant_transaction
from audora.platform.db.tenant_engines import TenantEngines
from audora.platform.db.tenant_names import tenant_schema
from audora.platform.keys.service import KeyService
from audora.tenants.keys.data_keys import current_key, key_context, key_for
from audora.tenants.keys.sealed_columns import PURPOSES, SEALED_COLUMNS, SealedColumn
from audora.tenants.keys.tables import data_keys, reencryptions

BATCH = 200


@dataclass(frozen=True)
class Progress:
    purpose: str
    to_version: int
    status: str
    examined: int
    rewritten: int
    total: int


def _tenant(tenant_id: uuid.UUID) -> TenantRef:
    return TenantRef(tenant_schema(tenant_id))


async def _count(uow: TenantUnitOfWork, purpose: str) -> int:
    total = 0
    for column in (c for c in SEALED_COLUMNS if c.purpose == purpose):
        total += (
            await uow.execute(
                select(func.count()).where(column.table.c[column.column].is_not(None))
            )
        ).scalar_one()
    return int(total)


async def rotate_data_keys(
    engines: TenantEngines, keys: KeyService, tenant_id: uuid.UUID, now: datetime
) -> list[Progress]:
    """Add a new version of each data key the tenant uses and open a re-encryption
    pass for it. Run `reencrypt` (the worker's job) to finish."""
    started: list[Progress] = []
    async with tenant_transaction(engines, _tenant(tenant_id)) as uow:
        in_use = (
            await uow.execute(
                select(data_keys.c.purpose, func.max(data_keys.c.version).label("newest"))
                .where(data_keys.c.purpose.in_(PURPOSES))
                .group_by(data_keys.c.purpose)
            )
        ).mappings()
        for row in list(in_use):
            purpose, version = str(row["purpose"]), int(row["newest"]) + 1
            made = await keys.generate_data_key(tenant_id, key_context(tenant_id, purpose))
            await uow.execute(
                pg_insert(data_keys).values(
                    id=uuid.uuid4(), purpose=purpose, version=version, wrapped=made.wrapped
                )
            )
            total = await _count(uow, purpose)
            await uow.execute(
                pg_insert(reencryptions).values(
                    purpose=purpose, to_version=version, total=total, started_at=now
                )
            )
            started.append(Progress(purpose, version, "RUNNING", 0, 0, total))
        await uow.commit()
    return started


async def progress(engines: TenantEngines, tenant_id: uuid.UUID) -> list[Progress]:
    async with tenant_transaction(engines, _tenant(tenant_id)) as uow:
        rows = (
            await uow.execute(
                select(reencryptions).order_by(reencryptions.c.purpose, reencryptions.c.to_version)
            )
        ).mappings()
        return [
            Progress(
                r["purpose"],
                r["to_version"],
                r["status"],
                r["examined"],
                r["rewritten"],
                r["total"],
            )
            for r in rows
        ]


def _parse_cursor(cursor: str | None) -> tuple[int, uuid.UUID | None]:
    """(index into the purpose's columns, last row id done there)."""
    if not cursor:
        return 0, None
    index, _, last = cursor.partition(":")
    return int(index), uuid.UUID(last) if last else None


async def _batch(
    uow: TenantUnitOfWork,
    keys: KeyService,
    tenant_id: uuid.UUID,
    column: SealedColumn,
    after: uuid.UUID | None,
    newest: int,
    size: int,
) -> tuple[int, int, uuid.UUID | None]:
    """Re-seal one batch of `column`; (examined, rewritten, last id or None when done)."""
    table = column.table
    query = (
        select(table.c.id, table.c[column.column])
        .where(table.c[column.column].is_not(None))
        .order_by(table.c.id)
        .limit(size)
        .with_for_update()
    )
    if after is not None:
        query = query.where(table.c.id > after)
    rows = (await uow.execute(query)).mappings().all()
    target = await current_key(uow, keys, tenant_id, column.purpose)
    rewritten = 0
    for row in rows:
        row_id, sealed = row["id"], row[column.column]
        version = key_version_of(sealed)
        if version >= newest:
            continue
        binding = Binding(tenant_id, column.object_id(row_id))
        old = await key_for(uow, keys, tenant_id, column.purpose, version)
        plaintext = open_sealed(old, binding, sealed)
        await uow.execute(
            update(table)
            .where(table.c.id == row_id)
            .values({column.column: seal(target.plaintext, target.version, binding, plaintext)})
        )
        rewritten += 1
    last = rows[-1]["id"] if len(rows) == size else None
    return len(rows), rewritten, last


async def reencrypt(
    engines: TenantEngines,
    keys: KeyService,
    tenant_id: uuid.UUID,
    now: datetime,
    *,
    batch: int = BATCH,
    max_batches: int | None = None,
) -> list[Progress]:
    """Carry every open pass of the tenant forward, one committed batch at a time;
    stop after `max_batches` (None: until done)."""
    done_batches = 0
    while max_batches is None or done_batches < max_batches:
        async with tenant_transaction(engines, _tenant(tenant_id)) as uow:
            open_pass = (
                (
                    await uow.execute(
                        select(reencryptions)
                        .where(reencryptions.c.status == "RUNNING")
                        .order_by(reencryptions.c.to_version.desc())
                        .limit(1)
                        .with_for_update(skip_locked=True)
                    )
                )
                .mappings()
                .first()
            )
            if open_pass is None:
                break
            purpose = open_pass["purpose"]
            columns = [c for c in SEALED_COLUMNS if c.purpose == purpose]
            index, after = _parse_cursor(open_pass["cursor"])
            examined = rewritten = 0
            finished = index >= len(columns)
            if not finished:
                examined, rewritten, last = await _batch(
                    uow, keys, tenant_id, columns[index], after, open_pass["to_version"], batch
                )
                cursor = f"{index}:{last}" if last is not None else f"{index + 1}:"
                finished = last is None and index + 1 >= len(columns)
            else:
                cursor = open_pass["cursor"]
            values: dict[str, object] = {
                "cursor": cursor,
                "examined": reencryptions.c.examined + examined,
                "rewritten": reencryptions.c.rewritten + rewritten,
            }
            if finished:
                values |= {"status": "DONE", "finished_at": now}
            await uow.execute(
                update(reencryptions)
                .where(
                    reencryptions.c.purpose == purpose,
                    reencryptions.c.to_version == open_pass["to_version"],
                )
                .values(values)
            )
            if finished:
                # An older pass of the same purpose is covered by this newer one.
                await uow.execute(
                    update(reencryptions)
                    .where(
                        reencryptions.c.purpose == purpose,
                        reencryptions.c.status == "RUNNING",
                        reencryptions.c.to_version < open_pass["to_version"],
                    )
                    .values(status="DONE", finished_at=now)
                )
            await uow.commit()
        done_batches += 1
    return await progress(engines, tenant_id)

"""Appending to a tenant's audit log, and checking its chain.

Every event is hashed over the previous event's hash and its own canonical JSON
(sorted keys, no whitespace, UTF-8), so the chain proves order and content. Appends
take the chain's head row lock: events of one tenant chain one after another, those of
different tenants never wait on each other.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError

from audora.platform.db.tenant_binding import (
    TenantRef,
    TenantUnitOfWork,
    moved_away,
    tenant_transaction,
)
from audora.platform.db.tenant_engines import TenantEngines
from audora.tenants.audit.tables import audit_chain, audit_events

GENESIS = bytes(32)


@dataclass(frozen=True)
class AuditEntry:
    actor: str  # "user:<id>", "staff:<id>", "system:<job>"
    action: str  # e.g. "security.integrity_failure", "recording.uploaded"
    target: str | None = None
    ip: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def canonical(seq: int, event_id: uuid.UUID, at: datetime, entry: AuditEntry) -> bytes:
    return json.dumps(
        {
            "seq": seq,
            "id": str(event_id),
            "at": at.astimezone(UTC).isoformat(),
            "actor": entry.actor,
            "action": entry.action,
            "target": entry.target,
            "ip": entry.ip,
            "details": entry.details,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def chain_hash(prev_hash: bytes, body: bytes) -> bytes:
    return hashlib.sha256(prev_hash + body).digest()


async def append(uow: TenantUnitOfWork, at: datetime, entry: AuditEntry) -> uuid.UUID:
    """Add `entry` to the log within the caller's transaction: it is kept exactly when
    what it records is."""
    (event_id,) = await append_many(uow, at, [entry])
    return event_id


async def append_many(
    uow: TenantUnitOfWork, at: datetime, entries: list[AuditEntry]
) -> list[uuid.UUID]:
    """Add `entries`, in order, under one take of the chain's head lock: a sweep that
    erases a thousand recordings writes their thousand events in one statement."""
    if not entries:
        return []
    await uow.execute(
        pg_insert(audit_chain)
        .values(id=1, seq=0, last_hash=GENESIS)
        .on_conflict_do_nothing(index_elements=["id"])
    )
    head = (
        await uow.execute(
            select(audit_chain.c.seq, audit_chain.c.last_hash)
            .where(audit_chain.c.id == 1)
            .with_for_update()
        )
    ).one()
    seq, prev = int(head.seq), bytes(head.last_hash)
    rows: list[dict[str, Any]] = []
    for entry in entries:
        seq += 1
        event_id = uuid.uuid4()
        digest = chain_hash(prev, canonical(seq, event_id, at, entry))
        rows.append(
            {
                "seq": seq,
                "id": event_id,
                "at": at,
                "actor": entry.actor,
                "action": entry.action,
                "target": entry.target,
                "ip": entry.ip,
                "details": entry.details,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    await uow.execute(audit_events.insert(), rows)
    await uow.execute(
        update(audit_chain).where(audit_chain.c.id == 1).values(seq=seq, last_hash=prev)
    )
    return [row["id"] for row in rows]


async def append_alone(
    engines: TenantEngines, tenant: TenantRef, at: datetime, entry: AuditEntry
) -> uuid.UUID:
    """Record `entry` in a transaction of its own: for events that must outlive the
    failed request or job that noticed them. Run again once if the tenant moved away
    under it."""
    try:
        return await _append_alone(engines, tenant, at, entry)
    except DBAPIError as exc:
        if not moved_away(exc):
            raise
    return await _append_alone(engines, tenant, at, entry)


async def _append_alone(
    engines: TenantEngines, tenant: TenantRef, at: datetime, entry: AuditEntry
) -> uuid.UUID:
    async with tenant_transaction(engines, tenant) as uow:
        event_id = await append(uow, at, entry)
        await uow.commit()
    return event_id


@dataclass(frozen=True)
class ChainCheck:
    valid: bool
    events: int
    first_invalid_event_id: uuid.UUID | None


async def verify_chain(uow: TenantUnitOfWork, *, batch: int = 1000) -> ChainCheck:
    prev = GENESIS
    checked = 0
    after = 0
    while True:
        rows = (
            (
                await uow.execute(
                    select(audit_events)
                    .where(audit_events.c.seq > after)
                    .order_by(audit_events.c.seq)
                    .limit(batch)
                )
            )
            .mappings()
            .all()
        )
        if not rows:
            return ChainCheck(True, checked, None)
        for row in rows:
            entry = AuditEntry(
                row["actor"], row["action"], row["target"], row["ip"], row["details"]
            )
            expected = chain_hash(prev, canonical(row["seq"], row["id"], row["at"], entry))
            if (
                row["seq"] != checked + 1
                or bytes(row["prev_hash"]) != prev
                or bytes(row["hash"]) != expected
            ):
                return ChainCheck(False, checked, row["id"])
            prev = expected
            checked += 1
            after = row["seq"]

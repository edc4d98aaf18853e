"""Audio retention: a recording is erased once its `delete_after` has passed (72 hours
after its transcript, at most: the schedule's CALL_AUDIO row).

Erasure is cryptographic first: the recording's wrapped data key, which exists nowhere
else, is dropped and the row marked DELETED in one transaction, together with the audit
event that says so. From that commit the audio is unreadable by anyone, staff included,
whatever copies of the ciphertext remain. Then the objects go: every version and delete
marker under the recording's key is deleted, and a second listing confirms that none is
left. An object the store refused, or that a crash left behind, is found again by the
next sweep, which looks for objects of erased recordings, not only for new due rows.
Audio objects with no recording row at all (an upload that stored its object and then
failed to record it) are deleted once they are an hour old, so they are covered too.

Listing a bucket costs round trips even when nothing is there, so a sweep that erased
nothing lists a tenant's audio only once a day (by the application clock): leftovers are
ciphertext whose key is already gone, and a day is soon enough to clear them.

A recording still holding its key well after its deadline is overdue: the sweep logs an
error naming the count (the alert) and returns it, for the status command and metrics.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from audora.platform.db.tenant_binding import TenantRef, tenant_transaction
from audora.platform.db.tenant_names import tenant_schema
from audora.platform.runtime import Runtime
from audora.tenants.audit.log import AuditEntry, append_many
from audora.tenants.calls.tables import recordings
from audora.tenants.recordings.audio import object_key

log = logging.getLogger(__name__)

ACTOR = "system:retention"
PREFIX = "recordings/"
# Audio keys are "recordings/<uuid>": listing them one first hex digit at a time, side
# by side, is what lets a sweep of 100,000 finish in seconds rather than minutes.
HEX = "0123456789abcdef"
# Rows erased per transaction: one key-drop UPDATE and one audit insert per batch.
BATCH = 1000
# A sweep runs every ten minutes; a recording this late has missed several.
OVERDUE_AFTER = timedelta(hours=1)
# An object with no row may be an upload between its last byte and its row's commit.
ORPHAN_AGE = timedelta(hours=1)
# A sweep that erased nothing lists the tenant's audio this often, for leftovers.
FULL_LISTING_EVERY = timedelta(days=1)
# Redis key: when the tenant's audio was last listed (ISO time, application clock).
LISTED_KEY = "audora:retention:audio-listed:"


@dataclass(frozen=True)
class AudioSweep:
    erased: int
    objects_deleted: int
    objects_left: int
    overdue: int
    # When the tenant's audio next needs the sweep: the next deadline, or the next run
    # when objects were left; None when no recording holds a key with a deadline.
    next_due: datetime | None = None


async def delete_due_recordings(runtime: Runtime, tenant_id: uuid.UUID) -> AudioSweep:
    """Erase every recording of the tenant whose deadline has passed; delete and confirm
    the deletion of every object of an erased (or unknown) recording."""
    now = runtime.clock.now()
    ref = TenantRef(tenant_schema(tenant_id))
    erased = 0
    while True:
        async with tenant_transaction(runtime.tenant_engines, ref) as uow:
            due = (
                await uow.execute(
                    select(recordings.c.id, recordings.c.call_id)
                    .where(
                        recordings.c.delete_after <= now,
                        recordings.c.wrapped_key.is_not(None),
                    )
                    .order_by(recordings.c.delete_after)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not due:
                break
            await uow.execute(
                update(recordings)
                .where(recordings.c.id.in_([row.id for row in due]))
                .values(wrapped_key=None, status="DELETED", deleted_at=now)
            )
            await append_many(
                uow,
                now,
                [
                    AuditEntry(
                        ACTOR,
                        "recording.erased",
                        f"recording:{row.id}",
                        details={"call": str(row.call_id), "reason": "retention"},
                    )
                    for row in due
                ],
            )
            await uow.commit()
        erased += len(due)
        if len(due) < BATCH:
            break

    deleted, left = 0, 0
    if erased or await _listing_due(runtime, tenant_id, now):
        deleted, left = await _delete_objects_of_erased(runtime, tenant_id, now)
        await runtime.redis.set(_listed_key(tenant_id), now.isoformat())
    async with tenant_transaction(runtime.tenant_engines, ref) as uow:
        # Of the recordings still keyed: how many are overdue, and the next deadline.
        keyed = (
            await uow.execute(
                select(
                    func.count()
                    .filter(recordings.c.delete_after <= now - OVERDUE_AFTER)
                    .label("overdue"),
                    func.min(recordings.c.delete_after).label("next_deadline"),
                ).where(recordings.c.wrapped_key.is_not(None))
            )
        ).one()
    overdue, next_deadline = int(keyed.overdue), keyed.next_deadline
    if overdue or left:
        log.error(
            "audio retention for tenant %s: %s recordings overdue, %s objects not deleted",
            tenant_id,
            overdue,
            left,
        )
    return AudioSweep(erased, deleted, left, overdue, now if left else next_deadline)


async def _delete_objects_of_erased(
    runtime: Runtime, tenant_id: uuid.UUID, now: datetime
) -> tuple[int, int]:
    """Delete every stored version of audio whose recording is erased or unknown;
    returns (versions deleted, versions still there on the confirming listing)."""
    bucket = await runtime.buckets.of(tenant_id)
    stored = await bucket.versions_under(PREFIX, fan_out=HEX)
    if not stored:
        return 0, 0
    ref = TenantRef(tenant_schema(tenant_id))
    async with tenant_transaction(runtime.tenant_engines, ref) as uow:
        keyed = {
            object_key(row.id): row.wrapped_key is not None
            for row in (await uow.execute(select(recordings.c.id, recordings.c.wrapped_key))).all()
        }
    doomed = [
        version
        for version in stored
        # Erased (key dropped), or no row at all and too old to be an upload finishing.
        if not keyed.get(version.key, now - version.modified < ORPHAN_AGE)
    ]
    if not doomed:
        return 0, 0
    await bucket.delete_versions(doomed)
    gone = {version.key for version in doomed}
    left = [v for v in await bucket.versions_under(PREFIX, fan_out=HEX) if v.key in gone]
    return len(doomed) - len(left), len(left)


def _listed_key(tenant_id: uuid.UUID) -> str:
    return f"{LISTED_KEY}{tenant_id}"


async def _listing_due(runtime: Runtime, tenant_id: uuid.UUID, now: datetime) -> bool:
    last = await runtime.redis.get(_listed_key(tenant_id))
    if last is None:
        return True
    return now - datetime.fromisoformat(last.decode()) >= FULL_LISTING_EVERY

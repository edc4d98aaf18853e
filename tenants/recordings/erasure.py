"""Erasing one recording: its wrapped data key is dropped, then its object deleted.

The key is the only way into the audio, and it exists nowhere but in this row (wrapped)
and briefly in memory: once the row no longer holds it, any copy of the ciphertext is
noise. Backups therefore never carry recording keys (the lifecycle's backups leave the
`recordings.wrapped_key` column out), which is what makes the erasure reach them too.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import update

from audora.platform.db.tenant_binding import TenantRef, tenant_transaction
from audora.platform.db.tenant_engines import TenantEngines
from audora.platform.db.tenant_names import tenant_schema
from audora.tenants.calls.tables import recordings
from audora.tenants.recordings.audio import discard_audio
from audora.tenants.storage.credentials import TenantBuckets

log = logging.getLogger(__name__)


async def erase_recording(
    engines: TenantEngines,
    buckets: TenantBuckets,
    tenant_id: uuid.UUID,
    recording_id: uuid.UUID,
    now: datetime,
) -> bool:
    """Erase the recording; False if there was none left to erase."""
    async with tenant_transaction(engines, TenantRef(tenant_schema(tenant_id))) as uow:
        erased = (
            await uow.execute(
                update(recordings)
                .where(recordings.c.id == recording_id, recordings.c.wrapped_key.is_not(None))
                .values(wrapped_key=None, status="DELETED", deleted_at=now)
                .returning(recordings.c.object_key)
            )
        ).first()
        await uow.commit()
    if erased is None:
        return False
    try:
        await discard_audio(buckets, tenant_id, erased.object_key)
    except Exception:
        # The audio is already unreadable; a leftover object is noise, logged for the sweep.
        log.exception("recording %s erased, but its object could not be deleted", recording_id)
    return True

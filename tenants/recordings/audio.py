"""A recording's audio in its tenant's bucket: encrypted on the way in, chunk by chunk,
under a data key of its own, and decrypted the same way on the way out. Plaintext only
ever exists in memory, one chunk at a time."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

from audora.platform.crypto.envelope import Binding, IntegrityError
from audora.platform.crypto.stream import decrypt_stream, encrypt_stream
from audora.platform.keys.service import KeyService, UnwrapFailed
from audora.tenants.keys.data_keys import key_context
from audora.tenants.storage.credentials import TenantBuckets

PURPOSE = "recording"
KEY_VERSION = 1  # one key per recording, never rotated: the audio lives for 72 hours


def object_key(recording_id: uuid.UUID) -> str:
    return f"recordings/{recording_id}"


def recording_key_context(tenant_id: uuid.UUID, recording_id: uuid.UUID) -> dict[str, str]:
    return {**key_context(tenant_id, PURPOSE), "recording": str(recording_id)}


def _binding(tenant_id: uuid.UUID, recording_id: uuid.UUID) -> Binding:
    return Binding(tenant_id, object_key(recording_id))


@dataclass(frozen=True)
class StoredAudio:
    recording_id: uuid.UUID
    object_key: str
    wrapped_key: bytes
    stored_bytes: int


async def store_audio(
    keys: KeyService,
    buckets: TenantBuckets,
    tenant_id: uuid.UUID,
    recording_id: uuid.UUID,
    plaintext: AsyncIterable[bytes],
) -> StoredAudio:
    """Encrypt `plaintext` into the tenant's bucket. If anything fails, nothing stays."""
    made = await keys.generate_data_key(tenant_id, recording_key_context(tenant_id, recording_id))
    bucket = await buckets.of(tenant_id)
    sealed = encrypt_stream(
        made.plaintext, KEY_VERSION, _binding(tenant_id, recording_id), plaintext
    )
    stored = await bucket.put_stream(object_key(recording_id), sealed)
    return StoredAudio(recording_id, object_key(recording_id), made.wrapped, stored)


async def read_audio(
    keys: KeyService,
    buckets: TenantBuckets,
    tenant_id: uuid.UUID,
    recording_id: uuid.UUID,
    wrapped_key: bytes,
) -> AsyncIterator[bytes]:
    """The recording's plaintext, chunk by chunk; an `IntegrityError` if any of it was
    altered, cut short, or belongs elsewhere."""
    try:
        key = await keys.decrypt_data_key(
            tenant_id, wrapped_key, recording_key_context(tenant_id, recording_id)
        )
    except UnwrapFailed:
        raise IntegrityError(
            "the recording's data key did not unwrap", object_id=object_key(recording_id)
        ) from None
    bucket = await buckets.of(tenant_id)
    async for chunk in decrypt_stream(
        key, _binding(tenant_id, recording_id), bucket.get_stream(object_key(recording_id))
    ):
        yield chunk


async def discard_audio(buckets: TenantBuckets, tenant_id: uuid.UUID, key: str) -> None:
    await (await buckets.of(tenant_id)).delete(key)

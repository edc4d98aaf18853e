"""A tenant's object-store credentials: sealed at rest, opened only to reach its bucket.

The secret key is sealed under a data key of its own, wrapped by the tenant's KEK, so
the platform database alone opens no bucket, and destroying the tenant's KEK erases the
credentials with everything else. Opened buckets are cached in this process's memory
for a few minutes, like data keys.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from time import monotonic

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from audora.platform.crypto.envelope import Binding, key_version_of, open_sealed, seal
from audora.platform.keys.service import KeyService
from audora.platform.storage.s3_admin import s3_client
from audora.platform.storage.tenant_bucket import TenantBucket
from audora.tenants.keys.data_keys import key_context
from audora.tenants.registry.tables import accounts, tenant_storage_identities

PURPOSE = "storage-credentials"
CACHE_SECONDS = 300.0
# Buckets kept open at once, the least recently used closed first. A sweep over every
# tenant (the retention run lists each bucket once a day) would otherwise hold every
# tenant's S3 client, a third of a megabyte each, until they expired: 3.5 GB at 10,000.
MAX_OPEN = 256


def _binding(account_id: uuid.UUID) -> Binding:
    return Binding(account_id, "tenant_storage_identities/secret_key")


@dataclass(frozen=True)
class SealedSecret:
    sealed: bytes
    wrapped_key: bytes


async def seal_secret(keys: KeyService, account_id: uuid.UUID, secret: str) -> SealedSecret:
    made = await keys.generate_data_key(account_id, key_context(account_id, PURPOSE))
    return SealedSecret(
        seal(made.plaintext, 1, _binding(account_id), secret.encode()), made.wrapped
    )


async def open_secret(keys: KeyService, account_id: uuid.UUID, secret: SealedSecret) -> str:
    key = await keys.decrypt_data_key(
        account_id, secret.wrapped_key, key_context(account_id, PURPOSE)
    )
    key_version_of(secret.sealed)  # a malformed value is an integrity error, not garbage
    return open_sealed(key, _binding(account_id), secret.sealed).decode()


class TenantBuckets:
    """Opens each tenant's bucket with its own credentials, read from the platform
    schema. The API and workers reach tenant objects through this and nothing else."""

    def __init__(
        self, engine: AsyncEngine, keys: KeyService, *, endpoint: str, region: str
    ) -> None:
        self.engine = engine
        self.keys = keys
        self.endpoint = endpoint
        self.region = region
        self._open: OrderedDict[uuid.UUID, tuple[float, TenantBucket]] = OrderedDict()
        # One lock per tenant: concurrent first requests of a tenant open its bucket
        # once, and different tenants never wait on each other.
        self._locks: dict[uuid.UUID, asyncio.Lock] = {}
        self._swept_at = 0.0

    def _sweep(self, now: float) -> None:
        """Drop the buckets opened more than `CACHE_SECONDS` ago, and the idle locks of
        tenants no longer cached, at most once per `CACHE_SECONDS / 10`. Without it, every
        tenant ever served kept its S3 client (a third of a megabyte) and its credentials
        in memory for good: a worker's memory grew with the tenant count."""
        if now - self._swept_at < CACHE_SECONDS / 10:
            return
        self._swept_at = now
        for account_id in [a for a, (at, _) in self._open.items() if now - at >= CACHE_SECONDS]:
            del self._open[account_id]
        for account_id in [
            a for a, lock in self._locks.items() if a not in self._open and not lock.locked()
        ]:
            del self._locks[account_id]

    def forget(self, account_id: uuid.UUID) -> None:
        self._open.pop(account_id, None)

    def _cached(self, account_id: uuid.UUID) -> TenantBucket | None:
        hit = self._open.get(account_id)
        if hit is not None and monotonic() - hit[0] < CACHE_SECONDS:
            self._open.move_to_end(account_id)
            return hit[1]
        return None

    async def of(self, account_id: uuid.UUID) -> TenantBucket:
        bucket = self._cached(account_id)
        if bucket is not None:
            return bucket
        async with self._locks.setdefault(account_id, asyncio.Lock()):
            bucket = self._cached(account_id)  # opened while this request waited
            if bucket is None:
                bucket = await self._load(account_id)
                now = monotonic()
                self._sweep(now)
                self._open[account_id] = (now, bucket)
                while len(self._open) > MAX_OPEN:
                    closed, _ = self._open.popitem(last=False)
                    lock = self._locks.get(closed)
                    if lock is not None and not lock.locked():
                        del self._locks[closed]
        return bucket

    async def _load(self, account_id: uuid.UUID) -> TenantBucket:
        identities = tenant_storage_identities
        async with self.engine.begin() as conn:
            row = (
                await conn.execute(
                    select(
                        accounts.c.bucket,
                        identities.c.access_key,
                        identities.c.secret_sealed,
                        identities.c.wrapped_key,
                        identities.c.secret_key,
                    )
                    .join(identities, identities.c.account_id == accounts.c.id)
                    .where(accounts.c.id == account_id)
                )
            ).one()
            if row.secret_sealed is None:
                # Provisioned before secrets were sealed: seal it now, drop the plaintext.
                sealed = await seal_secret(self.keys, account_id, row.secret_key)
                await conn.execute(
                    update(identities)
                    .where(identities.c.account_id == account_id)
                    .values(
                        secret_sealed=sealed.sealed, wrapped_key=sealed.wrapped_key, secret_key=None
                    )
                )
                secret = str(row.secret_key)
            else:
                secret = await open_secret(
                    self.keys, account_id, SealedSecret(row.secret_sealed, row.wrapped_key)
                )
        client = s3_client(self.endpoint, row.access_key, secret, region=self.region)
        return TenantBucket(client, row.bucket)

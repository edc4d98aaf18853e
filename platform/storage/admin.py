"""Object-store administration: one bucket and one identity per tenant.

`TenantStorageAdmin` is what provisioning and the lifecycle need from a store:
`S3TenantStorageAdmin` creates buckets through the S3 API and identities through an
`IdentityAdmin` (IAM users with a one-bucket policy in production; the filer's IAM gRPC
service on the embedded SeaweedFS).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class StorageCredentials:
    access_key: str
    secret_key: str


class IdentityAdmin(Protocol):
    """Creates and removes the one identity that may use a tenant's bucket."""

    def create(self, bucket: str) -> StorageCredentials: ...

    def delete(self, bucket: str) -> None: ...

    def exists(self, bucket: str) -> bool: ...

    def republish(self, bucket: str, credentials: StorageCredentials) -> None:
        """Make the store apply these keys again, where a gateway can miss a change."""


@dataclass(frozen=True)
class EmptiedBucket:
    """What emptying a bucket removed: counts, and the SHA-256 of the sorted listing of
    `key\tversion` lines (a fingerprint for the deletion certificate that names no key)."""

    objects: int
    versions: int
    bytes: int
    uploads_aborted: int
    listing_sha256: str
    bucket_deleted: bool


class TenantStorageAdmin(Protocol):
    def create_tenant_storage(self, bucket: str) -> StorageCredentials:
        """Create `bucket` and an identity, named after it, that may use it and nothing
        else."""

    def delete_tenant_storage(self, bucket: str) -> None:
        """Remove the bucket's identity and the bucket with every object. Idempotent."""

    def empty_and_delete_bucket(self, bucket: str) -> EmptiedBucket:
        """Delete every object, version, delete marker and unfinished upload of
        `bucket`, confirm by listing that nothing is left, then delete the bucket.
        Idempotent: a bucket already gone counts nothing."""

    def delete_identity(self, bucket: str) -> None:
        """Remove the identity that may use `bucket`. Idempotent."""

    def bucket_exists(self, bucket: str) -> bool: ...

    def tenant_buckets(self) -> dict[str, datetime]:
        """Every tenant bucket the store holds, with its creation time."""

    def ping(self) -> None:
        """Raise if the store does not answer."""

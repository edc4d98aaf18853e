"""Object-store administration: one bucket and one identity per tenant.

`TenantStorageAdmin` is what provisioning and the lifecycle need from a store. The
embedded implementation drives SeaweedFS's S3 and IAM endpoints; in production the same
calls go to S3 and IAM (a bucket and an IAM user whose policy names only that bucket).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class StorageCredentials:
    access_key: str
    secret_key: str


class TenantStorageAdmin(Protocol):
    def create_tenant_storage(self, bucket: str) -> StorageCredentials:
        """Create `bucket` and an identity, named after it, that may use it and nothing
        else."""

    def delete_tenant_storage(self, bucket: str) -> None:
        """Remove the bucket's identity and the bucket with every object. Idempotent."""

    def tenant_buckets(self) -> dict[str, datetime]:
        """Every tenant bucket the store holds, with its creation time."""

    def ping(self) -> None:
        """Raise if the store does not answer."""

"""The backup bucket: one bucket for every tenant's encrypted dumps, apart from every
tenant bucket, made and used with the storage administrator's keys only.

No tenant identity names it, so no tenant's keys reach it (each tenant identity may use
its own bucket and nothing else). In production it lives in another region
(`AUDORA_BACKUP_S3_REGION`/`_ENDPOINT`), so losing the primary region loses no backup.
Its objects are ciphertext under keys the tenants' KEKs wrap; server-side encryption
is on beneath that, as on tenant buckets.
"""

from __future__ import annotations

import asyncio
from typing import Any

from botocore.exceptions import ClientError

from audora.platform.config import Settings
from audora.platform.storage.s3_admin import s3_client
from audora.platform.storage.tenant_bucket import TenantBucket


class BackupBucketMisnamed(ValueError):
    """The backup bucket's name would make it look like a tenant's bucket."""


def _check_name(settings: Settings) -> None:
    # `audora tenants gc` deletes buckets that start with the tenant prefix and belong
    # to no account: the backup bucket must never look like one.
    if settings.backup_bucket.startswith(settings.bucket_prefix):
        raise BackupBucketMisnamed(
            f"AUDORA_BACKUP_BUCKET ({settings.backup_bucket}) must not start with "
            f"AUDORA_BUCKET_PREFIX ({settings.bucket_prefix})"
        )


def _client(settings: Settings) -> Any:
    return s3_client(
        settings.backup_store_endpoint,
        settings.s3_admin_access_key,
        settings.s3_admin_secret_key,
        region=settings.backup_store_region,
    )


def ensure_backup_bucket_sync(settings: Settings) -> None:
    """Create the backup bucket, with server-side encryption on, unless it exists."""
    _check_name(settings)
    client = _client(settings)
    try:
        client.head_bucket(Bucket=settings.backup_bucket)
        return
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in {"404", "NoSuchBucket", "NotFound"}:
            raise
    try:
        client.create_bucket(Bucket=settings.backup_bucket)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
            raise
    client.put_bucket_encryption(
        Bucket=settings.backup_bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )


async def backup_bucket(settings: Settings) -> TenantBucket:
    """The backup bucket, created on first use, reached with the administrator's keys."""
    await asyncio.to_thread(ensure_backup_bucket_sync, settings)
    return TenantBucket(_client(settings), settings.backup_bucket)

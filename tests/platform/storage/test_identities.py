"""Each tenant's storage identity reaches its own bucket and nothing else, whichever way
it was made: identity files (the embedded stack) or the IAM API (production's path,
exercised here against SeaweedFS's implementation of it)."""

from __future__ import annotations

import os
import uuid

import pytest
from botocore.exceptions import ClientError

from audora.platform.config import Settings
from audora.platform.stack.embedded import EmbeddedStack
from audora.platform.storage.admin import IdentityAdmin
from audora.platform.storage.iam_identities import IamIdentities
from audora.platform.storage.s3_admin import S3TenantStorageAdmin, s3_client
from audora.platform.storage.seaweed_identities import SeaweedIdentityFiles


def _identities(settings: Settings, kind: str) -> IdentityAdmin:
    if kind == "files":
        return SeaweedIdentityFiles(settings.s3_identity_files_url)
    return IamIdentities.connect(
        settings.s3_endpoint,
        settings.s3_admin_access_key,
        settings.s3_admin_secret_key,
        region=settings.s3_region,
    )


@pytest.mark.parametrize("kind", ["files", "iam"])
def test_a_tenant_identity_reaches_its_own_bucket_only_and_dies_with_it(
    settings: Settings, kind: str
) -> None:
    admin = S3TenantStorageAdmin(
        settings.s3_endpoint,
        settings.s3_admin_access_key,
        settings.s3_admin_secret_key,
        _identities(settings, kind),
        region=settings.s3_region,
        bucket_prefix=settings.bucket_prefix,
    )
    a, b = (f"{settings.bucket_prefix}{uuid.uuid4().hex}" for _ in range(2))
    keys_a, keys_b = admin.create_tenant_storage(a), admin.create_tenant_storage(b)
    client_a = s3_client(
        settings.s3_endpoint, keys_a.access_key, keys_a.secret_key, region=settings.s3_region
    )
    client_b = s3_client(
        settings.s3_endpoint, keys_b.access_key, keys_b.secret_key, region=settings.s3_region
    )
    client_a.put_object(Bucket=a, Key="plan.txt", Body=b"A's plan")
    # Tenant buckets encrypt at rest by default (SSE-S3), beneath Audora's own sealing.
    assert client_a.head_object(Bucket=a, Key="plan.txt")["ServerSideEncryption"] == "AES256"
    client_b.put_object(Bucket=b, Key="plan.txt", Body=b"B's plan")
    for attempt in (
        lambda: client_a.get_object(Bucket=b, Key="plan.txt"),
        lambda: client_a.list_objects_v2(Bucket=b),
        lambda: client_b.put_object(Bucket=a, Key="planted", Body=b"x"),
        lambda: client_b.delete_object(Bucket=a, Key="plan.txt"),
        lambda: client_a.create_bucket(Bucket=f"{settings.bucket_prefix}{uuid.uuid4().hex}"),
    ):
        with pytest.raises(ClientError) as refused:
            attempt()
        assert refused.value.response["Error"]["Code"] == "AccessDenied"

    admin.delete_tenant_storage(a)
    assert a not in admin.tenant_buckets()
    assert not admin.identities.exists(a)
    with pytest.raises(ClientError):
        client_a.list_objects_v2(Bucket=b)
    assert client_b.get_object(Bucket=b, Key="plan.txt")["Body"].read() == b"B's plan"
    admin.delete_tenant_storage(b)
    admin.delete_tenant_storage(b)  # idempotent


def test_objects_are_encrypted_on_the_stores_disk(settings: Settings, stack: EmbeddedStack) -> None:
    """Bucket default encryption (SSE-S3): a marker written to a tenant bucket appears in
    no file of the store's data folder."""
    admin = S3TenantStorageAdmin(
        settings.s3_endpoint,
        settings.s3_admin_access_key,
        settings.s3_admin_secret_key,
        _identities(settings, "files"),
        region=settings.s3_region,
        bucket_prefix=settings.bucket_prefix,
    )
    bucket = f"{settings.bucket_prefix}{uuid.uuid4().hex}"
    keys = admin.create_tenant_storage(bucket)
    client = s3_client(
        settings.s3_endpoint, keys.access_key, keys.secret_key, region=settings.s3_region
    )
    marker = f"SSE-MARKER-{uuid.uuid4().hex}".encode()
    # Incompressible bytes around the marker, so the store keeps the body as it is.
    body = os.urandom(4096) + marker + os.urandom(4096)
    client.put_object(
        Bucket=bucket, Key="note.bin", Body=body, ContentType="application/octet-stream"
    )
    assert client.get_object(Bucket=bucket, Key="note.bin")["Body"].read() == body
    try:
        for path in (stack.data_dir / "s3").rglob("*"):
            if path.is_file():
                assert marker not in path.read_bytes(), path
    finally:
        admin.delete_tenant_storage(bucket)

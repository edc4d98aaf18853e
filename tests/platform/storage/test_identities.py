"""Each tenant's storage identity reaches its own bucket and nothing else, whichever way
it was made: identity files (the embedded stack) or the IAM API (production's path,
exercised here against SeaweedFS's implementation of it)."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from audora.platform.config import Settings
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

"""Each tenant's storage identity reaches its own bucket and nothing else, whichever way
it was made: the filer's IAM gRPC service (the embedded stack) or the IAM API
(production's path, exercised here against SeaweedFS's implementation of it)."""

from __future__ import annotations

import json
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import grpc
import httpx
import psycopg
import pytest
from botocore.exceptions import ClientError

from audora.platform.config import Settings
from audora.platform.stack.embedded import SEAWEED_DATABASE, EmbeddedStack
from audora.platform.storage import seaweed_iam_messages as pb
from audora.platform.storage.admin import IdentityAdmin, StorageCredentials
from audora.platform.storage.iam_identities import IamIdentities
from audora.platform.storage.s3_admin import S3TenantStorageAdmin, s3_client
from audora.platform.storage.seaweed_identities import (
    IDENTITY_FILES,
    SeaweedIdentities,
    bucket_actions,
    new_credentials,
)


def _identities(settings: Settings, kind: str) -> IdentityAdmin:
    if kind == "grpc":
        return SeaweedIdentities(
            settings.s3_identity_grpc, settings.data_dir / "s3" / "identities.lock"
        )
    return IamIdentities.connect(
        settings.s3_endpoint,
        settings.s3_admin_access_key,
        settings.s3_admin_secret_key,
        region=settings.s3_region,
    )


@pytest.mark.parametrize("kind", ["grpc", "iam"])
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
        _identities(settings, "grpc"),
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


def _admin(settings: Settings) -> S3TenantStorageAdmin:
    return S3TenantStorageAdmin(
        settings.s3_endpoint,
        settings.s3_admin_access_key,
        settings.s3_admin_secret_key,
        _identities(settings, "grpc"),
        region=settings.s3_region,
        bucket_prefix=settings.bucket_prefix,
    )


def _works(settings: Settings, bucket: str, keys: StorageCredentials) -> bool:
    client = s3_client(
        settings.s3_endpoint, keys.access_key, keys.secret_key, region=settings.s3_region
    )
    try:
        client.list_objects_v2(Bucket=bucket, MaxKeys=1)
    except ClientError:
        return False
    return True


def test_no_other_database_role_can_open_the_store_of_s3_keys(settings: Settings) -> None:
    """Every tenant's S3 keys sit in SeaweedFS's credential database: the platform's roles
    (and so the tenants' roles, which have fewer rights) cannot connect to it."""
    url = psycopg.conninfo.conninfo_to_dict(
        settings.app_database_url.replace("postgresql+psycopg://", "postgresql://")
    )
    url["dbname"] = SEAWEED_DATABASE
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(**url).close()


def test_identity_files_of_earlier_versions_move_into_the_credential_store(
    settings: Settings, stack: EmbeddedStack
) -> None:
    """A data folder kept from a version that wrote one identity file per tenant keeps its
    tenants' keys: the stack moves each file into the credential store and removes it."""
    admin = _admin(settings)
    bucket = f"{settings.bucket_prefix}{uuid.uuid4().hex}"
    admin.s3.create_bucket(Bucket=bucket)
    keys = new_credentials()
    identity = {
        "name": bucket,
        "credentials": [
            {"access_key": keys.access_key, "secret_key": keys.secret_key, "status": "Active"}
        ],
        "actions": bucket_actions(bucket),
    }
    path = f"{IDENTITY_FILES}/{bucket}.json"
    with httpx.Client(base_url=stack.seaweed.filer_url()) as filer:
        filer.post(
            path, files={"file": (f"{bucket}.json", json.dumps(identity).encode())}
        ).raise_for_status()
        try:
            assert stack.seaweed.adopt_identity_files() == 1
            assert filer.head(path).status_code == 404
            assert admin.identities.exists(bucket)
            deadline = time.monotonic() + 5
            while not _works(settings, bucket, keys):
                assert time.monotonic() < deadline
                time.sleep(0.01)
            assert stack.seaweed.adopt_identity_files() == 0
        finally:
            admin.delete_tenant_storage(bucket)


def test_identities_made_at_once_all_work_afterwards(settings: Settings) -> None:
    """The gateway applies each change by swapping in a copy of its identity table, so
    two at once could lose one: changes are made one at a time, and every tenant's keys
    still work once all are made."""
    admin = _admin(settings)
    buckets = [f"{settings.bucket_prefix}{uuid.uuid4().hex}" for _ in range(16)]
    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(admin.create_tenant_storage, buckets))
    try:
        assert all(_works(settings, b, keys) for b, keys in zip(buckets, made, strict=True))
    finally:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(admin.delete_tenant_storage, buckets))


def test_keys_the_gateway_lost_are_published_again_before_the_storage_is_handed_over(
    settings: Settings, stack: EmbeddedStack
) -> None:
    admin = _admin(settings)
    bucket = f"{settings.bucket_prefix}{uuid.uuid4().hex}"
    keys = admin.create_tenant_storage(bucket)
    try:
        # The gateway forgets the identity, as a change lost in a race would leave it.
        with grpc.insecure_channel(f"127.0.0.1:{stack.seaweed.gateway_grpc_port}") as channel:
            channel.unary_unary(
                "/messaging_pb.SeaweedS3IamCache/RemoveIdentity",
                request_serializer=lambda m: m.SerializeToString(),
                response_deserializer=pb.Empty.FromString,
            )(pb.DeleteUserRequest(username=bucket), timeout=5)
        assert not _works(settings, bucket, keys)
        assert admin.identities.exists(bucket)  # still in the credential store
        admin._wait_until_usable(bucket, keys)
        assert _works(settings, bucket, keys)
    finally:
        admin.delete_tenant_storage(bucket)

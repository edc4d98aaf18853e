"""`TenantStorageAdmin` over any S3 endpoint: buckets through the S3 API, and each
tenant's identity through an `IdentityAdmin` (the AWS IAM API in production, SeaweedFS's
filer IAM gRPC service on the embedded stack).

The administrator's own keys stay on the operator side: the API and workers use a
tenant's keys for that tenant's objects.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from audora.platform.storage.admin import EmptiedBucket, IdentityAdmin, StorageCredentials
from audora.platform.storage.signed_requests import (
    DEFAULT_ENCRYPTION,
    SignedS3,
    create_bucket_body,
)

_HEALTH_BUCKET = "audora-health"
# S3 deletes at most this many objects per DeleteObjects request; a few requests run at
# once when a whole bucket goes.
_DELETE_BATCH = 1000
_DELETE_THREADS = 4


def client_config() -> Config:
    return Config(
        s3={"addressing_style": "path"},
        retries={"max_attempts": 3, "mode": "standard"},
        # Checksums only where the API requires them: S3-compatible stores disagree on
        # the newer default trailers.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        connect_timeout=5,
        read_timeout=60,
    )


def s3_client(endpoint: str, access_key: str, secret_key: str, *, region: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=region,
        config=client_config(),
    )


class StorageNotReady(RuntimeError):
    """A new tenant's keys were still refused when its storage was to be handed over."""


def missing(exc: ClientError) -> bool:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return code in {"NoSuchBucket", "NoSuchEntity", "NoSuchKey", "404", "NotFound"}


class S3TenantStorageAdmin:
    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        identities: IdentityAdmin,
        *,
        region: str = "us-east-1",
        bucket_prefix: str = "audora-t-",
    ) -> None:
        self.bucket_prefix = bucket_prefix
        self.identities = identities
        self.s3 = s3_client(endpoint, access_key, secret_key, region=region)
        # A sign-up's own requests: see signed_requests.py for why not through boto3.
        self._signed = SignedS3(endpoint, region)
        self._admin_keys = Credentials(access_key, secret_key)
        # The same for every bucket: made (and the region checked) once, at start-up.
        self._create_bucket_body = create_bucket_body(region)

    def create_tenant_storage(self, bucket: str) -> StorageCredentials:
        self._signed.call(
            "CreateBucket",
            self._admin_keys,
            "PUT",
            f"/{bucket}",
            self._create_bucket_body,
            # The name carries a new tenant's id: nobody else can have made it.
            done_already="BucketAlreadyOwnedByYou",
        )
        # Server-side encryption by default, beneath Audora's own envelope encryption.
        self._signed.call(
            "PutBucketEncryption",
            self._admin_keys,
            "PUT",
            f"/{bucket}?encryption",
            DEFAULT_ENCRYPTION,
        )
        credentials = self.identities.create(bucket)
        self._wait_until_usable(bucket, credentials)
        return credentials

    def _wait_until_usable(self, bucket: str, credentials: StorageCredentials) -> None:
        """Identity changes reach a gateway within milliseconds, not at once: a tenant's
        storage is handed over only when its own keys work. Keys still refused after a
        second are published again, once a second."""
        started = time.monotonic()
        republished = started
        while True:
            status = self._list_with(bucket, credentials)
            if status == 200:
                return
            now = time.monotonic()
            if now - started > 10:
                raise StorageNotReady(
                    f"the new keys of {bucket} are still refused (HTTP {status}) after 10 s"
                )
            if now - republished > 1:
                self.identities.republish(bucket, credentials)
                republished = now
            time.sleep(0.005)

    def _list_with(self, bucket: str, credentials: StorageCredentials) -> int:
        """The status of a ListObjectsV2 of `bucket` signed with `credentials`. A boto3
        client made for each new tenant's keys cost more CPU than the rest of the
        sign-up's storage work together."""
        keys = Credentials(credentials.access_key, credentials.secret_key)
        return self._signed.status(keys, "GET", f"/{bucket}?list-type=2&max-keys=1")

    def delete_tenant_storage(self, bucket: str) -> None:
        self.identities.delete(bucket)
        try:
            paginator = self.s3.get_paginator("list_object_versions")
            for page in paginator.paginate(Bucket=bucket):
                doomed = [
                    {"Key": v["Key"], "VersionId": v["VersionId"]}
                    for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
                ]
                if doomed:
                    self.s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed})
            self.s3.delete_bucket(Bucket=bucket)
        except ClientError as exc:
            if not missing(exc):
                raise

    def bucket_exists(self, bucket: str) -> bool:
        try:
            self.s3.head_bucket(Bucket=bucket)
        except ClientError as exc:
            if missing(exc):
                return False
            raise
        return True

    def delete_identity(self, bucket: str) -> None:
        self.identities.delete(bucket)

    def _versions(self, bucket: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for page in self.s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            found += page.get("Versions", [])
            found += page.get("DeleteMarkers", [])
        return found

    def _delete_batch(self, bucket: str, batch: list[dict[str, Any]]) -> list[str]:
        answer = self.s3.delete_objects(
            Bucket=bucket,
            Delete={
                "Objects": [
                    {
                        "Key": v["Key"],
                        **({"VersionId": v["VersionId"]} if v.get("VersionId") else {}),
                    }
                    for v in batch
                ],
                "Quiet": True,
            },
        )
        return [str(error["Key"]) for error in answer.get("Errors", [])]

    def empty_and_delete_bucket(self, bucket: str) -> EmptiedBucket:
        try:
            versions = self._versions(bucket)
            uploads = self.s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        except ClientError as exc:
            if missing(exc):
                return EmptiedBucket(0, 0, 0, 0, hashlib.sha256(b"").hexdigest(), False)
            raise
        for upload in uploads:
            self.s3.abort_multipart_upload(
                Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
            )
        batches = [versions[i : i + _DELETE_BATCH] for i in range(0, len(versions), _DELETE_BATCH)]
        with ThreadPoolExecutor(_DELETE_THREADS) as pool:
            refused = [
                key
                for keys in pool.map(lambda b: self._delete_batch(bucket, b), batches)
                for key in keys
            ]
        left = self._versions(bucket)
        if refused or left:
            raise RuntimeError(
                f"{len(left)} object versions are still in {bucket} after deleting them"
            )
        self.s3.delete_bucket(Bucket=bucket)
        listing = sorted(f"{v['Key']}\t{v.get('VersionId') or 'null'}" for v in versions)
        return EmptiedBucket(
            objects=len({v["Key"] for v in versions}),
            versions=len(versions),
            bytes=sum(int(v.get("Size", 0)) for v in versions),
            uploads_aborted=len(uploads),
            listing_sha256=hashlib.sha256("\n".join(listing).encode()).hexdigest(),
            bucket_deleted=True,
        )

    def tenant_buckets(self) -> dict[str, datetime]:
        return {
            b["Name"]: b["CreationDate"]
            for b in self.s3.list_buckets().get("Buckets", [])
            if b["Name"].startswith(self.bucket_prefix)
        }

    def ping(self) -> None:
        self.s3.list_buckets()

    def probe_write(self) -> None:
        """Write and delete an object: the store is up, not merely listening."""
        try:
            self.s3.create_bucket(Bucket=_HEALTH_BUCKET)
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in {
                "BucketAlreadyOwnedByYou",
                "BucketAlreadyExists",
            }:
                raise
        key = f"probe-{uuid.uuid4().hex}"
        self.s3.put_object(Bucket=_HEALTH_BUCKET, Key=key, Body=b"ok")
        self.s3.delete_object(Bucket=_HEALTH_BUCKET, Key=key)

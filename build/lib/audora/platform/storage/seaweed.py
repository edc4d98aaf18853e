"""`TenantStorageAdmin` over an S3 endpoint with an IAM API (SeaweedFS's gateway here;
the same boto3 calls work against AWS S3 and IAM).

Each tenant gets a bucket and an IAM user named after it, whose only policy allows S3
actions on that bucket and its objects. The administrator's own keys never leave the
operator side: the API and workers use a tenant's keys for that tenant's objects.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from audora.platform.storage.admin import StorageCredentials

_HEALTH_BUCKET = "audora-health"


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


def bucket_policy(bucket: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["s3:*"],
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                }
            ],
        }
    )


class SeaweedStorageAdmin:
    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        *,
        region: str = "us-east-1",
        bucket_prefix: str = "audora-t-",
    ) -> None:
        self.endpoint = endpoint
        self.region = region
        self.bucket_prefix = bucket_prefix
        self.s3 = s3_client(endpoint, access_key, secret_key, region=region)
        self.iam = boto3.client(
            "iam",
            endpoint_url=endpoint,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}),
        )

    def create_tenant_storage(self, bucket: str) -> StorageCredentials:
        self.s3.create_bucket(Bucket=bucket)
        self.iam.create_user(UserName=bucket)
        self.iam.put_user_policy(
            UserName=bucket, PolicyName="tenant-bucket", PolicyDocument=bucket_policy(bucket)
        )
        key = self.iam.create_access_key(UserName=bucket)["AccessKey"]
        return StorageCredentials(key["AccessKeyId"], key["SecretAccessKey"])

    def delete_tenant_storage(self, bucket: str) -> None:
        self._delete_identity(bucket)
        self._empty_and_delete_bucket(bucket)

    def _delete_identity(self, user: str) -> None:
        try:
            for key in self.iam.list_access_keys(UserName=user)["AccessKeyMetadata"]:
                self.iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
            self.iam.delete_user_policy(UserName=user, PolicyName="tenant-bucket")
        except ClientError as exc:
            if not _missing(exc):
                raise
        try:
            self.iam.delete_user(UserName=user)
        except ClientError as exc:
            if not _missing(exc):
                raise

    def _empty_and_delete_bucket(self, bucket: str) -> None:
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
            if not _missing(exc):
                raise

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


def _missing(exc: ClientError) -> bool:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return code in {"NoSuchBucket", "NoSuchEntity", "NoSuchKey", "404", "NotFound"}


def wait_until_usable(
    creds: StorageCredentials, endpoint: str, bucket: str, *, region: str, timeout: float = 10.0
) -> None:
    """Poll until a just-created identity is accepted (some stores apply IAM changes
    asynchronously)."""
    client = s3_client(endpoint, creds.access_key, creds.secret_key, region=region)
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.list_objects_v2(Bucket=bucket, MaxKeys=1)
            return
        except ClientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)

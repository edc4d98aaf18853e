"""Tenant identities through the AWS IAM API: an IAM user named after the bucket, with
one inline policy that allows S3 actions on that bucket and its objects only.

This is the production path (AWS IAM). SeaweedFS's gateway speaks the same API, but it
rewrites and reloads its whole identity set on every call, so each call slows with the
number of tenants (1.3 s at 200); the embedded stack uses `SeaweedIdentities`.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from audora.platform.storage.admin import StorageCredentials
from audora.platform.storage.s3_admin import missing

POLICY_NAME = "tenant-bucket"


def bucket_policy(bucket: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": [
                        "s3:GetObject",
                        "s3:PutObject",
                        "s3:DeleteObject",
                        "s3:GetObjectVersion",
                        "s3:DeleteObjectVersion",
                        "s3:AbortMultipartUpload",
                    ],
                    "Resource": [f"arn:aws:s3:::{bucket}/*"],
                },
                {
                    "Effect": "Allow",
                    # Listing, but not the bucket's policy, ACL, lifecycle or deletion.
                    "Action": ["s3:ListBucket", "s3:ListBucketVersions"],
                    "Resource": [f"arn:aws:s3:::{bucket}"],
                },
            ],
        }
    )


class IamIdentities:
    def __init__(self, client: Any) -> None:
        self.iam = client

    @classmethod
    def connect(
        cls, endpoint: str | None, access_key: str, secret_key: str, *, region: str
    ) -> IamIdentities:
        return cls(
            boto3.client(
                "iam",
                endpoint_url=endpoint or None,
                aws_access_key_id=access_key,
                aws_secret_access_key=secret_key,
                region_name=region,
                config=Config(retries={"max_attempts": 3, "mode": "standard"}),
            )
        )

    def create(self, bucket: str) -> StorageCredentials:
        self.iam.create_user(UserName=bucket)
        self.iam.put_user_policy(
            UserName=bucket, PolicyName=POLICY_NAME, PolicyDocument=bucket_policy(bucket)
        )
        key = self.iam.create_access_key(UserName=bucket)["AccessKey"]
        return StorageCredentials(key["AccessKeyId"], key["SecretAccessKey"])

    def delete(self, bucket: str) -> None:
        try:
            for key in self.iam.list_access_keys(UserName=bucket)["AccessKeyMetadata"]:
                self.iam.delete_access_key(UserName=bucket, AccessKeyId=key["AccessKeyId"])
            self.iam.delete_user_policy(UserName=bucket, PolicyName=POLICY_NAME)
        except ClientError as exc:
            if not missing(exc):
                raise
        try:
            self.iam.delete_user(UserName=bucket)
        except ClientError as exc:
            if not missing(exc):
                raise

    def republish(self, bucket: str, credentials: StorageCredentials) -> None:
        """Nothing to do: IAM applies a key everywhere by itself, within seconds."""

    def exists(self, bucket: str) -> bool:
        try:
            self.iam.get_user(UserName=bucket)
        except ClientError as exc:
            if missing(exc):
                return False
            raise
        return True

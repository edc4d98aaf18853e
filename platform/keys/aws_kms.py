"""`KeyService` over AWS KMS, for production: one customer-managed KMS key per tenant
(alias `alias/audora-tenant-<id>`), data keys from GenerateDataKey, the tenant id in
every encryption context, ReEncrypt for rewrapping, key deletion for erasure.

boto3 is synchronous; each call runs in a worker thread. Certificate validation is
botocore's own (system trust store, TLS 1.2+ against KMS endpoints).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

import boto3
from botocore.exceptions import ClientError

from audora.platform.keys.service import (
    DataKey,
    KeyDestroyed,
    KeyServiceError,
    UnwrapFailed,
    WrappedKey,
)


def _alias(tenant_id: uuid.UUID) -> str:
    return f"alias/audora-tenant-{tenant_id.hex}"


def _context(tenant_id: uuid.UUID, context: dict[str, str]) -> dict[str, str]:
    # The tenant id is always part of the context, whatever the caller passed.
    return {**context, "audora:tenant": str(tenant_id)}


def _translate(exc: ClientError) -> KeyServiceError:
    code = exc.response.get("Error", {}).get("Code", "")
    if code in {"KMSInvalidStateException", "DisabledException", "NotFoundException"}:
        return KeyDestroyed(f"the tenant's KMS key is unusable: {code}")
    if code in {"InvalidCiphertextException", "IncorrectKeyException"}:
        return UnwrapFailed(f"KMS refused the wrapped key: {code}")
    return KeyServiceError(f"KMS error: {code}")


class AwsKmsKeyService:
    def __init__(self, client: Any) -> None:
        self.kms = client

    @classmethod
    def connect(cls, *, region: str, endpoint: str | None = None) -> AwsKmsKeyService:
        return cls(boto3.client("kms", region_name=region, endpoint_url=endpoint or None))

    async def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = await asyncio.to_thread(getattr(self.kms, operation), **kwargs)
        except ClientError as exc:
            raise _translate(exc) from None
        return result

    async def close(self) -> None:
        # boto3's client pools its own HTTPS connections and needs no closing.
        return None

    async def create_tenant_key(self, tenant_id: uuid.UUID) -> str:
        made = await self._call(
            "create_key",
            Description=f"Audora tenant {tenant_id}",
            KeyUsage="ENCRYPT_DECRYPT",
            KeySpec="SYMMETRIC_DEFAULT",
            Tags=[{"TagKey": "audora:tenant", "TagValue": str(tenant_id)}],
        )
        key_id = made["KeyMetadata"]["KeyId"]
        await self._call("create_alias", AliasName=_alias(tenant_id), TargetKeyId=key_id)
        await self._call("enable_key_rotation", KeyId=key_id)  # yearly, by KMS itself
        return f"aws-kms:{key_id}"

    async def generate_data_key(self, tenant_id: uuid.UUID, context: dict[str, str]) -> DataKey:
        made = await self._call(
            "generate_data_key",
            KeyId=_alias(tenant_id),
            KeySpec="AES_256",
            EncryptionContext=_context(tenant_id, context),
        )
        return DataKey(made["Plaintext"], made["CiphertextBlob"])

    async def decrypt_data_key(
        self, tenant_id: uuid.UUID, wrapped: bytes, context: dict[str, str]
    ) -> bytes:
        # KeyId pins the tenant's key: a blob wrapped for another tenant fails.
        answer = await self._call(
            "decrypt",
            CiphertextBlob=wrapped,
            KeyId=_alias(tenant_id),
            EncryptionContext=_context(tenant_id, context),
        )
        plaintext: bytes = answer["Plaintext"]
        return plaintext

    async def decrypt_data_keys(
        self, tenant_id: uuid.UUID, wrapped: Sequence[WrappedKey]
    ) -> list[bytes | None]:
        # KMS decrypts one blob per request: these run side by side, in worker threads.
        async def one(key: WrappedKey) -> bytes | None:
            try:
                return await self.decrypt_data_key(tenant_id, key.wrapped, key.context)
            except UnwrapFailed:
                return None

        return list(await asyncio.gather(*(one(key) for key in wrapped)))

    async def rewrap(self, tenant_id: uuid.UUID, wrapped: bytes, context: dict[str, str]) -> bytes:
        full = _context(tenant_id, context)
        answer = await self._call(
            "re_encrypt",
            CiphertextBlob=wrapped,
            SourceKeyId=_alias(tenant_id),
            SourceEncryptionContext=full,
            DestinationKeyId=_alias(tenant_id),
            DestinationEncryptionContext=full,
        )
        blob: bytes = answer["CiphertextBlob"]
        return blob

    async def rotate_tenant_key(self, tenant_id: uuid.UUID) -> int:
        await self._call("rotate_key_on_demand", KeyId=_alias(tenant_id))
        rotations = await self._call("list_key_rotations", KeyId=_alias(tenant_id))
        return 1 + len(rotations.get("Rotations", []))

    async def destroy_tenant_key(self, tenant_id: uuid.UUID) -> None:
        key_id = (await self._call("describe_key", KeyId=_alias(tenant_id)))["KeyMetadata"]["KeyId"]
        # Disabled at once (nothing decrypts from now on); deleted after KMS's minimum
        # waiting period of 7 days, after which the erasure is irreversible.
        await self._call("disable_key", KeyId=key_id)
        await self._call("schedule_key_deletion", KeyId=key_id, PendingWindowInDays=7)

    async def ping(self) -> None:
        await self._call("list_keys", Limit=1)

    def kek_version_of(self, wrapped: bytes) -> int | None:
        return None  # KMS does not expose it in the blob

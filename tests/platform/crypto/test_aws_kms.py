"""The production key service, AWS KMS, exercised through the real boto3 client against
moto's KMS (AWS cannot be reached here): the same behaviour as the local service."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from audora.platform.keys.aws_kms import AwsKmsKeyService, _translate
from audora.platform.keys.service import KeyDestroyed, KeyServiceError, WrappedKey

CONTEXT = {"purpose": "clients"}


@pytest.fixture
def kms(monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsKmsKeyService]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield AwsKmsKeyService(boto3.client("kms", region_name="eu-west-1"))


async def test_data_keys_round_trip_and_belong_to_their_tenant(kms: AwsKmsKeyService) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    assert (await kms.create_tenant_key(a)).startswith("aws-kms:")
    await kms.create_tenant_key(b)
    key = await kms.generate_data_key(a, CONTEXT)
    assert len(key.plaintext) == 32
    assert await kms.decrypt_data_key(a, key.wrapped, CONTEXT) == key.plaintext
    with pytest.raises(KeyServiceError):
        await kms.decrypt_data_key(b, key.wrapped, CONTEXT)
    with pytest.raises(KeyServiceError):
        await kms.decrypt_data_key(a, key.wrapped, {"purpose": "other"})
    rewrapped = await kms.rewrap(a, key.wrapped, CONTEXT)
    assert await kms.decrypt_data_key(a, rewrapped, CONTEXT) == key.plaintext
    others = await kms.generate_data_key(b, CONTEXT)
    together = [WrappedKey(key.wrapped, CONTEXT), WrappedKey(others.wrapped, CONTEXT)]
    assert await kms.decrypt_data_keys(a, together) == [key.plaintext, None]


async def test_destroying_a_tenant_key_disables_it_and_schedules_its_deletion(
    kms: AwsKmsKeyService,
) -> None:
    """moto keeps decrypting with a disabled key, so this checks the key's state; AWS
    refuses every cryptographic operation on a key in PendingDeletion (KMSInvalidState-
    Exception), which `_translate` turns into KeyDestroyed."""
    tenant = uuid.uuid4()
    await kms.create_tenant_key(tenant)
    await kms.destroy_tenant_key(tenant)
    meta = kms.kms.describe_key(KeyId=f"alias/audora-tenant-{tenant.hex}")["KeyMetadata"]
    assert meta["Enabled"] is False
    assert meta["KeyState"] == "PendingDeletion"
    refusal = {"Error": {"Code": "KMSInvalidStateException", "Message": "pending deletion"}}
    assert isinstance(_translate(ClientError(refusal, "Decrypt")), KeyDestroyed)

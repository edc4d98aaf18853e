"""A sign-up's bucket requests, signed without boto3, behave as boto3's would: the
bucket is made with default encryption, the store's refusals come back as `ClientError`
with the store's own code, and transient failures are retried."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from audora.platform.config import Settings
from audora.platform.storage.s3_admin import s3_client
from audora.platform.storage.signed_requests import (
    DEFAULT_ENCRYPTION,
    SignedS3,
    create_bucket_body,
)


def _admin_keys(settings: Settings) -> Credentials:
    return Credentials(settings.s3_admin_access_key, settings.s3_admin_secret_key)


def test_a_bucket_made_by_signed_requests_has_aes256_default_encryption(
    settings: Settings,
) -> None:
    signed = SignedS3(settings.s3_endpoint, settings.s3_region)
    keys = _admin_keys(settings)
    bucket = f"{settings.bucket_prefix}{uuid.uuid4().hex}"
    signed.call("CreateBucket", keys, "PUT", f"/{bucket}", create_bucket_body(settings.s3_region))
    signed.call("PutBucketEncryption", keys, "PUT", f"/{bucket}?encryption", DEFAULT_ENCRYPTION)
    admin = s3_client(
        settings.s3_endpoint, keys.access_key, keys.secret_key, region=settings.s3_region
    )
    try:
        rules = admin.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
        assert rules["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    finally:
        admin.delete_bucket(Bucket=bucket)


def test_the_stores_refusal_is_the_client_error_boto3_raises(settings: Settings) -> None:
    signed = SignedS3(settings.s3_endpoint, settings.s3_region)
    keys = _admin_keys(settings)
    admin = s3_client(
        settings.s3_endpoint, keys.access_key, keys.secret_key, region=settings.s3_region
    )
    bucket = f"{settings.bucket_prefix}{uuid.uuid4().hex}"
    admin.create_bucket(Bucket=bucket)
    try:
        with pytest.raises(ClientError) as by_boto3:
            admin.create_bucket(Bucket=bucket)
        with pytest.raises(ClientError) as signed_refusal:
            signed.call("CreateBucket", keys, "PUT", f"/{bucket}")
    finally:
        admin.delete_bucket(Bucket=bucket)
    code = by_boto3.value.response["Error"]["Code"]
    assert code.startswith("Bucket")
    assert signed_refusal.value.response["Error"]["Code"] == code
    assert signed_refusal.value.response["Error"]["Message"]
    assert signed_refusal.value.operation_name == "CreateBucket"


def test_wrong_keys_are_refused(settings: Settings) -> None:
    signed = SignedS3(settings.s3_endpoint, settings.s3_region)
    stranger = Credentials("AUDNOBODY0000000000", "not-a-secret")
    with pytest.raises(ClientError) as refused:
        signed.call("CreateBucket", stranger, "PUT", f"/{settings.bucket_prefix}{uuid.uuid4().hex}")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert signed.status(stranger, "GET", "/?list-type=2") == 403


class _Flaky(BaseHTTPRequestHandler):
    """Answers 503 (SlowDown) until `failures` run out, then 200; counts requests."""

    failures = 0
    seen = 0

    def do_PUT(self) -> None:
        type(self).seen += 1
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if type(self).failures > 0:
            type(self).failures -= 1
            self.send_response(503)
            body = b"<Error><Code>SlowDown</Code><Message>slow down</Message></Error>"
        else:
            self.send_response(200)
            body = b""
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def flaky() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_transient_refusal_is_retried_and_a_lasting_one_raised(flaky: str) -> None:
    signed = SignedS3(flaky, "us-east-1")
    keys = Credentials("AUDTEST", "secret")
    _Flaky.failures, _Flaky.seen = 2, 0
    signed.call("CreateBucket", keys, "PUT", "/b")
    assert _Flaky.seen == 3
    _Flaky.failures, _Flaky.seen = 5, 0
    with pytest.raises(ClientError) as refused:
        signed.call("CreateBucket", keys, "PUT", "/b")
    assert refused.value.response["Error"]["Code"] == "SlowDown"
    assert _Flaky.seen == 3


def test_outside_us_east_1_a_bucket_names_its_region_and_odd_regions_are_refused() -> None:
    assert create_bucket_body("us-east-1") == b""
    assert b"<LocationConstraint>eu-west-2</LocationConstraint>" in create_bucket_body("eu-west-2")
    with pytest.raises(ValueError, match="region"):
        create_bucket_body("eu</LocationConstraint>")

"""A sign-up's bucket requests, signed without boto3, behave as boto3's would: the
bucket is made with default encryption, the store's refusals come back as `ClientError`
with the store's own code, and transient failures are retried."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from audora.platform.config import Settings
from audora.platform.db.tenant_names import InvalidTenantName, tenant_bucket
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
    admin = s3_client(
        settings.s3_endpoint, keys.access_key, keys.secret_key, region=settings.s3_region
    )
    signed.call("CreateBucket", keys, "PUT", f"/{bucket}", create_bucket_body(settings.s3_region))
    try:
        signed.call("PutBucketEncryption", keys, "PUT", f"/{bucket}?encryption", DEFAULT_ENCRYPTION)
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
    assert signed_refusal.value.response["ResponseMetadata"]["RetryAttempts"] == 0


def test_wrong_keys_are_refused(settings: Settings) -> None:
    signed = SignedS3(settings.s3_endpoint, settings.s3_region)
    stranger = Credentials("AUDNOBODY0000000000", "not-a-secret")
    with pytest.raises(ClientError) as refused:
        signed.call("CreateBucket", stranger, "PUT", f"/{settings.bucket_prefix}{uuid.uuid4().hex}")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert signed.status(stranger, "GET", "/?list-type=2") == 403


class _Scripted(BaseHTTPRequestHandler):
    """Answers each request with the next step of `script`: a status and error code, or
    "reset" (the connection closed without an answer); 200 once the script runs out."""

    script: ClassVar[list[tuple[int, str] | str]] = []
    seen = 0

    def do_PUT(self) -> None:
        type(self).seen += 1
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        step = type(self).script.pop(0) if type(self).script else (200, "")
        if isinstance(step, str):  # "reset"
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        status, code = step
        body = f"<Error><Code>{code}</Code><Message>scripted</Message></Error>".encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body) if code else 0))
        self.send_header("x-amz-request-id", f"req-{type(self).seen}")
        self.end_headers()
        if code:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def scripted() -> Iterator[SignedS3]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield SignedS3(f"http://127.0.0.1:{server.server_address[1]}", "us-east-1")
    finally:
        server.shutdown()
        server.server_close()


def _run(signed: SignedS3, script: list[tuple[int, str] | str], **kwargs: Any) -> int:
    """Send one CreateBucket through `script`; how many requests reached the server."""
    _Scripted.script, _Scripted.seen = list(script), 0
    signed.call("CreateBucket", Credentials("AUDTEST", "secret"), "PUT", "/b", **kwargs)
    return _Scripted.seen


def test_transient_refusals_and_lost_connections_are_retried(scripted: SignedS3) -> None:
    assert _run(scripted, [(503, "SlowDown"), (500, "InternalError")]) == 3
    assert _run(scripted, [(400, "RequestTimeout")]) == 2
    assert _run(scripted, ["reset"]) == 2


def test_a_lasting_or_final_refusal_is_raised_after_the_attempts_it_deserves(
    scripted: SignedS3,
) -> None:
    with pytest.raises(ClientError) as lasting:
        _run(scripted, [(503, "SlowDown")] * 5)
    assert lasting.value.response["Error"]["Code"] == "SlowDown"
    assert lasting.value.response["ResponseMetadata"]["RetryAttempts"] == 2
    assert lasting.value.response["ResponseMetadata"]["RequestId"] == "req-3"
    assert _Scripted.seen == 3
    with pytest.raises(ClientError) as final:
        _run(scripted, [(400, "InvalidBucketName")])
    assert final.value.response["Error"]["Code"] == "InvalidBucketName"
    assert _Scripted.seen == 1


def test_a_retry_told_the_work_is_done_succeeds_but_a_first_attempt_told_so_fails(
    scripted: SignedS3,
) -> None:
    """A CreateBucket whose answer was lost is retried and told the bucket exists: the
    first attempt made it. Told so at the first attempt, the name was taken before."""
    owned = (409, "BucketAlreadyOwnedByYou")
    assert _run(scripted, [(503, "SlowDown"), owned], done_already=owned[1]) == 2
    with pytest.raises(ClientError):
        _run(scripted, [owned], done_already=owned[1])


def test_outside_us_east_1_a_bucket_names_its_region_and_odd_regions_are_refused() -> None:
    assert create_bucket_body("us-east-1") == b""
    assert b"<LocationConstraint>eu-west-2</LocationConstraint>" in create_bucket_body("eu-west-2")
    with pytest.raises(ValueError, match="region"):
        create_bucket_body("eu</LocationConstraint>")


@pytest.mark.parametrize("prefix", ["Audora-", "audora_t_", "a/../", "audora.t.", "x" * 32, ""])
def test_a_bucket_name_outside_the_tenant_pattern_is_never_made(prefix: str) -> None:
    """The name goes into request paths as it is: a prefix setting outside S3's rules,
    one that would reach another path, or one with dots (no TLS certificate covers a
    dotted bucket's virtual host) is refused before any request."""
    with pytest.raises(InvalidTenantName):
        tenant_bucket(prefix, uuid.uuid4())
    assert tenant_bucket("audora-t-", uuid.UUID(int=1)) == "audora-t-" + "0" * 31 + "1"

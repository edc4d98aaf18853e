"""S3 requests signed by botocore's own SigV4 signer and sent on a kept-alive pool,
for the calls every sign-up makes.

A boto3 call spends more CPU around the request than on it (endpoint rules, event
hooks, serialising and parsing): making a bucket and setting its default encryption
cost 3.5 to 5.4 ms of the provisioning process's CPU through boto3, and 2.4 to 2.9 ms
signed here (docs/scaling.md). Everything else keeps to boto3.

Errors are raised as botocore's `ClientError`, with the store's own error code, the
way boto3 raises them; transient failures are retried like boto3's standard mode.
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
import re
import socket
import time
from xml.etree import ElementTree

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSPreparedRequest, AWSRequest, AWSResponse
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, HTTPClientError, SSLError
from botocore.exceptions import ConnectionError as BotocoreConnectionError
from botocore.httpsession import URLLib3Session

_REGION = re.compile(r"\A[a-z0-9-]{1,32}\Z")
_ATTEMPTS = 3
_RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
_RETRIED_CODES = frozenset(
    {"RequestTimeout", "RequestTimeTooSkewed", "SlowDown", "Throttling", "InternalError"}
)
# A body sent in a segment of its own would wait for the server's delayed ACK (40 ms on
# Linux) without this, as boto3's own connections avoid it.
_NO_DELAY = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]

DEFAULT_ENCRYPTION = (
    b'<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    b"<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm>"
    b"</ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>"
)


class SignedS3:
    def __init__(self, endpoint: str, region: str) -> None:
        if not endpoint.startswith(("https://", "http://")):
            raise ValueError(f"not an S3 endpoint URL: {endpoint!r}")
        self.endpoint = endpoint.rstrip("/")
        self.region = region
        # botocore-stubs type `verify` as bool and `socket_options` as list[str]; botocore
        # also takes a CA bundle's path, and urllib3 (level, option, value) tuples.
        self._session = URLLib3Session(
            # The CA bundle boto3 would trust here (no `verify` is given to the clients).
            verify=os.environ.get("AWS_CA_BUNDLE") or True,  # type: ignore[arg-type]
            # Connect and read timeouts as the boto3 clients' (s3_admin.client_config).
            timeout=(5, 60),  # type: ignore[arg-type]
            socket_options=_NO_DELAY,  # type: ignore[arg-type]
        )

    def status(self, credentials: Credentials, method: str, path: str) -> int:
        """The HTTP status of one request, sent once: for probes that expect refusals."""
        return int(self._session.send(self._signed(credentials, method, path, b"", {})).status_code)

    def call(
        self,
        operation: str,
        credentials: Credentials,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        done_already: str | None = None,
    ) -> None:
        """Send until it succeeds, retrying what boto3's standard mode retries; raise
        `ClientError` (named `operation`, as boto3 names it) when the store refuses.
        `done_already` is the error code that, answering a retry, means an earlier
        attempt did the work and only its answer was lost."""
        headers: dict[str, str] = {}
        if body:
            # Every S3 configuration PUT requires an integrity header.
            headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()  # noqa: S324
            headers["Content-Type"] = "application/xml"
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                answer = self._session.send(self._signed(credentials, method, path, body, headers))
            except SSLError:
                raise
            except (BotocoreConnectionError, HTTPClientError):
                if attempt == _ATTEMPTS:
                    raise
            else:
                if answer.status_code < 300:
                    return
                error = _client_error(operation, answer, attempt)
                code = error.response["Error"]["Code"]
                if attempt > 1 and code == done_already:
                    return
                transient = answer.status_code in _RETRIED_STATUSES or code in _RETRIED_CODES
                if not transient or attempt == _ATTEMPTS:
                    raise error
            # Exponential backoff with full jitter, as boto3's standard mode.
            time.sleep(random.uniform(0, 0.05 * 2**attempt))  # noqa: S311

    def _signed(
        self,
        credentials: Credentials,
        method: str,
        path: str,
        body: bytes,
        headers: dict[str, str],
    ) -> AWSPreparedRequest:
        request = AWSRequest(
            method=method, url=f"{self.endpoint}{path}", data=body, headers=headers
        )
        S3SigV4Auth(credentials, "s3", self.region).add_auth(request)
        return request.prepare()


def create_bucket_body(region: str) -> bytes:
    """CreateBucket's body: none in us-east-1, which refuses a location constraint, and
    the region everywhere else, which requires one."""
    if not _REGION.match(region):
        raise ValueError(f"unexpected region {region!r}")
    if region == "us-east-1":
        return b""
    return (
        '<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"<LocationConstraint>{region}</LocationConstraint></CreateBucketConfiguration>"
    ).encode()


def _client_error(operation: str, answer: AWSResponse, attempt: int) -> ClientError:
    code, message = str(answer.status_code), ""
    try:
        root = ElementTree.fromstring(answer.content)  # noqa: S314  (the store's own error document)
        code = root.findtext("{*}Code") or code
        message = root.findtext("{*}Message") or ""
    except ElementTree.ParseError:
        pass
    headers = {key.lower(): value for key, value in answer.headers.items()}
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {
                "HTTPStatusCode": answer.status_code,
                "HTTPHeaders": headers,
                "HostId": headers.get("x-amz-id-2", ""),
                "RequestId": headers.get("x-amz-request-id", ""),
                "RetryAttempts": attempt - 1,
            },
        },
        operation,
    )

"""Standard Webhooks verification (https://www.standardwebhooks.com), in the thirty
lines it takes rather than a dependency: the signed content is
`{webhook-id}.{webhook-timestamp}.{raw body}`, HMAC-SHA256 under the secret (given as
`whsec_<base64>`), sent base64-encoded as `v1,<signature>` in `webhook-signature`,
several separated by spaces while a secret is rotated. Signatures are compared in
constant time; the timestamp must be within five minutes of the application clock,
either way, so a captured delivery cannot be replayed later (and the id is remembered
for longer than that, so it cannot be replayed sooner either: see `http.py`).

Refusals: 400 when `webhook-id` or `webhook-timestamp` is missing or malformed; 401
when the signature is missing or wrong, or the timestamp is outside the window (a
signature that is valid but stale is still not one we accept now).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

TOLERANCE = timedelta(minutes=5)
_ID = re.compile(r"\A[\x21-\x7e]{1,256}\Z")
_TIMESTAMP = re.compile(r"\A[0-9]{1,10}\Z")  # up to the year 2286


class WebhookRejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret."""
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the webhook secret must be whsec_ followed by base64") from None


def signature(key: bytes, webhook_id: str, timestamp: str, body: bytes) -> str:
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: datetime) -> str:
    """The delivery's webhook id if it is signed with `secret` and current at `now`."""
    webhook_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    if not _ID.match(webhook_id) or not _TIMESTAMP.match(timestamp):
        raise WebhookRejected(400, "webhook-id and webhook-timestamp headers are required")
    offered = headers.get("webhook-signature", "").split()
    if not offered:
        raise WebhookRejected(401, "the webhook-signature header is missing")
    expected = signature(secret_key(secret), webhook_id, timestamp, body).encode()
    if not any(
        version == "v1" and hmac.compare_digest(sig.encode(), expected)
        for version, _, sig in (item.partition(",") for item in offered)
    ):
        raise WebhookRejected(401, "no valid signature")
    sent = datetime.fromtimestamp(int(timestamp), UTC)
    if abs(now - sent) > TOLERANCE:
        raise WebhookRejected(401, "the webhook timestamp is outside the 5-minute window")
    return webhook_id

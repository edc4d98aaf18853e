"""Standard Webhooks verification on its own: the signed content, several signatures
while a secret rotates, constant-time comparison of v1 only, the five-minute window
either way."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from audora.tenants.meeting_bots.signatures import WebhookRejected, verify

from bot_provider import signed_headers

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
OTHER = "whsec_" + base64.b64encode(b"o" * 32).decode()
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
BODY = b'{"type": "recording.ready"}'


def _headers(secret: str = SECRET, at: datetime = NOW, body: bytes = BODY) -> dict[str, str]:
    return signed_headers(secret, body, int(at.timestamp()), "msg_1")


def test_a_correctly_signed_delivery_is_accepted_and_named_by_its_id() -> None:
    assert verify(SECRET, _headers(), BODY, NOW) == "msg_1"


def test_any_one_of_several_signatures_may_match_while_a_secret_rotates() -> None:
    headers = _headers()
    rotated = _headers(OTHER)["webhook-signature"] + " " + headers["webhook-signature"]
    assert verify(SECRET, {**headers, "webhook-signature": rotated}, BODY, NOW) == "msg_1"


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"webhook-signature": "v1,AAAA"}, 401),
        ({"webhook-signature": ""}, 401),
        ({"webhook-id": ""}, 400),
        ({"webhook-timestamp": "soon"}, 400),
        ({"webhook-timestamp": "9" * 20}, 400),
    ],
)
def test_missing_or_wrong_headers_are_refused(change: dict[str, str], status: int) -> None:
    with pytest.raises(WebhookRejected) as refused:
        verify(SECRET, {**_headers(), **change}, BODY, NOW)
    assert refused.value.status == status


def test_a_signature_of_another_secret_version_or_body_is_refused() -> None:
    v2 = _headers()["webhook-signature"].replace("v1,", "v2,")
    for headers, body in (
        (_headers(OTHER), BODY),
        (_headers(), BODY + b" "),
        ({**_headers(), "webhook-signature": v2}, BODY),
    ):
        with pytest.raises(WebhookRejected) as refused:
            verify(SECRET, headers, body, NOW)
        assert refused.value.status == 401


def test_the_window_is_five_minutes_either_way() -> None:
    for offset in (timedelta(minutes=5), -timedelta(minutes=5)):
        assert verify(SECRET, _headers(at=NOW + offset), BODY, NOW) == "msg_1"
    for offset in (timedelta(minutes=5, seconds=1), -timedelta(minutes=5, seconds=1)):
        with pytest.raises(WebhookRejected, match="5-minute window"):
            verify(SECRET, _headers(at=NOW + offset), BODY, NOW)

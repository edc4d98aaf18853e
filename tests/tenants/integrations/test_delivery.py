"""How a destination's answer becomes "try again" or "give up": 429 and 5xx are retried
(after Retry-After when given, in seconds or as an HTTP date), other 4xx are refusals,
and the reasons never quote the destination's answer."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from audora.platform.http.destinations import DestinationRefused
from audora.tenants.integrations.delivery import (
    PushRejected,
    PushRetryable,
    judge_failure,
    judge_status,
    retry_after,
)


def test_success_is_no_failure() -> None:
    assert judge_status("Linear", 200, {}) is None


def test_429_is_retried_after_the_destinations_retry_after() -> None:
    failure = judge_status("Linear", 429, httpx.Headers({"retry-after": "17"}))
    assert isinstance(failure, PushRetryable)
    assert failure.retry_after == 17


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried(status: int) -> None:
    failure = judge_status("Notion", status, {})
    assert isinstance(failure, PushRetryable)
    assert failure.retry_after is None


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (401, "Notion refused the credentials (HTTP 401)"),
        (403, "Notion refused the credentials (HTTP 403)"),
        (404, "Notion refused the request (HTTP 404)"),
        (400, "Notion refused the request (HTTP 400)"),
    ],
)
def test_other_client_errors_are_refusals(status: int, reason: str) -> None:
    failure = judge_status("Notion", status, {})
    assert isinstance(failure, PushRejected)
    assert failure.reason == reason


def test_retry_after_as_an_http_date_and_capped() -> None:
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert retry_after("Fri, 27 Nov 2026 12:01:30 GMT", now) == 90
    assert retry_after("Fri, 27 Nov 2026 11:00:00 GMT", now) == 0
    assert retry_after("999999", now) == 3600
    assert retry_after("soon", now) is None
    assert retry_after(None, now) is None


def test_transport_failures_are_retried_and_refused_destinations_are_not() -> None:
    assert isinstance(judge_failure("Linear", httpx.ReadTimeout("slow")), PushRetryable)
    assert isinstance(judge_failure("Linear", httpx.ConnectError("reset")), PushRetryable)
    refused = judge_failure("Linear", DestinationRefused("x resolves to a loopback address"))
    assert isinstance(refused, PushRejected)
    assert refused.reason == "Linear resolves to an address Audora does not call"

"""What the Linear, Notion and webhook senders share: how an answer or a failure of
the destination becomes "try again later" or "give up, and say why".

Timeouts, dropped connections, 429 and 5xx answers are worth another try (after the
destination's Retry-After, when it gives one); any other 4xx, a refused destination
(plain http, an address the SSRF guard refuses) or a certificate that does not verify
will fail the same way every time. Reasons are the platform's words and the HTTP
status, never the destination's answer, which may quote the document.
"""

from __future__ import annotations

import email.utils
import ssl
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol

import httpx

from audora.platform.errors import AppError
from audora.platform.http.destinations import DestinationRefused
from audora.platform.http.outbound import InsecureDestination
from audora.tenants.integrations.models import PushPlan

# Retry-After beyond this is not waited for in one step: the job's own backoff goes on.
MAX_RETRY_AFTER_SECONDS = 3600.0

# item id, external id: called as soon as the destination made something for an item.
Remember = Callable[[str, str], Awaitable[None]]


class PushRetryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class PushRejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Sender(Protocol):
    async def send(self, plan: PushPlan, links: dict[str, str], remember: Remember) -> int:
        """Send the plan's items: update those in `links`, create the others (calling
        `remember` for each). Returns how many were created."""
        ...


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_SECONDS)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def judge_status(
    destination: str, status: int, headers: httpx.Headers | dict[str, str]
) -> Exception | None:
    """The failure an HTTP status means, or None for a success."""
    if status < 300:
        return None
    if status == 429 or status >= 500:
        return PushRetryable(
            f"{destination} answered HTTP {status}", retry_after(headers.get("retry-after"))
        )
    if status in (401, 403):
        return PushRejected(f"{destination} refused the credentials (HTTP {status})")
    return PushRejected(f"{destination} refused the request (HTTP {status})")


def _certificate_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(
            seen
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def judge_failure(destination: str, exc: BaseException) -> Exception:
    """The failure a raised exception means, for exceptions of the transport."""
    # The guard's own messages name the host; a push's reason names no destination.
    if isinstance(exc, DestinationRefused):
        return PushRejected(f"{destination} resolves to an address Audora does not call")
    if isinstance(exc, InsecureDestination):
        return PushRejected(f"{destination} is not an https URL")
    if isinstance(exc, AppError):
        return PushRejected(f"{destination} cannot be reached")
    if _certificate_failure(exc):
        return PushRejected(f"{destination}'s TLS certificate did not verify")
    if isinstance(exc, httpx.TimeoutException):
        return PushRetryable(f"{destination} did not answer in time")
    if isinstance(exc, httpx.TransportError):
        return PushRetryable(f"{destination} could not be reached ({type(exc).__name__})")
    return PushRetryable(f"sending to {destination} failed ({type(exc).__name__})")

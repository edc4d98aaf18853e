"""The incident vocabulary: severities, phases, public statuses, components, deadlines.

Severity (what staff judge; never shown as such on the status page, only through the
components' states):

- SEV1: critical. The service is down for most customers, or customer data is exposed.
- SEV2: major. A core function (uploads, processing, sign-in) fails for many customers.
- SEV3: minor. Part of the service is degraded; a workaround exists.
- SEV4: low. No customer-visible impact (a near miss, a cosmetic fault).

Phases follow NIST SP 800-61: detection, containment, eradication, recovery,
post-incident review, then closed. They move one step at a time and never back (the
service refuses it and so does a trigger in the database), so every closed incident's
timeline records each phase it went through (R1).

The public status (investigating, identified, monitoring, resolved) is what the status
page says; it moves freely until `resolved`, which is final. Resolution starts the
report's 30-day clock (R4); a confirmation of customer data involvement starts each
affected account's 72-hour notification clock (R3).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Severity(StrEnum):
    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"


class Phase(StrEnum):
    DETECTION = "detection"
    CONTAINMENT = "containment"
    ERADICATION = "eradication"
    RECOVERY = "recovery"
    POST_INCIDENT_REVIEW = "post_incident_review"
    CLOSED = "closed"


PHASES: tuple[Phase, ...] = tuple(Phase)


class PublicStatus(StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


# What the status page lists, in its order, with the names it shows.
COMPONENTS: dict[str, str] = {
    "api": "API",
    "web": "Web app",
    "uploads": "Recording uploads",
    "processing": "Transcription and documents",
    "meeting-bots": "Meeting bots",
    "integrations": "Integrations (Linear, Notion)",
    "email": "Email notifications",
}

NOTIFY_WITHIN = timedelta(hours=72)
# The notification alert fires this long before the deadline (at 48 h), then when overdue.
NOTIFY_WARN_BEFORE = timedelta(hours=24)
REPORT_WITHIN = timedelta(days=30)
REPORT_WARN_BEFORE = timedelta(days=3)

MAX_TITLE = 200
MAX_TEXT = 20_000
MAX_REPORT = 200_000


@dataclass(frozen=True)
class Actor:
    """Who did it: a signed-in staff member (console) or an operator (CLI). Private:
    kept in the timeline and the staff audit log, never on the status page."""

    label: str
    staff_id: uuid.UUID | None = None
    ip: str | None = None


@dataclass(frozen=True)
class TimelineEntry:
    id: uuid.UUID
    seq: int
    at: datetime
    actor: str
    kind: str
    phase: Phase | None
    public_status: PublicStatus | None
    # Shown on the status page when `public`; staff notes otherwise.
    message: str
    public: bool


@dataclass(frozen=True)
class AffectedTenant:
    account_id: uuid.UUID
    confirmed_at: datetime
    notify_due: datetime
    notified_at: datetime | None
    notified_owners: int


@dataclass(frozen=True)
class Incident:
    id: uuid.UUID
    title: str
    severity: Severity
    phase: Phase
    public_status: PublicStatus
    components: tuple[str, ...]
    customer_data_involved: bool
    data_affected: str | None
    actions_taken: str | None
    opened_at: datetime
    confirmed_at: datetime | None
    resolved_at: datetime | None
    report_due: datetime | None
    report_markdown: str | None
    report_published_at: datetime | None
    closed_at: datetime | None
    timeline: tuple[TimelineEntry, ...] = ()
    tenants: tuple[AffectedTenant, ...] = ()

    @property
    def notified_at(self) -> datetime | None:
        """When the last affected account was told; None while any is not."""
        if not self.tenants or any(t.notified_at is None for t in self.tenants):
            return None
        return max(t.notified_at for t in self.tenants if t.notified_at is not None)

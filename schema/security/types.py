from __future__ import annotations

from datetime import datetime

import strawberry

from audora.platform import ids
from audora.platform.vulnerability_reports.intake import Report


@strawberry.type(
    description="The receipt of a vulnerability report; the acknowledgement is emailed "
    "at once, a person answers by ackDue and the issue is resolved by resolveDue."
)
class VulnerabilityReportReceipt:
    id: strawberry.ID
    received_at: datetime
    ack_due: datetime
    resolve_due: datetime

    @classmethod
    def from_report(cls, report: Report) -> VulnerabilityReportReceipt:
        return cls(
            id=strawberry.ID(ids.encode(ids.Kind.VULNERABILITY_REPORT, report.id)),
            received_at=report.received_at,
            ack_due=report.ack_due,
            resolve_due=report.resolve_due,
        )

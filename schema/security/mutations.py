"""Reporting a vulnerability: open to anyone, signed in or not (see
`platform/vulnerability_reports/intake.py` for the limits)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from audora.platform.vulnerability_reports.intake import submit_report
from audora.schema.context import RequestContext
from audora.schema.security.inputs import ReportVulnerabilityInput
from audora.schema.security.types import VulnerabilityReportReceipt


@strawberry.type
class SecurityMutation:
    @strawberry.mutation(
        description="Report a security vulnerability; no sign-in needed. A few reports "
        "per address per hour (RATE_LIMITED beyond)."
    )
    async def report_vulnerability(
        self, info: Info[RequestContext, None], input: ReportVulnerabilityInput
    ) -> VulnerabilityReportReceipt:
        report = await submit_report(
            info.context.runtime,
            info.context.client,
            email=input.email,
            summary=input.summary,
            details=input.details,
        )
        return VulnerabilityReportReceipt.from_report(report)

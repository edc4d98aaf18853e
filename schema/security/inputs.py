from __future__ import annotations

import strawberry


@strawberry.input
class ReportVulnerabilityInput:
    email: str = strawberry.field(description="Where the acknowledgement is sent.")
    summary: str = strawberry.field(description="One line, at most 200 characters.")
    details: str = strawberry.field(
        description="Steps to reproduce and impact, at most 20,000 characters."
    )

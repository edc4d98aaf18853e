"""Helpers the incident tests share."""

from __future__ import annotations

import uuid

from audora.platform.incidents.model import Actor, Incident
from audora.platform.incidents.service import open_incident
from audora.platform.runtime import Runtime

ONCALL = Actor(label="staff:oncall-ola@audora.example", staff_id=uuid.uuid4(), ip="198.51.100.9")


async def opened(
    runtime: Runtime, title: str | None = None, severity: str = "SEV2", *components: str
) -> Incident:
    return await open_incident(
        runtime,
        ONCALL,
        title=title or f"Uploads failing {uuid.uuid4().hex[:6]}",
        severity=severity,
        components=list(components) or ["uploads"],
        message="We are investigating failed uploads.",
    )

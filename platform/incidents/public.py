"""What the public may see of incidents (R5), built field by field from an allowlist:
title, public status, components, public updates with their times, and the published
report. Never the affected accounts, the data affected, what was done, staff notes,
phases, severities or who did anything: the status page, its JSON and its feed are
all made from `status_document`, so nothing else can reach them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from audora.platform import ids
from audora.platform.incidents.model import COMPONENTS, Incident, PublicStatus, Severity

# A component's state while an unresolved incident names it, by the incident's severity.
_STATE_OF = {
    Severity.SEV1: "major_outage",
    Severity.SEV2: "partial_outage",
    Severity.SEV3: "degraded_performance",
    Severity.SEV4: "operational",
}
STATES = ("operational", "degraded_performance", "partial_outage", "major_outage")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def public_incident(incident: Incident) -> dict[str, Any]:
    updates: list[dict[str, Any]] = []
    status = PublicStatus.INVESTIGATING
    for entry in incident.timeline:
        if not entry.public:
            continue
        status = entry.public_status or status
        updates.append(
            {
                "id": str(entry.id),
                "at": entry.at.isoformat(),
                "status": status.value,
                "message": entry.message,
            }
        )
    report = None
    if incident.report_published_at is not None:
        report = {
            "published_at": incident.report_published_at.isoformat(),
            "markdown": incident.report_markdown,
        }
    return {
        "id": ids.encode(ids.Kind.INCIDENT, incident.id),
        "title": incident.title,
        "status": incident.public_status.value,
        "components": list(incident.components),
        "started_at": incident.opened_at.isoformat(),
        "resolved_at": _iso(incident.resolved_at),
        "updates": list(reversed(updates)),
        "report": report,
    }


def status_document(incidents: Sequence[Incident], now: datetime, base_url: str) -> dict[str, Any]:
    """The live state and the full history (incidents newest first, their updates
    newest first)."""
    live = [i for i in incidents if i.public_status is not PublicStatus.RESOLVED]
    states = dict.fromkeys(COMPONENTS, "operational")
    for incident in live:
        for component in incident.components:
            worse = _STATE_OF[incident.severity]
            if component in states and STATES.index(worse) > STATES.index(states[component]):
                states[component] = worse
    overall = max(states.values(), key=STATES.index)
    return {
        "page": {"name": "Audora", "url": f"{base_url}/status"},
        "updated_at": now.isoformat(),
        "status": overall,
        "components": [
            {"id": key, "name": name, "status": states[key]} for key, name in COMPONENTS.items()
        ],
        "open_incidents": [public_incident(i) for i in live],
        "incidents": [public_incident(i) for i in incidents],
    }

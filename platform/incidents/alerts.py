"""The hourly deadline alerts (R3, R4): an error log for each, and four gauges the
shipped alert rules page on (`audora_incident_{notifications,reports}_{due_soon,overdue}`,
counts only, I4):

- an affected account not yet told, 24 hours before its 72-hour deadline (at 48 h)
  and every hour once it is overdue, until it is told;
- a resolved incident's report not yet published, three days before its 30-day
  deadline and every hour once overdue, until it is published.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from audora.platform import ids
from audora.platform.incidents.model import NOTIFY_WARN_BEFORE, REPORT_WARN_BEFORE
from audora.platform.incidents.tables import incident_tenants, incidents
from audora.platform.metrics.gauges import (
    INCIDENT_NOTICES_DUE_SOON,
    INCIDENT_NOTICES_OVERDUE,
    INCIDENT_REPORTS_DUE_SOON,
    INCIDENT_REPORTS_OVERDUE,
    set_gauges,
)
from audora.platform.runtime import Runtime

log = logging.getLogger(__name__)


async def alert_deadlines(runtime: Runtime) -> int:
    """Log an error for each notification and report due soon or overdue, and count
    them in the gauges; how many."""
    now = runtime.clock.now()
    async with runtime.platform_engine.connect() as conn:
        untold = (
            await conn.execute(
                select(incident_tenants)
                .where(
                    incident_tenants.c.notified_at.is_(None),
                    incident_tenants.c.notify_due <= now + NOTIFY_WARN_BEFORE,
                )
                .order_by(incident_tenants.c.notify_due)
            )
        ).all()
        unreported = (
            await conn.execute(
                select(incidents.c.id, incidents.c.report_due)
                .where(
                    incidents.c.resolved_at.is_not(None),
                    incidents.c.report_published_at.is_(None),
                    incidents.c.report_due <= now + REPORT_WARN_BEFORE,
                )
                .order_by(incidents.c.report_due)
            )
        ).all()
    for row in untold:
        incident = ids.encode(ids.Kind.INCIDENT, row.incident_id)
        account = ids.encode(ids.Kind.ACCOUNT, row.account_id)
        if row.notify_due <= now:
            log.error(
                "incident %s: the owners of %s are not told and the 72-hour deadline "
                "(%s) has passed",
                incident,
                account,
                row.notify_due,
            )
        else:
            log.error(
                "incident %s: the owners of %s are not told; the 72-hour deadline is %s",
                incident,
                account,
                row.notify_due,
            )
    for row in unreported:
        incident = ids.encode(ids.Kind.INCIDENT, row.id)
        if row.report_due <= now:
            log.error(
                "incident %s: the post-incident report is not published and its "
                "30-day deadline (%s) has passed",
                incident,
                row.report_due,
            )
        else:
            log.error(
                "incident %s: the post-incident report is not published; due by %s",
                incident,
                row.report_due,
            )
    late_notices = sum(1 for row in untold if row.notify_due <= now)
    late_reports = sum(1 for row in unreported if row.report_due <= now)
    await set_gauges(
        runtime.redis,
        {
            INCIDENT_NOTICES_OVERDUE: late_notices,
            INCIDENT_NOTICES_DUE_SOON: len(untold) - late_notices,
            INCIDENT_REPORTS_OVERDUE: late_reports,
            INCIDENT_REPORTS_DUE_SOON: len(unreported) - late_reports,
        },
    )
    return len(untold) + len(unreported)


async def incident_alerts_job(ctx: dict[str, Any]) -> int:
    """The worker's hourly cron: alert on incident deadlines near or past."""
    runtime: Runtime = ctx["runtime"]
    return await alert_deadlines(runtime)

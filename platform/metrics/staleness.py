"""A staleness alert rule for every cron job the worker runs (I4): a job whose last
success (`audora_job_last_success_timestamp_seconds`, kept by `jobs.counted`) is older
than about twice its schedule has stopped doing its work, whether the worker is down,
the job fails every time, or arq lost it.

The rules are made from the worker's own cron schedule, so a new cron job gets its rule
by running `python -m audora.platform.metrics.staleness` and pasting the group it
prints into deploy/prometheus/audora-alerts.yml; a test fails while the file and the
schedule disagree.

How stale is too stale: for a job every few minutes, twice its period but never under
30 minutes (one slow run must not page); hourly: 2 h; daily: 26 h; weekly: 8 days.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from arq.cron import CronJob
from arq.typing import WEEKDAYS

GROUP = "audora-cron-staleness"
ALERT = "AudoraCronJobStale"
METRIC = "audora_job_last_success_timestamp_seconds"

# The jobs whose silence breaks a promise at once (retention L1, backups I2, the
# staff-access expiry, R2's check, the incident and vulnerability deadlines R3/R4/V1).
CRITICAL = frozenset(
    {
        "cron:retention_sweep_job",
        "cron:daily_backups_job",
        "cron:staff_access_sweep_job",
        "cron:unusual_activity_job",
        "cron:incident_alerts_job",
        "cron:vulnerability_report_alerts_job",
    }
)


def _matches(value: int, allowed: int | set[int] | None) -> bool:
    if allowed is None:
        return True
    if isinstance(allowed, int):
        return value == allowed
    return value in allowed


def _fires(job: CronJob, at: datetime) -> bool:
    """Does arq run `job` in the minute starting at `at`? (arq's weekday: Monday is 0.)"""
    weekday = job.weekday
    if isinstance(weekday, str):
        weekday = WEEKDAYS.index(weekday.lower())
    return (
        _matches(at.month, job.month)
        and _matches(at.day, job.day)
        and _matches(at.weekday(), weekday)
        and _matches(at.hour, job.hour)
        and _matches(at.minute, job.minute)
    )


def cron_period(job: CronJob) -> timedelta:
    """The longest time between two runs of `job`, over two weeks of its schedule."""
    start = datetime(2024, 1, 1)  # a Monday
    minutes = 14 * 24 * 60
    runs = [m for m in range(minutes) if _fires(job, start + timedelta(minutes=m))]
    if not runs:
        raise ValueError(f"{job.name} does not run within two weeks")
    gaps = [b - a for a, b in pairwise(runs)]
    gaps.append(runs[0] + minutes - runs[-1])  # around the end of the fortnight
    return timedelta(minutes=max(gaps))


def stale_after(period: timedelta) -> timedelta:
    """How long without a success before the alert fires."""
    if period <= timedelta(hours=1):
        return max(2 * period, timedelta(minutes=30))
    if period <= timedelta(days=1):
        return period + timedelta(hours=2)
    return period + timedelta(days=1)


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def staleness_rules(jobs: Iterable[CronJob]) -> list[dict[str, Any]]:
    """One rule per cron job, in the worker's order."""
    rules: list[dict[str, Any]] = []
    for job in jobs:
        limit = stale_after(cron_period(job))
        name = job.name
        rules.append(
            {
                "alert": ALERT,
                "expr": (f'time() - {METRIC}{{function="{name}"}} > {int(limit.total_seconds())}'),
                "labels": {"severity": "critical" if name in CRITICAL else "warning"},
                "annotations": {
                    "summary": f"{name} has not succeeded in {_span(limit)}",
                    "description": (
                        "Is a worker running (`audora worker`)? Its log and "
                        f'audora_job_runs_total{{function="{name}"}} tell whether the job '
                        "fails or never starts."
                    ),
                },
            }
        )
    return rules


def rules_yaml(jobs: Sequence[CronJob]) -> str:
    """The staleness group as YAML, indented as an item of the rules file's `groups`.
    Strings are written as JSON strings, which YAML reads as double-quoted scalars."""
    lines = [f"  - name: {GROUP}", "    rules:"]
    for rule in staleness_rules(jobs):
        lines += [
            f"      - alert: {rule['alert']}",
            f"        expr: {json.dumps(rule['expr'])}",
            "        labels:",
            *(f"          {k}: {json.dumps(v)}" for k, v in rule["labels"].items()),
            "        annotations:",
            *(f"          {k}: {json.dumps(v)}" for k, v in rule["annotations"].items()),
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    from audora.platform.jobs.worker import CRON_JOBS

    sys.stdout.write(rules_yaml(CRON_JOBS))

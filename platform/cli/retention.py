"""`audora retention run`: every retention action due now, at once (the worker's cron
runs the same code every ten minutes); `audora retention schedule` prints the table."""

from __future__ import annotations

import argparse
import json
import sys

from audora.platform.config import get_settings
from audora.platform.runtime import Runtime
from audora.tenants.lifecycle.jobs import run_due_retention
from audora.tenants.lifecycle.schedule import render_markdown


async def retention(args: argparse.Namespace) -> int:
    if args.retention_command == "schedule":
        sys.stdout.write(render_markdown())
        return 0
    runtime = Runtime.open(get_settings())
    try:
        run = await run_due_retention(runtime)
    finally:
        await runtime.close()
    summary = {
        "tenants": run.tenants,
        "recordings_erased": run.recordings_erased,
        "objects_deleted": run.objects_deleted,
        "objects_left": run.objects_left,
        "overdue": run.overdue,
        "exports_expired": run.exports_expired,
        "pushes_deleted": run.pushes_deleted,
        "billing_records_deleted": run.billing_records_deleted,
        "purged": run.purged,
        "expired_credentials": run.expired_credentials,
        "failed_tenants": run.failed_tenants,
    }
    sys.stdout.write(json.dumps(summary) + "\n")
    return 1 if run.failed_tenants or run.objects_left else 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("retention", help="the retention schedule and its jobs")
    retention_sub = parser.add_subparsers(dest="retention_command", required=True)
    retention_sub.add_parser("run", help="run every retention action due now")
    retention_sub.add_parser("schedule", help="print the retention schedule")

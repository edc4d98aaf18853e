"""`audora vuln list [--open]`: vulnerability reports as JSON lines, with their due dates.
`audora vuln ack ID` / `audora vuln resolve ID`: a person has answered the reporter /
the report is fixed or closed; either stops the overdue alert it was due for."""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from datetime import datetime

from audora.platform import ids
from audora.platform.config import get_settings
from audora.platform.errors import AppError
from audora.platform.runtime import Runtime
from audora.platform.vulnerability_reports import intake


def _report_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value.removeprefix(f"{ids.Kind.VULNERABILITY_REPORT.value}_"))
    except ValueError:
        return None


async def vuln(args: argparse.Namespace) -> int:
    runtime = Runtime.open(get_settings())
    try:
        if args.vuln_command == "list":
            for report in await intake.list_reports(runtime, open_only=args.open):
                record = {
                    "id": ids.encode(ids.Kind.VULNERABILITY_REPORT, report.id),
                    "email": report.email,
                    "summary": report.summary,
                    "received_at": report.received_at.isoformat(),
                    "ack_due": report.ack_due.isoformat(),
                    "resolve_due": report.resolve_due.isoformat(),
                    "acknowledged_at": _iso(report.acknowledged_at),
                    "resolved_at": _iso(report.resolved_at),
                }
                sys.stdout.write(json.dumps(record) + "\n")
            return 0
        report_id = _report_id(args.id)
        if report_id is None:
            sys.stderr.write(f"audora vuln {args.vuln_command}: not a report id: {args.id}\n")
            return 2
        handle = intake.acknowledge if args.vuln_command == "ack" else intake.resolve
        try:
            await handle(runtime, report_id)
        except AppError as exc:
            sys.stderr.write(f"audora vuln {args.vuln_command}: {exc.message}\n")
            return 1
        return 0
    finally:
        await runtime.close()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("vuln", help="vulnerability reports (reportVulnerability)")
    vuln_sub = parser.add_subparsers(dest="vuln_command", required=True)
    listing = vuln_sub.add_parser("list", help="reports as JSON lines, oldest first")
    listing.add_argument("--open", action="store_true", help="only reports not yet resolved")
    ack = vuln_sub.add_parser("ack", help="a person has answered the reporter")
    ack.add_argument("id", help="the report id (vul_<hex> or a UUID)")
    resolve = vuln_sub.add_parser("resolve", help="fixed, or closed as not a vulnerability")
    resolve.add_argument("id", help="the report id (vul_<hex> or a UUID)")

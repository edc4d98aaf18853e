"""`audora subprocessors list`: the registry as JSON lines, each entry with its recorded
announcements and `announced`, the day every owner had been told of its registered
effective date (null: not announced, or no announcement owed: see `notice_owed`).
`audora subprocessors announce --name X --effective YYYY-MM-DD`: email every live
account's owner about a registered subprocessor, refused unless the date is at least
14 days ahead by the application clock, then record it; exit 1 if any message was not
accepted (run it again: the incomplete record does not count)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from audora.platform.config import get_settings
from audora.platform.errors import AppError
from audora.platform.runtime import Runtime
from audora.platform.subprocessors import registry
from audora.platform.subprocessors.announce import announce
from audora.platform.subprocessors.pages import published
from audora.platform.subprocessors.records import announcements


async def _list() -> int:
    runtime = Runtime.open(get_settings())
    try:
        recorded = await announcements(runtime.platform_engine)
    finally:
        await runtime.close()
    for entry in registry.REGISTRY:
        line = {
            **published(entry, recorded),
            "announcements": [a.as_json() for a in recorded if a.subprocessor == entry.key],
        }
        sys.stdout.write(json.dumps(line) + "\n")
    return 0


async def subprocessors(args: argparse.Namespace) -> int:
    if args.subprocessors_command == "list":
        return await _list()
    try:
        effective = date.fromisoformat(args.effective)
    except ValueError:
        sys.stderr.write(f"audora subprocessors announce: not a date: {args.effective}\n")
        return 2
    runtime = Runtime.open(get_settings())
    try:
        done = await announce(runtime, args.name, effective)
    except AppError as exc:
        sys.stderr.write(f"audora subprocessors announce: {exc.message}\n")
        return 1
    finally:
        await runtime.close()
    record = done.announcement
    if not record.complete:
        sys.stderr.write(
            f"audora subprocessors announce: only {record.sent} of {record.recipients}"
            " account owners were reached; recorded as incomplete, run it again\n"
        )
        return 1
    sys.stdout.write(f"announced to {record.sent} account owners; recorded\n")
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("subprocessors", help="the subprocessor registry")
    sub_sub = parser.add_subparsers(dest="subprocessors_command", required=True)
    sub_sub.add_parser("list", help="the registry as JSON lines")
    notice = sub_sub.add_parser("announce", help="email every account owner about one")
    notice.add_argument("--name", required=True, help="its registry key or name")
    notice.add_argument("--effective", required=True, help="its effective date, YYYY-MM-DD")
